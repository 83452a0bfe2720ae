"""Inbound SMS: store every customer text exactly once, keep the conversation and consent current, answer
STOP/START/HELP, and apply delivery events. Called by the SNS door and the sandbox."""
from __future__ import annotations

import logging
from datetime import datetime

from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.platform.access import Actor
from backend.services.messaging.consent_keywords import consent_keyword
from backend.services.channels.whatsapp.inbound import IngestReport
from backend.services.messaging.rows import inbound_message_id, new_message_row
from backend.services.messaging.statuses import ProviderStatus, apply_status
from backend.services.messaging.inbound_store import resolve_sender, store_inbound, store_with_consent_change
from backend.adapters.channels.sms_events import InboundSms, SmsDeliveryEvent, parse_sms_sns_message
from backend.services.channels.sms.send import queue_system_sms

log = logging.getLogger(__name__)

CHANNEL = "sms"
INBOUND = Actor.system("sms-inbound")
REPLIES = {
    "opt_out": "You have been unsubscribed from SMS messages from us. Reply START to subscribe again.",
    "opt_in": "You are subscribed to SMS messages from us again. Reply STOP to unsubscribe.",
    "help": "WECARE.DIGITAL: reply to this number to reach our team. Reply STOP to unsubscribe, START to "
            "subscribe again. Msg & data rates may apply.",
}


def ingest_sms_event(message: str | bytes | dict, *, received_at: datetime | None = None) -> IngestReport:
    """One SNS `Message`: a customer's text or a delivery event. Raises MalformedEvent for an unusable one."""
    event = parse_sms_sns_message(message, received_at=received_at)
    report = IngestReport()
    if isinstance(event, InboundSms):
        stored, keyword = ingest_inbound_sms(event)
        report.stored += stored
        report.duplicates += not stored
        report.consent_changes += keyword in ("opt_out", "opt_in")
    else:
        applied = apply_sms_event(event)
        report.statuses_applied += applied
        report.statuses_ignored += not applied
    return report


def ingest_inbound_sms(sms: InboundSms) -> tuple[bool, str | None]:
    """(stored, keyword acted on). A redelivered text is recognised by its key and skipped, reply and all."""
    message_id = inbound_message_id(CHANNEL, sms.inbound_message_id)
    keyword = consent_keyword(CHANNEL, sms.body)
    if keyword in ("opt_out", "opt_in"):
        return _ingest_consent_keyword(sms, message_id, keyword)
    contact_id = _store(sms, message_id)
    if contact_id is None:
        return False, None
    if keyword == "help":
        contact = ContactModel.get(contact_id, consistent_read=True)
        queue_system_sms(INBOUND, contact, REPLIES["help"], reason="keyword-help")
    return True, keyword


def _store(sms: InboundSms, message_id: str) -> str | None:
    row = _message_row(sms, message_id, "")
    return store_inbound(row, address=sms.from_phone, preview=sms.body, resolve=lambda: _resolve_sender(sms))


def _resolve_sender(sms: InboundSms) -> ContactModel:
    return resolve_sender(INBOUND, sms.from_phone, display_name=None, channel=CHANNEL)


def _ingest_consent_keyword(sms: InboundSms, message_id: str, keyword: str) -> tuple[bool, str | None]:
    """STOP/START: the consent change, its audit row and the message commit together; then the confirmation."""
    contact = store_with_consent_change(
        INBOUND, _resolve_sender(sms), lambda contact_id: _message_row(sms, message_id, contact_id),
        opted_in=keyword == "opt_in", word=sms.body.strip().upper(), preview=sms.body, at=sms.received_at,
    )
    if contact is None:
        return False, None
    queue_system_sms(INBOUND, contact, REPLIES[keyword], reason=f"keyword-{keyword}")
    return True, keyword


def _message_row(sms: InboundSms, message_id: str, contact_id: str) -> MessageModel:
    return new_message_row(
        message_id=message_id,
        channel=CHANNEL,
        direction="inbound",
        status="RECEIVED",
        now=sms.received_at,
        contactId=contact_id,
        kind="text",
        body=sms.body,
        payload=sms.raw,
        address=sms.from_phone,
        sender=sms.to_phone,
        providerMessageId=sms.inbound_message_id,
        replyTo=sms.previous_message_id,
    )


def apply_sms_event(event: SmsDeliveryEvent) -> bool:
    """A delivery event moves its message forward only; events that map to no status are ignored."""
    if event.status is None:
        return False
    return apply_status(
        ProviderStatus(
            channel=CHANNEL,
            provider_message_id=event.provider_message_id,
            status=event.status,
            at=event.at,
            error_code=event.error_code,
            error_detail=event.error_detail,
            message_id=event.message_id,
        )
    )
