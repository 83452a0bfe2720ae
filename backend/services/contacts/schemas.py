"""The typed shapes of contacts crossing the service boundary (JSON in camelCase)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from backend.services.rules.channels import CHANNELS as _CATALOG
from backend.services.platform.api_model import ApiModel as _Api

# The consent records a contact carries and the opt-in flag of each (from the channel catalog).
CONSENT_FIELDS = {i.consent.record: i.consent.opt_in_field for i in _CATALOG.values() if i.consent.opt_in_field}
CHANNELS = tuple(CONSENT_FIELDS)


class ContactCreate(_Api):
    """A new contact; with no name it is shown by its phone (or email)."""

    name: str | None = Field(default=None, max_length=1000)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=1000)
    opt_in_whatsapp: StrictBool = Field(default=False, alias="optInWhatsApp")
    opt_in_sms: StrictBool = False
    opt_in_email: StrictBool = False
    opt_in_voice: StrictBool = False
    tags: list[str] = Field(default_factory=list, max_length=200)


class ContactUpdate(_Api):
    """A partial update: only the fields present change; `null` clears phone or email. A new phone or email
    starts its channels not opted in; an opt-in sent with the value the contact already had (a form echoing
    its switches) is not a new consent for the new address."""

    name: str | None = Field(default=None, max_length=1000)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=1000)
    opt_in_whatsapp: StrictBool | None = Field(default=None, alias="optInWhatsApp")
    opt_in_sms: StrictBool | None = None
    opt_in_email: StrictBool | None = None
    opt_in_voice: StrictBool | None = None
    tags: list[str] | None = Field(default=None, max_length=200)


class ConsentState(_Api):
    opted_in: bool
    at: datetime
    source: str


class ChannelStatus(_Api):
    """Whether the business may message the contact on one channel now, and why not: the views carry the rule's
    verdict so no page works it out again."""

    opted_out: bool = False  # the customer's own opt-out; only they can lift it
    can_send: bool = False  # a business-initiated message (on WhatsApp: a template)
    can_reply: bool = False  # a free-form reply (on WhatsApp: only inside the 24-hour window)
    reason: str | None = None  # why not can_send (or, on WhatsApp, why not can_reply when can_send)


class Contact(_Api):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    contact_id: str
    name: str
    phone: str | None = None
    email: str | None = None
    opt_in_whatsapp: bool = Field(default=False, alias="optInWhatsApp")
    opt_in_sms: bool = False
    opt_in_email: bool = False
    opt_in_voice: bool = False
    consent: dict[str, ConsentState] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    last_inbound_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    created_via: str | None = None
    channels: dict[str, ChannelStatus] = Field(default_factory=dict)  # per channel of the catalog
    window_closes_at: datetime | None = None  # WhatsApp's 24-hour window (None: the customer never wrote)

    def to_api(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


class ContactPage(BaseModel):
    items: list[Contact]
    next_token: str | None = None

    def to_api(self) -> dict:
        return {"items": [c.to_api() for c in self.items], "nextToken": self.next_token}
