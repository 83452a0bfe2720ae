"""Inbound SMS: store every customer text exactly once, keep the conversation and consent current, answer
STOP/START/HELP, and apply delivery events. Called by the SNS door and the sandbox."""
from __future__ import annotations

import logging
from datetime import datetime

from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.access import Actor
from backend.services.audit import audit_row
from backend.services.consent_keywords import consent_keyword
from backend.services.contacts import set_consent
from backend.services.inbound_whatsapp import IngestReport
from backend.services.message_rows import activity_actions, apply_activity, inbound_message_id, new_message_row
from backend.services.message_status import ProviderStatus, apply_status
from backend.services.sender_contacts import contact_for_sender, sender_ids
from backend.services.sms_events import InboundSms, SmsDeliveryEvent, parse_sms_sns_message
from backend.services.sms_send import queue_system_sms
from backend.services.unit_of_work import UnitOfWork, WriteConflict

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
    """The hot path, one transaction: the message (conditional on its key: exactly once) and the contact's
    conversation summary (conditional on the contact still owning the number, so a remembered sender can never
    attach a text to a deleted or renumbered contact). The contact id, or None for a duplicate."""
    row = _message_row(sms, message_id, "")
    for _ in range(3):
        contact_id = sender_ids.get(sms.from_phone) or _resolve_sender(sms).contactId
        row.contactId = contact_id
        work = UnitOfWork()
        work.save(row, MessageModel.messageId.does_not_exist(), label="message")
        work.update(
            ContactModel(contactId=contact_id, version=0),  # version is bumped server-side, never compared
            activity_actions(at=sms.received_at, preview=sms.body, channel=CHANNEL, direction="inbound"),
            condition=ContactModel.deletedAt.does_not_exist() & (ContactModel.phone == sms.from_phone),
            label="contact",
        )
        try:
            work.commit()
        except WriteConflict as conflict:
            if "message" in conflict.labels:
                return None
            sender_ids.forget(sms.from_phone)  # the contact was deleted or renumbered: look again
            continue
        return contact_id
    raise RuntimeError(f"could not store inbound SMS {sms.inbound_message_id} after 3 attempts")


def _resolve_sender(sms: InboundSms) -> ContactModel:
    contact = contact_for_sender(INBOUND, "phone", sms.from_phone, display_name=None, via=CHANNEL)
    sender_ids.put(sms.from_phone, contact.contactId)
    return contact


def _ingest_consent_keyword(sms: InboundSms, message_id: str, keyword: str) -> tuple[bool, str | None]:
    """STOP/START: the consent change, its audit row and the message commit together; then the confirmation."""
    contact = _resolve_sender(sms)
    opted_in = keyword == "opt_in"
    word = sms.body.strip().upper()
    for _ in range(5):
        work = UnitOfWork()
        work.save(_message_row(sms, message_id, contact.contactId), MessageModel.messageId.does_not_exist(),
                  label="message")
        set_consent(contact, CHANNEL, opted_in, f"SMS keyword {word}", sms.received_at)
        apply_activity(contact, at=sms.received_at, preview=sms.body, channel=CHANNEL, direction="inbound")
        contact.updatedAt = sms.received_at
        work.save(contact)  # versioned: a concurrent edit makes this retry on a fresh row
        work.save(audit_row(INBOUND, "contact.consent", "contact", contact.contactId, ["optInSms"],
                            {"channel": CHANNEL, "optedIn": opted_in, "keyword": word, "messageId": message_id}))
        try:
            work.commit()
        except WriteConflict as conflict:
            if "message" in conflict.labels:
                return False, None
            contact = ContactModel.get(contact.contactId, consistent_read=True)  # edited meanwhile: redo
            continue
        queue_system_sms(INBOUND, contact, REPLIES[keyword], reason=f"keyword-{keyword}")
        return True, keyword
    raise RuntimeError(f"could not store inbound SMS {sms.inbound_message_id} after 5 attempts")


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
