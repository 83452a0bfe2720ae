"""Inbound WhatsApp: store every customer message exactly once, keep the conversation and consent current,
fetch media, and apply delivery statuses. Called by the SNS Lambda, the webhook routes and the sandbox."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from backend.models.contact import ContactModel
from backend.models.messaging import PENDING_MEDIA, MessageMedia, MessageModel
from backend.services.platform.access import Actor
from backend.services.messaging.consent_keywords import consent_keyword
from backend.services.channels.whatsapp.inbound_media import fetch_media
from backend.services.messaging.rows import inbound_message_id, new_message_row
from backend.services.messaging.statuses import PROVIDER_STATUSES
from backend.services.messaging.statuses import ProviderStatus, apply_status
from backend.services.messaging.inbound_store import resolve_sender, store_inbound, store_with_consent_change
from backend.adapters.channels.whatsapp_events import InboundMessage, ParsedEvents, StatusUpdate
from backend.services.channels.whatsapp.send import queue_system_text

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

    def counts(self) -> dict:
        """The summary a door answers with (camelCase)."""
        return {
            "stored": self.stored, "duplicates": self.duplicates, "statusesApplied": self.statuses_applied,
            "statusesIgnored": self.statuses_ignored, "consentChanges": self.consent_changes, "rejected": self.rejected,
        }


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
        contact = store_with_consent_change(
            INBOUND, _resolve_sender(message), lambda contact_id: _message_row(message, message_id, contact_id),
            opted_in=keyword == "opt_in", word=(message.text or "").strip().upper(), preview=message.summary,
            at=message.timestamp,
        )
        if contact is None:
            return False, None
        queue_system_text(INBOUND, contact, CONFIRMATIONS[keyword], reason=f"keyword-{keyword}")
        return True, keyword
    row = _message_row(message, message_id, "")
    if store_inbound(row, address=message.from_phone, preview=message.summary, resolve=lambda: _resolve_sender(message)) is None:
        return False, None
    if message.media is not None:
        fetch_media(row)
    return True, None


def _resolve_sender(message: InboundMessage) -> ContactModel:
    return resolve_sender(INBOUND, message.from_phone, display_name=message.profile_name, channel=CHANNEL)


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
