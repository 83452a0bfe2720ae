"""Who a send is for: a contact by id, or the live contact owning a phone number or an email address."""
from __future__ import annotations

import re

from backend.errors import NotFound, ValidationError
from backend.models.contact import ContactModel
from backend.services.platform.validation import normalise_email
from backend.services.contacts.fields import normalise_phone
from backend.services.contacts.contacts import live_contact_row, owner_of
from backend.services.platform.settings_catalog import default_region

_E164 = re.compile(r"^\+[1-9]\d{5,14}$")


def recipient_contact(contact_id: str | None, to: str | None, kind: str) -> ContactModel:
    """The contact a request names (`contactId`, else `to` as a `kind` address: "phone" or "email"), with
    that address present. A number exactly as a provider gave it to us is found as is; anything else is
    normalised (and validated) first."""
    if contact_id:
        contact = live_contact_row(contact_id, consistent=True)
    elif to:
        address = _normalised(to.strip(), kind)
        owner = owner_of(kind, address)
        if owner is None:
            raise NotFound(f"to: no contact has the {kind} {address}; create the contact first", field="to")
        contact = live_contact_row(owner, consistent=True)
    else:
        raise ValidationError("contactId: give contactId or to", field="contactId")
    if not getattr(contact, kind):
        raise ValidationError(f"contactId: {contact.name} has no {'phone number' if kind == 'phone' else 'email address'}", field="contactId")
    return contact


def _normalised(value: str, kind: str) -> str:
    if kind == "email":
        return normalise_email(value)
    if _E164.match(value) and owner_of("phone", value):
        return value
    return normalise_phone(value, default_region())
