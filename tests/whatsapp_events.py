"""Builders of real-shaped WhatsApp events for tests: Meta message and status objects, webhook entries, the SNS
`Message` that AWS End User Messaging Social publishes, Lambda SNS events and Meta's direct webhook body.

Shapes follow Meta's Cloud API webhook payloads and AWS's event header; ids are made up but look like the real
ones, phones are in the +44 7700 900xxx drama range and the account is 123456789012. Everything is
deterministic, so a test can rebuild the same event and compare.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "eu-west-2"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "sandbox-phone-number-id"
DISPLAY_PHONE = "447700900000"
CUSTOMER = "447700900123"
BASE_TS = 1767787200  # 2026-01-07T12:00:00Z
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:wecare-whatsapp-events"
FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"

_seeds = itertools.count(1)


def make_wamid(phone: str = CUSTOMER, seed: object = None) -> str:
    """A wamid shaped like Meta's: base64 of a small binary record holding the phone and a 32-hex id."""
    seed = next(_seeds) if seed is None else seed
    digest = hashlib.md5(f"{phone}:{seed}".encode()).hexdigest().upper()
    record = b"\x1c\x18" + bytes([len(phone)]) + phone.encode() + b"\x15\x02\x00\x12\x18 " + digest.encode() + b"\x00"
    return "wamid." + base64.b64encode(record).decode()


def media_id(seed: object) -> str:
    """Meta media ids are 16-digit numbers."""
    return str(10**15 + int(hashlib.md5(f"media:{seed}".encode()).hexdigest(), 16) % (9 * 10**15))


def sha256_of(seed: object) -> str:
    return base64.b64encode(hashlib.sha256(f"file:{seed}".encode()).digest()).decode()


OUTBOUND_WAMID = make_wamid(CUSTOMER, "outbound-template")  # a message we sent, for replies and reactions


def _media(mime_type: str, caption: str | None, seed: object, **fields: Any) -> dict:
    body = {"mime_type": mime_type, "sha256": sha256_of(seed), "id": media_id(seed), **fields}
    if caption is not None:
        body["caption"] = caption
    return body


def _message_body(kind: str, text: str | None, seed: object) -> tuple[str, Any]:
    """(Meta's `type`, the per-type object) for a builder kind; `text` is the kind's human text."""
    if kind == "text":
        return "text", {"body": "Hello, is my order on its way?" if text is None else text}
    if kind == "image":
        return "image", _media("image/jpeg", text, seed)
    if kind == "video":
        return "video", _media("video/mp4", text, seed)
    if kind == "audio":
        return "audio", _media("audio/ogg; codecs=opus", None, seed, voice=True)
    if kind == "document":
        return "document", _media("application/pdf", text, seed, filename="invoice-2026-001.pdf")
    if kind == "sticker":
        return "sticker", _media("image/webp", None, seed, animated=False)
    if kind == "location":
        return "location", {
            "latitude": 51.5007, "longitude": -0.1246, "name": "Big Ben", "address": "London SW1A 0AA",
            "url": "https://www.parliament.uk/bigben",
        }
    if kind == "contacts":
        return "contacts", [{
            "name": {"formatted_name": "Jane Doe", "first_name": "Jane", "last_name": "Doe"},
            "phones": [{"phone": "+44 7700 900456", "wa_id": "447700900456", "type": "CELL"}],
            "emails": [{"email": "jane.doe@example.com", "type": "WORK"}],
            "org": {"company": "Example Ltd"},
        }]
    if kind == "reaction":
        return "reaction", {"message_id": OUTBOUND_WAMID, "emoji": "\U0001F44D" if text is None else text}
    if kind in ("interactive", "interactive_button_reply"):
        title = "Yes, confirm" if text is None else text
        return "interactive", {"type": "button_reply", "button_reply": {"id": "confirm-yes", "title": title}}
    if kind == "interactive_list_reply":
        title = "Tuesday 10:00" if text is None else text
        reply = {"id": "slot-tue-1000", "title": title, "description": "Clinic A, 30 minutes"}
        return "interactive", {"type": "list_reply", "list_reply": reply}
    if kind == "button":
        text = "Yes" if text is None else text
        return "button", {"payload": f"{text.upper()}_PAYLOAD", "text": text}
    if kind == "order":
        return "order", {
            "catalog_id": "918273645501234", "text": "Please deliver after 5pm",
            "product_items": [{"product_retailer_id": "SKU-123", "quantity": 2, "item_price": 9.99, "currency": "GBP"}],
        }
    if kind == "system":
        return "system", {"body": "Ann changed their phone number to a new number", "wa_id": "447700900987",
                          "type": "user_changed_number"}
    if kind == "unsupported":
        return "unsupported", None
    return kind, {}


def meta_message(
    kind: str,
    *,
    wamid: str | None = None,
    from_phone: str = CUSTOMER,
    text: str | None = None,
    ts: int | None = None,
    reply_to: str | None = None,
    **extra: Any,
) -> dict:
    """A Meta message object. `kind` is a Meta type, or `interactive_button_reply`/`interactive_list_reply`;
    `text` is the body, caption (media), emoji (reaction, "" removes it) or title (interactive, button).
    `reply_to` adds `context` (a reply to that wamid); `extra` adds or replaces top-level fields."""
    wamid = wamid or make_wamid(from_phone)
    meta_type, body = _message_body(kind, text, wamid)
    message: dict[str, Any] = {"from": from_phone, "id": wamid, "timestamp": str(ts or BASE_TS), "type": meta_type}
    if reply_to:
        message["context"] = {"from": DISPLAY_PHONE, "id": reply_to}
    if meta_type == "unsupported":
        message["errors"] = [{
            "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }]
    elif body is not None:
        message[meta_type] = body
    message.update(extra)
    return message


_STATUS_ERRORS = {
    131047: ("Re-engagement message", "Message failed to send because more than 24 hours have passed since the "
             "customer last replied to this number."),
    131026: ("Message undeliverable", "Unable to deliver message. Reasons can include: the recipient's phone number "
             "is not a WhatsApp phone number."),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.",
             "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
}


def meta_status(
    wamid: str, status: str, *, error_code: int | None = None, ts: int | None = None, recipient: str = CUSTOMER
) -> dict:
    """A Meta status object for one of our sends; `error_code` adds Meta's `errors` entry (for failed)."""
    update: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(ts or BASE_TS), "recipient_id": recipient}
    if status in ("sent", "delivered"):
        update["conversation"] = {
            "id": hashlib.md5(f"conversation:{recipient}".encode()).hexdigest(),
            "expiration_timestamp": str((ts or BASE_TS) + 86400),
            "origin": {"type": "service"},
        }
        update["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service", "type": "regular"}
    if error_code is not None:
        title, details = _STATUS_ERRORS.get(error_code, ("Generic user error", "Something went wrong."))
        update["errors"] = [{
            "code": error_code, "title": title, "message": title, "error_data": {"details": details},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }]
    return update


def webhook_entry(
    messages: Any = (),
    statuses: Any = (),
    *,
    profile_name: str | None = "Ann Customer",
    phone_number_id: str = PHONE_NUMBER_ID,
    from_phone: str = CUSTOMER,
    contacts: list[dict] | None = None,
    waba_id: str = WABA_ID,
) -> dict:
    """One Meta webhook entry with a single `messages` change. Like Meta, `contacts` accompanies messages only;
    by default it names `from_phone` as `profile_name` (None leaves the contacts out)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE, "phone_number_id": phone_number_id},
    }
    if messages:
        if contacts is None and profile_name is not None:
            contacts = [{"profile": {"name": profile_name}, "wa_id": from_phone}]
        if contacts is not None:
            value["contacts"] = contacts
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"id": waba_id, "changes": [{"value": value, "field": "messages"}]}


def sns_message(entry: dict | str, *, entry_as_object: bool = False, received: datetime | None = None) -> str:
    """The SNS `Message` End User Messaging Social publishes: its header plus the entry as a JSON string."""
    entry_json = entry if isinstance(entry, str) else json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    phone_number_id = _phone_number_id(json.loads(entry_json))
    received = received or datetime.fromtimestamp(BASE_TS + 1, tz=timezone.utc)
    return json.dumps(
        {
            "context": {
                "MetaWabaIds": [{"wabaId": WABA_ID, "arn": f"arn:aws:social-messaging:{REGION}:{ACCOUNT_ID}:waba/"
                                 "fb2594b8a7974770b128a409e2example"}],
                "MetaPhoneNumberIds": [{"metaPhoneNumberId": phone_number_id,
                                        "arn": f"arn:aws:social-messaging:{REGION}:{ACCOUNT_ID}:phone-number-id/"
                                        "976c72a700aac43eaf573ae050example"}],
            },
            "whatsAppWebhookEntry": json.loads(entry_json) if entry_as_object else entry_json,
            "aws_account_id": ACCOUNT_ID,
            "message_timestamp": received.strftime("%Y-%m-%dT%H:%M:%S.") + f"{received.microsecond:06d}271Z",
            "messageId": str(uuid.uuid5(uuid.NAMESPACE_URL, "eums:" + entry_json)),
        },
        ensure_ascii=False,
    )


def _phone_number_id(entry: dict) -> str:
    for change in entry.get("changes", []):
        return change.get("value", {}).get("metadata", {}).get("phone_number_id", PHONE_NUMBER_ID)
    return PHONE_NUMBER_ID


def sns_event(*messages: str) -> dict:
    """A Lambda event from SNS with one Record per `Message`."""
    return {"Records": [_sns_record(message) for message in messages]}


def _sns_record(message: str) -> dict:
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "sns:" + message))
    subscription = f"{TOPIC_ARN}:{uuid.uuid5(uuid.NAMESPACE_URL, 'subscription:' + TOPIC_ARN)}"
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": TOPIC_ARN,
            "Subject": None,
            "Message": message,
            "Timestamp": _published_at(message),
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bk",
            "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}",
            "MessageAttributes": {},
        },
    }


def _published_at(message: str) -> str:
    """SNS's millisecond timestamp, just after the header's own (nanosecond) `message_timestamp`."""
    try:
        stamp = json.loads(message)["message_timestamp"]
        return stamp[:19] + ".362Z"
    except (ValueError, KeyError, TypeError):
        return "2026-01-07T12:00:01.362Z"


def signed_webhook_headers(secret: str, body: bytes, *, at: int | None = None) -> dict[str, str]:
    """Our webhook format's headers: the signing time (epoch seconds, now by default) and an HMAC-SHA256 of
    "{time}.{body}" with the shared secret, so a captured request cannot be replayed later."""
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Wecare-Timestamp": stamp, "X-Wecare-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def meta_webhook_body(*entries: dict) -> dict:
    """The body Meta posts to a webhook it calls directly."""
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def load_fixture(name: str) -> dict:
    """A stored Lambda SNS event from `tests/fixtures/whatsapp/<name>.json`."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def fixture_sns_message(name: str) -> str:
    """The `Sns.Message` of a stored event that holds a single record."""
    (record,) = load_fixture(name)["Records"]
    return record["Sns"]["Message"]
