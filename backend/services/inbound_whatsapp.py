"""Inbound WhatsApp: store every customer message exactly once, keep the conversation and consent current,
fetch media, and apply delivery statuses. Called by the SNS Lambda, the webhook routes and the sandbox."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from backend.models.contact import ContactModel
from backend.models.messaging import PENDING_MEDIA, MessageMedia, MessageModel
from backend.services.access import Actor
from backend.services.audit import audit_row
from backend.services.consent_keywords import consent_keyword
from backend.services.contacts import set_consent
from backend.services.inbound_media import fetch_media
from backend.services.message_rows import activity_actions, apply_activity, inbound_message_id, new_message_row
from backend.services.message_schemas import PROVIDER_STATUSES
from backend.services.message_status import ProviderStatus, apply_status
from backend.services.sender_contacts import contact_for_sender, sender_ids
from backend.services.unit_of_work import UnitOfWork, WriteConflict
from backend.services.whatsapp_events import InboundMessage, ParsedEvents, StatusUpdate
from backend.services.whatsapp_send import queue_system_text

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
INBOUND = Actor.system("whatsapp-inbound")
CONFIRMATIONS = {
    "opt_out": "You have been unsubscribed from WhatsApp messages from us. Reply START to subscribe again.",
    "opt_in": "You are subscribed to WhatsApp messages from us again. Reply STOP to unsubscribe.",
}


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    statuses_applied: int = 0
    statuses_ignored: int = 0
    consent_changes: int = 0
    rejected: list[str] = field(default_factory=list)

    def add(self, other: "IngestReport") -> None:
        for name in ("stored", "duplicates", "statuses_applied", "statuses_ignored", "consent_changes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.extend(other.rejected)


def ingest(events: ParsedEvents) -> IngestReport:
    report = IngestReport(rejected=list(events.rejected))
    for message in events.messages:
        stored, keyword = ingest_message(message)
        report.stored += stored
        report.duplicates += not stored
        report.consent_changes += bool(keyword)
    for status in events.statuses:
        applied = apply_whatsapp_status(status)
        report.statuses_applied += applied
        report.statuses_ignored += not applied
    if report.rejected:
        log.warning("whatsapp events rejected: %s", "; ".join(report.rejected))
    return report


def ingest_message(message: InboundMessage) -> tuple[bool, str | None]:
    """(stored, consent keyword acted on). A redelivered message is recognised by its key and skipped.

    The hot path is one transaction: the message (conditional on its key: exactly once) and the contact's
    conversation summary (conditional on the contact still owning the number, so a cached sender lookup can
    never attach a message to a deleted or renumbered contact).
    """
    message_id = inbound_message_id(CHANNEL, message.provider_message_id)
    keyword = consent_keyword(CHANNEL, message.text) if message.kind == "text" else None
    if keyword in ("opt_out", "opt_in"):
        return _ingest_keyword(message, message_id, keyword)
    row = _message_row(message, message_id, "")
    for _ in range(3):
        contact_id = sender_ids.get(message.from_phone) or _resolve_sender(message).contactId
        row.contactId = contact_id
        work = UnitOfWork()
        work.save(row, MessageModel.messageId.does_not_exist(), label="message")
        work.update(
            ContactModel(contactId=contact_id, version=0),  # version is bumped server-side, never compared
            activity_actions(at=message.timestamp, preview=message.summary, channel=CHANNEL, direction="inbound"),
            condition=ContactModel.deletedAt.does_not_exist() & (ContactModel.phone == message.from_phone),
            label="contact",
        )
        try:
            work.commit()
        except WriteConflict as conflict:
            if "message" in conflict.labels:
                return False, None
            sender_ids.forget(message.from_phone)  # the contact was deleted or renumbered: look again
            continue
        if message.media is not None:
            fetch_media(row)
        return True, None
    raise RuntimeError(f"could not store WhatsApp message {message.provider_message_id} after 3 attempts")


def _resolve_sender(message: InboundMessage) -> ContactModel:
    contact = contact_for_sender(INBOUND, "phone", message.from_phone, display_name=message.profile_name, via=CHANNEL)
    sender_ids.put(message.from_phone, contact.contactId)
    return contact


def _ingest_keyword(message: InboundMessage, message_id: str, keyword: str) -> tuple[bool, str | None]:
    """STOP/START: the consent change, its audit row and the message commit together; then the confirmation."""
    contact = _resolve_sender(message)
    for _ in range(5):
        row = _message_row(message, message_id, contact.contactId)
        work = UnitOfWork()
        work.save(row, MessageModel.messageId.does_not_exist(), label="message")
        _record_keyword(work, contact, message, message_id, opted_in=keyword == "opt_in")
        try:
            work.commit()
        except WriteConflict as conflict:
            if "message" in conflict.labels:
                return False, None
            contact = ContactModel.get(contact.contactId, consistent_read=True)  # edited meanwhile: redo
            continue
        queue_system_text(INBOUND, contact, CONFIRMATIONS[keyword], reason=f"keyword-{keyword}")
        return True, keyword
    raise RuntimeError(f"could not store WhatsApp message {message.provider_message_id} after 5 attempts")


def _message_row(message: InboundMessage, message_id: str, contact_id: str) -> MessageModel:
    media = None
    if message.media is not None:
        media = MessageMedia(
            kind=message.media.kind,
            status="pending",
            providerMediaId=message.media.media_id,
            mimeType=message.media.mime_type,
            filename=message.media.filename,
            caption=message.media.caption,
        )
    return new_message_row(
        message_id=message_id,
        channel=CHANNEL,
        direction="inbound",
        status="RECEIVED",
        now=message.timestamp,
        contactId=contact_id,
        kind=message.kind,
        body=message.text if message.kind == "text" or (media is not None and message.text) else message.summary,
        payload=message.raw,
        media=media,
        address=message.from_phone,
        sender=message.phone_number_id,
        providerMessageId=message.provider_message_id,
        replyTo=message.reply_to or message.reaction_to,
        pendingWork=PENDING_MEDIA if media is not None else None,
    )


def _record_keyword(work: UnitOfWork, contact: ContactModel, message: InboundMessage, message_id: str, *, opted_in: bool) -> None:
    word = (message.text or "").strip().upper()
    set_consent(contact, CHANNEL, opted_in, f"WhatsApp keyword {word}", message.timestamp)
    apply_activity(contact, at=message.timestamp, preview=message.summary, channel=CHANNEL, direction="inbound")
    contact.updatedAt = message.timestamp
    work.save(contact)  # versioned: a concurrent edit makes this retry on a fresh row
    work.save(
        audit_row(
            INBOUND, "contact.consent", "contact", contact.contactId, ["optInWhatsApp"],
            {"channel": CHANNEL, "optedIn": opted_in, "keyword": word, "messageId": message_id},
        )
    )


def apply_whatsapp_status(status: StatusUpdate) -> bool:
    mapped = PROVIDER_STATUSES.get(status.status)
    if mapped is None:
        return False
    return apply_status(
        ProviderStatus(
            channel=CHANNEL,
            provider_message_id=status.provider_message_id,
            status=mapped,
            at=status.timestamp,
            error_code=status.error_code,
            error_detail=" - ".join(filter(None, (status.error_title, status.error_detail))) or None,
            message_id=_our_id(status.raw.get("biz_opaque_callback_data")),
        )
    )


def _our_id(value) -> str | None:
    return value if isinstance(value, str) and len(value) == 32 and value.isalnum() else None
