"""The app's inbound WhatsApp webhook (our SNS envelope or Meta's own format), verified before anything is
stored; SNS batches take the channel door's one SNS loop, as in the Lambda.

Our envelope is signed with a timestamp: `X-Wecare-Timestamp: <epoch seconds>` and `X-Wecare-Signature-256:
sha256=<HMAC-SHA256 of "{timestamp}.{body}">`, refused beyond MAX_SKEW_SECONDS either way, so a captured
request cannot be replayed later. (A bare shared-secret header is refused for that reason: it can be replayed
forever.) Meta's format (X-Hub-Signature-256) carries no timestamp; its redeliveries are duplicates anyway.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass

from backend.api.channel_door import handle_sns
from backend.api.http import check_content_type
from backend.errors import BadRequest, DomainError, Unauthenticated
from backend.services.channels.whatsapp.inbound import ingest
from backend.adapters.channels.whatsapp_events import parse_meta_webhook, parse_sns_message
from backend.adapters.session_tokens import same_text
from backend.services.platform.validation import parse_json
from backend.services.platform.webhook_settings import signing_secret
from backend.settings import get_settings

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024
SIGNATURE_HEADER = "x-wecare-signature-256"
TIMESTAMP_HEADER = "x-wecare-timestamp"
META_SIGNATURE_HEADER = "x-hub-signature-256"
MAX_SKEW_SECONDS = 5 * 60
WEBHOOK_TYPES = ("application/json", "text/plain")  # SNS's HTTPS deliveries say text/plain
_EPOCH_SECONDS = re.compile(r"[0-9]{1,12}")


class StaleWebhook(Unauthenticated):
    """A signed request outside the allowed clock skew: possibly a captured one, replayed."""

    code = "WEBHOOK_TIMESTAMP_OUT_OF_RANGE"


class UnsignedWebhook(Unauthenticated):
    """No signature, a malformed timestamp, or a signature that does not cover this timestamp and body."""

    code = "WEBHOOK_SIGNATURE_INVALID"


@dataclass
class WebhookResponse:
    status: int
    body: dict | str


def _secret(value) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


def _sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    return header is not None and same_text(header.strip(), _sign(secret, body))


def _verify_envelope(secret: bytes, headers: dict[str, str], body: bytes) -> None:
    """The HMAC covers the timestamp and the body; then the timestamp must be within the allowed skew."""
    if SIGNATURE_HEADER not in headers:
        raise UnsignedWebhook(
            "Unsigned webhook: send X-Wecare-Timestamp and X-Wecare-Signature-256 (HMAC of \"{timestamp}.{body}\"); "
            "a bare X-Wecare-Webhook-Secret is not accepted.", field=SIGNATURE_HEADER)
    stamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not _EPOCH_SECONDS.fullmatch(stamp):
        raise UnsignedWebhook("X-Wecare-Timestamp: give the signing time in epoch seconds.", field=TIMESTAMP_HEADER)
    if not _signature_matches(secret, stamp.encode() + b"." + body, headers[SIGNATURE_HEADER]):
        raise UnsignedWebhook("X-Wecare-Signature-256 does not match the timestamp and body.", field=SIGNATURE_HEADER)
    skew = abs(time.time() - int(stamp))
    if skew > MAX_SKEW_SECONDS:
        raise StaleWebhook(f"X-Wecare-Timestamp is {int(skew)} s away from now (at most {MAX_SKEW_SECONDS}).", field=TIMESTAMP_HEADER)


def verify_webhook(headers: dict[str, str], body: bytes) -> str:
    """Which format a verified request carries ("envelope" or "meta"); 401 if it is unsigned or badly signed."""
    settings = get_settings()
    meta_secret = _secret(settings.meta_app_secret)
    if META_SIGNATURE_HEADER in headers:
        if meta_secret and _signature_matches(meta_secret, body, headers[META_SIGNATURE_HEADER]):
            return "meta"
        raise Unauthenticated("X-Hub-Signature-256 does not match the body.", field=META_SIGNATURE_HEADER)
    secret = signing_secret(settings)  # the environment's, or a local run's own file (see webhook_settings)
    if secret is None:
        raise Unauthenticated("Webhook secret is not configured; nothing is accepted.", field=SIGNATURE_HEADER)
    _verify_envelope(secret, headers, body)
    return "envelope"


def handle_webhook_post(headers: dict[str, str], body: bytes) -> WebhookResponse:
    try:
        if len(body) > MAX_WEBHOOK_BYTES:
            raise BadRequest(f"body: larger than {MAX_WEBHOOK_BYTES // 1024} KB", field="body")
        headers = {k.lower(): v for k, v in headers.items()}
        check_content_type(headers.get("content-type"), WEBHOOK_TYPES)
        kind = verify_webhook(headers, body)
        payload = parse_json(body)
        if kind == "meta":
            report = ingest(parse_meta_webhook(payload))
        elif isinstance(payload, dict) and "Records" in payload:
            return WebhookResponse(200, handle_sns("whatsapp", payload))
        else:
            report = ingest(parse_sns_message(payload))
    except DomainError as error:
        log.warning("webhook refused (%s): %s", error.code, error.message)
        return WebhookResponse(error.http_status, {"error": error.to_dict()})
    return WebhookResponse(200, report.counts())


def handle_verify_challenge(params: dict[str, str]) -> WebhookResponse:
    """Meta's GET: echo hub.challenge when hub.verify_token matches ours."""
    token = _secret(get_settings().meta_verify_token)
    given = params.get("hub.verify_token") or ""
    if params.get("hub.mode") == "subscribe" and token and same_text(given, token):
        return WebhookResponse(200, params.get("hub.challenge") or "")
    return WebhookResponse(403, {"error": {"code": "PERMISSION_DENIED", "message": "Verify token does not match."}})
