"""The local WhatsApp provider: records sends and answers with the status events AWS would publish.

Events are strings in the exact shape of the SNS `Message` that AWS End User Messaging Social publishes
(a JSON envelope whose `whatsAppWebhookEntry` is itself a JSON string of one Meta webhook entry), so the
inbound pipeline parses sandbox and live events with the same code.

Outcomes can be forced, for tests and demos, by the recipient number's last four digits:
0000 → INVALID_NUMBER (permanent), 0429 → THROTTLED (retryable), 0500 → PROVIDER_UNAVAILABLE (retryable).
Otherwise `sandbox_failure_rate` of sends fail as `sandbox_failure_code` says.
"""
from __future__ import annotations

import base64
import hashlib
import functools
import json
import logging
import mimetypes
import random
import re
import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backend.adapters.channels.sandbox_failures import InjectedFailures
from backend.adapters.channels.sandbox_events import DelayedEvents, EventSink
from backend.adapters.channels.sandbox_sends import SendLog
from backend.adapters.channels.errors import (
    INVALID_REQUEST,
    NOT_FOUND,
    ProviderError,
    error_for_meta_code,
)
from backend.adapters.channels.whatsapp import FetchedMedia, normalise_template
from backend.adapters.media_store import MediaStore
from backend.settings import Settings

logger = logging.getLogger(__name__)


SANDBOX_ACCOUNT_ID = "000000000000"
FAILURE_CODES = ("throttled", "server", "invalid_number", "131047")

REENGAGEMENT_ERROR = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    },
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


def _digits_from(seed: str, length: int) -> str:
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(1 + number % 9) + str(number)[-(length - 1):]


def _arn(region: str, kind: str, configured: str, prefix: str) -> str:
    if configured.startswith("arn:"):
        return configured
    resource = configured[len(prefix):] if configured.startswith(prefix) else configured
    return f"arn:aws:social-messaging:{region}:{SANDBOX_ACCOUNT_ID}:{kind}/{resource}"


@dataclass(frozen=True)
class SandboxIdentity:
    """The sandbox's WABA and phone number as Meta and AWS name them, derived from the settings' ids."""

    waba_id: str
    waba_arn: str
    phone_number_id: str
    phone_number_arn: str
    display_phone_number: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxIdentity:
        region = settings.aws_region
        return cls(
            waba_id=_digits_from(settings.whatsapp_waba_id, 15),
            waba_arn=_arn(region, "waba", settings.whatsapp_waba_id, "waba-"),
            phone_number_id=_digits_from(settings.whatsapp_phone_number_id, 15),
            phone_number_arn=_arn(region, "phone-number-id", settings.whatsapp_phone_number_id, "phone-number-id-"),
            display_phone_number="15555550100",
        )

    def metadata(self) -> dict:
        return {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}


def sns_message(identity: SandboxIdentity, value: dict) -> str:
    """The SNS `Message` string AWS publishes for one Meta webhook change of field `messages`."""
    entry = {"id": identity.waba_id, "changes": [{"value": value, "field": "messages"}]}
    return json.dumps({
        "context": {
            "MetaWabaIds": [{"wabaId": identity.waba_id, "arn": identity.waba_arn}],
            "MetaPhoneNumberIds": [{"metaPhoneNumberId": identity.phone_number_id, "arn": identity.phone_number_arn}],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": SANDBOX_ACCOUNT_ID,
        "message_timestamp": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "messageId": str(uuid.uuid4()),
    })


def new_wamid(recipient_digits: str) -> str:
    """A wamid shaped like Meta's: base64 of a small record holding the recipient and a random id."""
    number = recipient_digits.encode()
    body = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00\x11\x18\x12"
    body += uuid.uuid4().hex[:18].upper().encode() + b"\x00"
    return "wamid." + base64.b64encode(body).decode()


def _tiny_png(seed: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixel = zlib.compress(b"\x00" + seed[:3])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


def _tiny_jpeg() -> bytes:
    """A 1x1 grey baseline JPEG: one-symbol Huffman tables, a scan of DC 0 then end-of-block."""
    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    one_symbol_table = b"\x01" + b"\x00" * 15 + b"\x00"
    return (
        b"\xff\xd8"
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, struct.pack(">BHHB", 8, 1, 1, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_symbol_table)
        + segment(0xC4, b"\x10" + one_symbol_table)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"
        + b"\xff\xd9"
    )


def sample_media(mime_type: str, media_id: str) -> bytes:
    """Small, deterministic bytes for a media id: real images for image types, labelled bytes otherwise."""
    seed = hashlib.sha256(media_id.encode()).digest()
    base = mime_type.split(";")[0].strip().lower()
    if base == "image/png":
        return _tiny_png(seed)
    if base in ("image/jpeg", "image/jpg"):
        return _tiny_jpeg()
    return f"WECARE.DIGITAL sandbox media {media_id} ({base})\n".encode() + seed


_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _placeholders(component: dict) -> int:
    if component.get("type", "").upper() == "HEADER" and component.get("format", "TEXT").upper() != "TEXT":
        return 1  # a media header takes exactly one media parameter
    return len(set(_PLACEHOLDER.findall(component.get("text") or "")))


def _seed_templates() -> list[dict]:
    return [
        {"id": "1024100000000001", "name": "order_update", "language": "en_US", "status": "APPROVED",
         "category": "UTILITY", "quality": "GREEN", "components": [
             {"type": "BODY", "text": "Good news! Your order {{1}} is on its way.",
              "example": {"body_text": [["WD-10482"]]}},
             {"type": "FOOTER", "text": "WECARE.DIGITAL"}]},
        {"id": "1024100000000002", "name": "appointment_reminder", "language": "en_GB", "status": "APPROVED",
         "category": "UTILITY", "quality": "GREEN", "components": [
             {"type": "HEADER", "format": "TEXT", "text": "Appointment on {{1}}",
              "example": {"header_text": ["Tuesday 4 March"]}},
             {"type": "BODY", "text": "Hello {{1}}, this is a reminder of your appointment at {{2}}. "
              "Reply to this message if you need to rearrange.",
              "example": {"body_text": [["Sam", "10:30"]]}}]},
        {"id": "1024100000000003", "name": "welcome_back", "language": "en_US", "status": "APPROVED",
         "category": "MARKETING", "quality": "GREEN", "components": [
             {"type": "BODY", "text": "Welcome back! We have missed you. Reply to this message to talk to our team."}]},
        {"id": "1024100000000004", "name": "spring_offer", "language": "en_US", "status": "PENDING",
         "category": "MARKETING", "quality": "UNKNOWN", "components": [
             {"type": "BODY", "text": "Hi {{1}}, spring is here: enjoy 20% off this week.",
              "example": {"body_text": [["Sam"]]}}]},
        {"id": "1024100000000005", "name": "payment_overdue", "language": "en_GB", "status": "REJECTED",
         "category": "UTILITY", "quality": "UNKNOWN", "components": [
             {"type": "BODY", "text": "Your payment of {{1}} is overdue. Pay now or lose access.",
              "example": {"body_text": [["£20.00"]]}}]},
    ]


_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


class SandboxWhatsAppProvider:
    """In-memory, thread-safe; `sent`, `read_receipts` and the template catalogue are for tests to inspect."""

    def __init__(self, settings: Settings, on_event: EventSink | None = None, *, rng: random.Random | None = None):
        if settings.sandbox_failure_code not in FAILURE_CODES:
            raise ValueError(f"sandbox_failure_code must be one of {', '.join(FAILURE_CODES)}")
        self.settings = settings
        self.on_event = on_event
        self.identity = SandboxIdentity.from_settings(settings)
        self.sent: list[dict] = []
        self.read_receipts: list[str] = []
        self._failures = InjectedFailures(
            settings, rng, throttled="ThrottledRequestException", server="InternalServiceException",
            invalid_number=lambda note: error_for_meta_code(131026, f"(#131026) Message undeliverable {note}"),
        )
        self._lock = threading.Lock()
        self._events = DelayedEvents("WhatsApp")
        self._dir = Path(settings.data_dir) / "sandbox"
        self._sends = SendLog(self._dir / "whatsapp-sends.jsonl")
        self._templates_file = self._dir / "whatsapp-templates.json"
        self._templates = self._load_templates()

    # --- sending -------------------------------------------------------------------------------------

    def send(self, message: dict, *, origination: str, idempotency_key: str) -> str:
        recipient = _validated_recipient(message)
        template = self._check_template(message) if message.get("type") == "template" else None
        failure = self._failures.at_send(recipient)

        wamid = new_wamid(recipient)
        record = {
            "provider_message_id": wamid, "to": message.get("to"), "type": message.get("type"),
            "message": message, "origination": origination, "idempotency_key": idempotency_key,
            "message_id": idempotency_key,  # our message id: `sent_before` finds the send by it
            "sent_at": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            self.sent.append(record)
            self._sends.append(record)

        category = (template or {}).get("category", "service").lower()
        echo = message.get("biz_opaque_callback_data")  # Meta echoes it in every status of the message
        if failure == "131047":
            self._schedule(wamid, recipient, category, ["failed"], echo)
        else:
            self._schedule(wamid, recipient, category, ["sent", "delivered"], echo)
        return wamid

    def sent_before(self, message_id: str) -> str | None:
        """The wamid of this message's send if the sandbox received it (from any process), else None."""
        return self._sends.find(message_id)

    def mark_read(self, provider_message_id: str, *, origination: str) -> None:
        with self._lock:
            self.read_receipts.append(provider_message_id)

    def _check_template(self, message: dict) -> dict:
        spec = message.get("template") or {}
        name, language = spec.get("name"), (spec.get("language") or {}).get("code")
        template = self._find_template(name, language)
        if template is None or template["status"] != "APPROVED":
            meta_code = {"PAUSED": 132015, "DISABLED": 132016}.get((template or {}).get("status"), 132001)
            raise error_for_meta_code(meta_code, f"(#{meta_code}) Template {name} ({language}) is not approved")
        given = {c.get("type", "").upper(): len(c.get("parameters") or []) for c in spec.get("components") or []}
        for component in template["components"]:
            kind = component.get("type", "").upper()
            if kind in ("HEADER", "BODY") and _placeholders(component) != given.get(kind, 0):
                raise error_for_meta_code(
                    132000, "(#132000) Number of parameters does not match the expected number of params")
        return template

    # --- status events -------------------------------------------------------------------------------

    def _schedule(self, wamid: str, recipient: str, category: str, statuses: list[str], echo: str | None = None) -> None:
        builders = [functools.partial(self._status_event, wamid, status, recipient, category, echo) for status in statuses]
        self._events.send(self.on_event, builders, self.settings.sandbox_latency_ms / 1000)

    def _status_event(self, wamid: str, status: str, recipient: str, category: str, echo: str | None) -> str:
        value = {"messaging_product": "whatsapp", "metadata": self.identity.metadata(),
                 "statuses": [_status(wamid, status, recipient, category, echo)]}
        return sns_message(self.identity, value)

    def emit_inbound_text(self, from_number: str, text: str, *, profile_name: str = "Sandbox Customer") -> str:
        """Deliver a customer's text message now, as AWS would publish it; returns its wamid."""
        if self.on_event is None:
            raise RuntimeError("No sandbox event sink is set")
        sender = re.sub(r"\D", "", from_number)
        wamid = new_wamid(sender)
        value = {
            "messaging_product": "whatsapp", "metadata": self.identity.metadata(),
            "contacts": [{"profile": {"name": profile_name}, "wa_id": sender}],
            "messages": [{"from": sender, "id": wamid, "timestamp": str(int(time.time())),
                          "text": {"body": text}, "type": "text"}],
        }
        self.on_event(sns_message(self.identity, value))
        return wamid

    # --- media ---------------------------------------------------------------------------------------

    def fetch_media(self, media_id: str, *, origination: str, store: MediaStore, key: str,
                    mime_type_hint: str | None = None) -> FetchedMedia:
        mime_type = mime_type_hint or mimetypes.guess_type(key)[0] or "image/jpeg"
        data = sample_media(mime_type, media_id)
        store.put(key, data, mime_type)
        return FetchedMedia(mime_type=mime_type, size_bytes=len(data))

    def upload_media(self, store: MediaStore, key: str, *, origination: str) -> str:
        if not store.exists(key):
            raise ProviderError(INVALID_REQUEST, "Media to upload is not in the media store", retryable=False)
        return _digits_from(f"{key}:{uuid.uuid4()}", 16)

    # --- templates -----------------------------------------------------------------------------------

    def list_templates(self) -> list[dict]:
        with self._lock:
            return [normalise_template(dict(t)) for t in self._templates]

    def get_template(self, template_id: str) -> dict:
        with self._lock:
            for template in self._templates:
                if template["id"] == template_id:
                    return normalise_template(dict(template))
        raise ProviderError(NOT_FOUND, f"Template {template_id} not found", retryable=False)

    def create_template(self, definition: dict) -> dict:
        name, language = definition.get("name"), definition.get("language")
        category = str(definition.get("category") or "").upper()
        components = definition.get("components")
        if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
            raise ProviderError(INVALID_REQUEST, "Template name must be lowercase letters, digits and underscores",
                                retryable=False)
        if not isinstance(language, str) or not language or category not in _CATEGORIES:
            raise ProviderError(INVALID_REQUEST, "Template needs a language and a category "
                                f"({', '.join(_CATEGORIES)})", retryable=False)
        if not isinstance(components, list) or not any(c.get("type", "").upper() == "BODY" for c in components):
            raise ProviderError(INVALID_REQUEST, "Template needs a BODY component", retryable=False)
        with self._lock:
            if any(t["name"] == name and t["language"] == language for t in self._templates):
                raise ProviderError(INVALID_REQUEST, f"Template {name} already exists in {language}",
                                    retryable=False)
            template = {"id": _digits_from(f"{name}:{language}", 16), "name": name, "language": language,
                        "status": "PENDING", "category": category, "quality": "UNKNOWN", "components": components}
            self._templates.append(template)
            self._save_templates()
        return {"id": template["id"], "status": "PENDING", "category": category}

    def set_template_status(self, name: str, language: str, status: str) -> None:
        """Play Meta's reviewer (demos, tests): e.g. approve a template created here."""
        with self._lock:
            template = next((t for t in self._templates if t["name"] == name and t["language"] == language), None)
            if template is None:
                raise ProviderError(NOT_FOUND, f"Template {name} ({language}) not found", retryable=False)
            template["status"] = status
            self._save_templates()

    def _find_template(self, name: str | None, language: str | None) -> dict | None:
        with self._lock:
            return next((t for t in self._templates if t["name"] == name and t["language"] == language), None)

    def _load_templates(self) -> list[dict]:
        if self._templates_file.is_file():
            try:
                return json.loads(self._templates_file.read_text(encoding="utf-8"))
            except ValueError:
                logger.warning("ignoring unreadable %s; starting from the seed catalogue", self._templates_file)
        return _seed_templates()

    def _save_templates(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        temporary = self._templates_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._templates, indent=2, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self._templates_file)

    # --- housekeeping --------------------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
            self.read_receipts.clear()

    def close(self) -> None:
        """Cancel status events not yet delivered."""
        self._events.cancel_all()


def _validated_recipient(message: dict) -> str:
    if message.get("messaging_product") != "whatsapp":
        raise ProviderError(INVALID_REQUEST, "messaging_product must be 'whatsapp'", retryable=False)
    kind = message.get("type") or "text"
    if kind not in message:
        raise ProviderError(INVALID_REQUEST, f"Message of type {kind} has no '{kind}' object", retryable=False)
    if kind == "text" and not (message["text"] or {}).get("body"):
        raise ProviderError(INVALID_REQUEST, "Text message body is empty", retryable=False)
    digits = re.sub(r"\D", "", str(message.get("to") or ""))
    if not digits:
        raise ProviderError(INVALID_REQUEST, "Message has no recipient", retryable=False)
    return digits


def _status(wamid: str, status: str, recipient: str, category: str, echo: str | None = None) -> dict:
    now = int(time.time())
    entry: dict = {"id": wamid, "status": status, "timestamp": str(now), "recipient_id": recipient}
    if echo:
        entry["biz_opaque_callback_data"] = echo
    if status == "failed":
        entry["errors"] = [REENGAGEMENT_ERROR]
        return entry
    conversation_id = hashlib.sha256(f"{recipient}:{category}".encode()).hexdigest()[:32]
    entry["conversation"] = {"id": conversation_id, "origin": {"type": category}}
    if status == "sent":
        entry["conversation"]["expiration_timestamp"] = str(now + 24 * 3600)
    entry["pricing"] = {"billable": True, "pricing_model": "CBP", "category": category}
    return entry
