"""Storing a customer's message, the same way on every channel: exactly once, on the right contact, with
the conversation summary (and, for STOP/START, the consent change and its audit row) in one transaction.

`lastInboundAt` (which opens WhatsApp's 24-hour window) only moves forward: a message that arrives after a
newer one leaves it where it is. A STOP/START is applied once by its provider id, even after its Message row
has expired: the consent record keeps the id of the word it applied."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.platform.access import Actor
from backend.services.platform.audit import audit_row
from backend.services.rules.channels import channel_info
from backend.services.rules.consent import customer_source, is_customers_word
from backend.services.contacts.schemas import CONSENT_FIELDS
from backend.services.contacts.address_consent import consent_record, customer_consent
from backend.services.storage.expiring_map import ExpiringMap
from backend.services.storage.group_commit import inbound_commits
from backend.services.messaging.rows import activity_actions, apply_activity, opens_window
from backend.services.contacts.senders import contact_for_sender, sender_ids
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict


# Ids of messages this process stored (or found stored) recently. Providers redeliver within minutes, often
# to the same process: such a redelivery is answered here without a write. Only ids that are durably stored
# go in, so a hit is always right; a miss falls through to the conditional write, which remains the guarantee.
stored_ids: ExpiringMap[bool] = ExpiringMap(capacity=200_000, ttl_seconds=3600.0)


def resolve_sender(actor: Actor, address: str, *, display_name: str | None, channel: str) -> ContactModel:
    """The contact owning the phone number (created if nobody does), remembered for the hot path."""
    contact = contact_for_sender(actor, "phone", address, display_name=display_name, via=channel)
    sender_ids.put(address, contact.contactId)
    return contact


def store_inbound(row: MessageModel, *, address: str, preview: str, resolve: Callable[[], ContactModel]) -> str | None:
    """The hot path, one transaction: the message (conditional on its key: exactly once) and the contact's
    conversation summary (conditional on the contact still owning the number, so a remembered sender can
    never attach a message to a deleted or renumbered contact). The contact id, or None for a redelivery."""
    if stored_ids.get(row.messageId):
        return None
    late = False  # a newer message is already in: this one must not move lastInboundAt back
    for _ in range(3):
        contact_id = sender_ids.get(address) or resolve().contactId
        row.contactId = contact_id
        owned = ContactModel.deletedAt.does_not_exist() & (ContactModel.phone == address)
        newest = ContactModel.lastInboundAt.does_not_exist() | (ContactModel.lastInboundAt <= row.createdAt)
        if not opens_window(row.channel):
            late = True  # a message that opens no window never moves lastInboundAt: no need to compare
        work = UnitOfWork()
        work.save(row, MessageModel.messageId.does_not_exist(), label="message")
        work.update(
            ContactModel(contactId=contact_id, version=0),  # version is bumped server-side, never compared
            activity_actions(at=row.createdAt, preview=preview, channel=row.channel, direction="inbound", latest=not late),
            condition=owned if late else owned & newest,
            label="contact",
        )
        try:
            inbound_commits.commit(work)  # shared with concurrent deliveries: one call for many messages
        except WriteConflict as conflict:
            if "message" in conflict.labels:
                stored_ids.put(row.messageId, True)
                return None
            if not late and _has_newer_inbound(contact_id, address, row.createdAt):
                late = True  # the contact is fine: the message is older than its last one
                continue
            sender_ids.forget(address)  # the contact was deleted or renumbered: look again
            continue
        stored_ids.put(row.messageId, True)
        return contact_id
    raise RuntimeError(f"could not store inbound {row.channel} message {row.messageId} after 3 attempts")


def _has_newer_inbound(contact_id: str, address: str, at: datetime) -> bool:
    """Whether the contact still owns `address` and has a message newer than `at` (read only when the
    conditional write failed, to tell a late message from a deleted or renumbered contact)."""
    try:
        contact = ContactModel.get(contact_id, consistent_read=True)
    except ContactModel.DoesNotExist:
        return False
    newer = contact.lastInboundAt is not None and contact.lastInboundAt > at
    return contact.deletedAt is None and contact.phone == address and newer


def store_with_consent_change(
    actor: Actor, contact: ContactModel, row_for: Callable[[str], MessageModel], *, opted_in: bool, word: str, preview: str, at: datetime
) -> ContactModel | None:
    """STOP/START: the message, the consent change (source: the keyword; kept under the address too, see
    `contacts.address_consent`), its audit row and the summary commit together. The contact as saved, or None
    when nothing should follow (no confirmation): a redelivery, or a word said before the customer's consent
    already recorded (stored and audited, but their later word stands)."""
    channel = row_for(contact.contactId).channel
    for _ in range(5):
        row = row_for(contact.contactId)
        current = consent_record(contact, channel)
        if current is not None and row.providerMessageId and current.providerId == row.providerMessageId:
            return None  # this very word was applied already; its Message row may have expired since
        work = UnitOfWork()
        work.save(row, MessageModel.messageId.does_not_exist(), label="message")
        # Consent follows the customer's words in the order they said them, not the order they arrived: a START
        # sent before a STOP that was already applied changes nothing. (Against the business's records the
        # customer's word always applies: a STOP is honoured whenever it arrives.)
        in_order = current is None or current.at is None or not is_customers_word(current.source) or current.at <= at
        if in_order:
            source = customer_source(f"{channel_info(channel).label} keyword {word}")
            customer_consent(work, contact, channel, opted_in, source, at, provider_id=row.providerMessageId)
        apply_activity(contact, at=at, preview=preview, channel=channel, direction="inbound")
        contact.updatedAt = at
        work.save(contact)  # versioned: a concurrent edit makes this retry on a fresh row
        details = {"channel": channel, "optedIn": opted_in, "keyword": word, "messageId": row.messageId}
        if not in_order:
            details["applied"] = f"no: an earlier word than the consent recorded at {current.at.isoformat()}"
        work.save(audit_row(actor, "contact.consent", "contact", contact.contactId, [CONSENT_FIELDS[channel]], details))
        try:
            work.commit()
        except WriteConflict as conflict:
            if "message" in conflict.labels:
                return None
            contact = ContactModel.get(contact.contactId, consistent_read=True)  # edited meanwhile: redo
            continue
        return contact if in_order else None
    raise RuntimeError(f"could not store inbound {channel} keyword message after 5 attempts")
