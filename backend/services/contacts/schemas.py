"""The typed shapes of contacts crossing the service boundary (JSON in camelCase)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from backend.services.platform.api_model import ApiModel as _Api

CHANNELS = ("whatsapp", "sms", "email")
CONSENT_FIELDS = {"whatsapp": "optInWhatsApp", "sms": "optInSms", "email": "optInEmail"}


class ContactCreate(_Api):
    name: str = Field(max_length=1000)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=1000)
    opt_in_whatsapp: StrictBool = Field(default=False, alias="optInWhatsApp")
    opt_in_sms: StrictBool = False
    opt_in_email: StrictBool = False
    consent_source: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=200)


class ContactUpdate(_Api):
    """A partial update: only the fields present change; `null` clears phone or email."""

    name: str | None = Field(default=None, max_length=1000)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=1000)
    opt_in_whatsapp: StrictBool | None = Field(default=None, alias="optInWhatsApp")
    opt_in_sms: StrictBool | None = None
    opt_in_email: StrictBool | None = None
    consent_source: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=200)


class ConsentState(_Api):
    opted_in: bool
    at: datetime
    source: str


class Contact(_Api):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    contact_id: str
    name: str
    phone: str | None = None
    email: str | None = None
    opt_in_whatsapp: bool = Field(default=False, alias="optInWhatsApp")
    opt_in_sms: bool = False
    opt_in_email: bool = False
    consent: dict[str, ConsentState] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    last_inbound_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    created_via: str | None = None

    def to_api(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


class ContactPage(BaseModel):
    items: list[Contact]
    next_token: str | None = None

    def to_api(self) -> dict:
        return {"items": [c.to_api() for c in self.items], "nextToken": self.next_token}
