"""Consent belongs to the address: a contact's consent records, and the customer's opt-outs kept per address.

A customer says STOP (or bounces, or complains) from an address, not from a contact row. So each opt-out is
also written under the address (`ContactUniqueKey.suppression_key`, in the Contact table, in the same unit of
work as the contact's own record) and removed only by the customer's own opt-in. Every write that puts an
address on a contact (create, update, import, a first message from a new number) copies the opt-outs on it
onto the row, with their original when and how, so the contact row stays the one thing a send checks. And
consent given for one address does not carry over to another: changing a phone or email resets the
channels on it to "not opted in" (source ADDRESS_CHANGED).
"""
from __future__ import annotations

from datetime import datetime

from backend.models.contact import ChannelConsents, ConsentRecord, ContactModel, ContactUniqueKey
from backend.services.contacts.schemas import CHANNELS, CONSENT_FIELDS
from backend.services.rules.channels import channel_info
from backend.services.rules.consent import ADDRESS_CHANGED
from backend.services.storage.unit_of_work import UnitOfWork

Suppressions = dict[str, ConsentRecord]  # suppression key -> the customer's opt-out record


def set_consent(row: ContactModel, channel: str, opted_in: bool, source: str, now: datetime, provider_id: str | None = None) -> None:
    """Set the channel's opt-in flag and its record (when, how, and the customer's message that said so)."""
    setattr(row, CONSENT_FIELDS[channel], opted_in)
    if row.consent is None:
        row.consent = ChannelConsents()
    setattr(row.consent, channel, ConsentRecord(at=now, source=source, optedIn=opted_in, providerId=provider_id))


def consent_record(row: ContactModel, channel: str) -> ConsentRecord | None:
    return getattr(row.consent, channel, None) if row.consent is not None else None


def address_for(holder, channel: str) -> str | None:
    """The address a channel's consent is for, on a contact row or its validated fields (phone or email)."""
    return holder.email if channel_info(channel).address == "email" else holder.phone


def reset_for_new_address(row: ContactModel, kind: str, now: datetime) -> list[str]:
    """The channels on the contact's `kind` address ("phone" or "email") start over, not opted in: what the
    customer agreed to (or refused) was for the old address. The opt-in flags that changed."""
    changed = []
    for channel in CHANNELS:
        attr = CONSENT_FIELDS[channel]
        if channel_info(channel).address == kind and (getattr(row, attr) or consent_record(row, channel) is not None):
            set_consent(row, channel, False, ADDRESS_CHANGED, now)
            changed.append(attr)
    return changed


def suppression_keys(phone: str | None, email: str | None) -> list[str]:
    """The keys of every opt-out that could be kept for these addresses (one per channel on each)."""
    addresses = {"phone": phone, "email": email}
    return [
        ContactUniqueKey.suppression_key(channel, addresses[channel_info(channel).address])
        for channel in CHANNELS
        if addresses[channel_info(channel).address]
    ]


def read_suppressions(keys: list[str]) -> Suppressions:
    """The opt-outs kept under these keys: one BatchGetItem per 100 keys, none for no keys."""
    if not keys:
        return {}
    return {row.contactId: row.record for row in ContactUniqueKey.batch_get(keys, consistent_read=True) if row.record is not None}


def apply_suppressions(row: ContactModel, found: Suppressions) -> list[str]:
    """Copy the customer's opt-outs on the row's addresses onto it: the channel is off, with the original when
    and how (so only the customer can lift it, `rules.consent.check_business_opt_in`). The flags that changed."""
    changed = []
    for channel in CHANNELS:
        address = address_for(row, channel)
        kept = found.get(ContactUniqueKey.suppression_key(channel, address)) if address else None
        current = consent_record(row, channel)
        if kept is None or (current is not None and (current.at, current.source, current.optedIn) == (kept.at, kept.source, False)):
            continue
        set_consent(row, channel, False, kept.source, kept.at, provider_id=kept.providerId)
        changed.append(CONSENT_FIELDS[channel])
    return changed


def customer_consent(work: UnitOfWork, row: ContactModel, channel: str, opted_in: bool, source: str, at: datetime,
                     provider_id: str | None = None) -> None:
    """The customer's own word on a channel (STOP/START, a bounce, a complaint): the contact's record and, in
    the same unit of work, the opt-out kept under the address (written on an opt-out, removed on an opt-in)."""
    set_consent(row, channel, opted_in, source, at, provider_id=provider_id)
    address = address_for(row, channel)
    if not address:
        return
    key = ContactUniqueKey.suppression_key(channel, address)
    if opted_in:
        work.delete(ContactUniqueKey(contactId=key, ownerId=row.contactId))
        return
    record = ConsentRecord(at=at, source=source, optedIn=False, providerId=provider_id)
    work.save(ContactUniqueKey(contactId=key, ownerId=row.contactId, record=record))
