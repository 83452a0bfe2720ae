"""The app's inbound WhatsApp webhook (our SNS envelope or Meta's own format), verified before anything is
stored; SNS batches take the channel door's one SNS loop, as in the Lambda."""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from backend.api.channel_door import handle_sns
from backend.errors import BadRequest, DomainError, Unauthenticated
from backend.services.channels.whatsapp.inbound import ingest
from backend.adapters.channels.whatsapp_events import parse_meta_webhook, parse_sns_message
from backend.adapters.session_tokens import same_text
from backend.services.platform.validation import parse_json
from backend.settings import get_settings

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024
SECRET_HEADER = "x-wecare-webhook-secret"
SIGNATURE_HEADER = "x-wecare-signature-256"
META_SIGNATURE_HEADER = "x-hub-signature-256"


@dataclass
class WebhookResponse:
    status: int
    body: dict | str


def _secret(value) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


def _signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return header is not None and same_text(header.strip(), expected)


def verify_webhook(headers: dict[str, str], body: bytes) -> str:
    """Which format a verified request carries ("envelope" or "meta"); 401 if it is unsigned or badly signed."""
    settings = get_settings()
    meta_secret = _secret(settings.meta_app_secret)
    if META_SIGNATURE_HEADER in headers:
        if meta_secret and _signature_matches(meta_secret, body, headers[META_SIGNATURE_HEADER]):
            return "meta"
        raise Unauthenticated("X-Hub-Signature-256 does not match the body.", field=META_SIGNATURE_HEADER)
    secret = _secret(settings.whatsapp_webhook_secret)
    if secret is None:
        raise Unauthenticated("Webhook secret is not configured; nothing is accepted.", field=SECRET_HEADER)
    if SIGNATURE_HEADER in headers:
        if _signature_matches(secret, body, headers[SIGNATURE_HEADER]):
            return "envelope"
        raise Unauthenticated("X-Wecare-Signature-256 does not match the body.", field=SIGNATURE_HEADER)
    given = headers.get(SECRET_HEADER)
    if given is not None and same_text(given, secret):
        return "envelope"
    raise Unauthenticated("Unsigned webhook: send X-Wecare-Webhook-Secret or X-Wecare-Signature-256.", field=SECRET_HEADER)


def handle_webhook_post(headers: dict[str, str], body: bytes) -> WebhookResponse:
    try:
        if len(body) > MAX_WEBHOOK_BYTES:
            raise BadRequest(f"body: larger than {MAX_WEBHOOK_BYTES // 1024} KB", field="body")
        kind = verify_webhook({k.lower(): v for k, v in headers.items()}, body)
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
