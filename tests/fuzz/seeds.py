"""Real-shaped provider events the fuzzer starts from, as decoded JSON documents (the mutations act on the
structure, not on the text): every stored WhatsApp fixture and every builder kind, and the documented shapes
of AWS's SMS, SES and voice events.

A WhatsApp SNS `Message` carries its Meta entry as a JSON string inside JSON; here the entry is decoded, so a
mutation can reach inside it, and `encode_whatsapp_envelope` puts it back as a string (or leaves it an object,
which the parser also accepts).
"""
from __future__ import annotations

import json
import time

from tests.whatsapp_events import (
    CUSTOMER, FIXTURES, OUTBOUND_WAMID, load_fixture, meta_message, meta_status, meta_webhook_body, webhook_entry,
)

ENTRY_KEY = "whatsAppWebhookEntry"
OUR_MESSAGE_ID = "0123456789abcdef0123456789abcdef"  # our outbound message, echoed back by the SMS, SES and voice events
_NOW_MS = int(time.time() * 1000)
_BUILDER_KINDS = (
    "text", "image", "video", "audio", "document", "sticker", "location", "contacts", "reaction",
    "interactive_button_reply", "interactive_list_reply", "button", "order", "system", "unsupported", "mystery",
)


def _decoded_envelope(message: str) -> dict:
    envelope = json.loads(message)
    envelope[ENTRY_KEY] = json.loads(envelope[ENTRY_KEY])
    return envelope


def _fixture_envelopes() -> list[dict]:
    return [
        _decoded_envelope(record["Sns"]["Message"])
        for path in sorted(FIXTURES.glob("*.json"))
        for record in load_fixture(path.stem)["Records"]
    ]


def _builder_entries() -> list[dict]:
    messages = [meta_message(kind) for kind in _BUILDER_KINDS]
    statuses = [meta_status(OUTBOUND_WAMID, "delivered"), meta_status(OUTBOUND_WAMID, "failed", error_code=131047)]
    return [webhook_entry(messages[:8], statuses), webhook_entry(messages[8:]), webhook_entry(statuses=statuses)]


def encode_whatsapp_envelope(envelope: object, entry_as_string: bool) -> object:
    """The SNS `Message` document with its entry re-encoded as a JSON string, as AWS publishes it."""
    if entry_as_string and isinstance(envelope, dict) and ENTRY_KEY in envelope:
        return {**envelope, ENTRY_KEY: json.dumps(envelope[ENTRY_KEY])}
    return envelope


WHATSAPP_ENVELOPES: list[dict] = _fixture_envelopes() + [
    {"context": {}, ENTRY_KEY: entry, "aws_account_id": "123456789012"} for entry in _builder_entries()
]
META_BODIES: list[dict] = [meta_webhook_body(*_builder_entries())] + [
    meta_webhook_body(envelope[ENTRY_KEY]) for envelope in WHATSAPP_ENVELOPES[:6]
]

SMS_MESSAGES: list[dict] = [
    {  # two-way SMS: a customer's text to our number
        "originationNumber": "+447700900123", "destinationNumber": "+12065550152",
        "messageKeyword": "KEYWORD_123456789012", "messageBody": "STOP",
        "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84", "previousPublishedMessageId": None,
    },
    {  # a configuration set's delivery event for one of our texts
        "eventType": "TEXT_DELIVERED", "eventVersion": "1.0", "eventTimestamp": _NOW_MS, "isFinal": True,
        "originationPhoneNumber": "+12065550152", "destinationPhoneNumber": "+447400123456", "isoCountryCode": "GB",
        "messageId": "f1e2d3c4-b5a6-4789-8012-3456789abcde", "messageRequestTimestamp": _NOW_MS - 300,
        "messageEncoding": "GSM", "messageType": "TRANSACTIONAL", "messageStatus": "DELIVERED",
        "messageStatusDescription": "Message has been accepted by phone carrier", "totalMessageParts": 1,
        "totalMessagePrice": 0.0415, "context": {"wecareMessageId": OUR_MESSAGE_ID},
    },
]
SMS_MESSAGES.append({**SMS_MESSAGES[1], "eventType": "TEXT_CARRIER_UNREACHABLE", "messageStatus": "CARRIER_UNREACHABLE"})


def _ses_event(event_type: str, detail: dict | None) -> dict:
    mail = {
        "timestamp": "2026-01-07T12:00:00.012Z", "source": "no-reply@wecare.example.com",
        "messageId": "010001234567890a-12345678-abcd-ef01-2345-6789abcdef01-000000",
        "destination": ["rae@example.com"],
        "tags": {"ses:configuration-set": ["wecare-events"], "wecareMessageId": [OUR_MESSAGE_ID]},
    }
    event = {"eventType": event_type, "mail": mail}
    if detail is not None:
        event[event_type[0].lower() + event_type[1:]] = detail
    return event


EMAIL_MESSAGES: list[dict] = [
    _ses_event("Send", {}),
    _ses_event("Delivery", {"timestamp": "2026-01-07T12:00:01.184Z", "recipients": ["rae@example.com"],
                            "smtpResponse": "250 ok"}),
    _ses_event("Bounce", {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-01-07T12:00:02.669Z",
                          "bouncedRecipients": [{"emailAddress": "rae@example.com", "status": "5.1.1",
                                                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}),
    _ses_event("Complaint", {"complainedRecipients": [{"emailAddress": "rae@example.com"}],
                             "timestamp": "2026-01-07T12:05:00.000Z", "complaintFeedbackType": "abuse"}),
    _ses_event("Reject", {"reason": "Bad content"}),
    _ses_event("Open", None),
]

VOICE_MESSAGES: list[dict] = [
    {"eventType": status, "eventVersion": "1.0", "eventTimestamp": _NOW_MS, "isFinal": status != "VOICE_RINGING",
     "originationPhoneNumber": "+12065550152", "destinationPhoneNumber": "+" + CUSTOMER,
     "messageId": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "callDurationInSeconds": 42,
     "messageStatusDescription": "Call completed", "context": {"wecareMessageId": OUR_MESSAGE_ID}}
    for status in ("VOICE_RINGING", "VOICE_COMPLETED", "VOICE_BUSY")
]
