"""WhatsApp through AWS End User Messaging Social (`socialmessaging`): the interface, the AWS adapter, the dry run.

Idempotency: SendWhatsAppMessage has no client token, so AWS cannot de-duplicate a repeated send. The
caller (the outbox) de-duplicates: it keys each attempt on its idempotency key and records the provider
id before acknowledging. Providers accept the key so every implementation has the same signature, and
the sandbox and dry run keep it in their records.

The AWS adapter and the dry run share one request builder and one response reader, so a dry run shows
exactly the request a live send would make.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import boto3

from backend.adapters.channels.dry_run import DryRunRecorder
from backend.adapters.channels.errors import PROVIDER_CLIENT_CONFIG, NOT_FOUND, PROVIDER_UNAVAILABLE, ProviderError, classify_exception
from backend.adapters.media_store import MediaStore, S3MediaStore, validate_key
from backend.settings import Settings, get_settings

if TYPE_CHECKING:
    from backend.adapters.channels.whatsapp_sandbox import SandboxWhatsAppProvider


# AWS writes fetched media to `<key prefix><media id>.<ext>`; we let it write under this prefix, then move
# the object to the caller's key so every provider honours "the bytes end up at `key`".
INCOMING_MEDIA_PREFIX = "whatsapp-incoming/"


@dataclass(frozen=True)
class FetchedMedia:
    mime_type: str
    size_bytes: int


@runtime_checkable
class WhatsAppProvider(Protocol):
    def send(self, message: dict, *, origination: str, idempotency_key: str) -> str:
        """Send a Meta Cloud API message object; returns the provider message id (wamid)."""

    def mark_read(self, provider_message_id: str, *, origination: str) -> None:
        """Mark an inbound message read (blue ticks)."""

    def fetch_media(self, media_id: str, *, origination: str, store: MediaStore, key: str,
                    mime_type_hint: str | None = None) -> FetchedMedia:
        """Download inbound media into `store` at `key`. The hint (the webhook's mime_type) helps the sandbox."""

    def upload_media(self, store: MediaStore, key: str, *, origination: str) -> str:
        """Upload stored media to WhatsApp; returns the media id to put in a message."""

    def list_templates(self) -> list[dict]:
        """Every template of the WABA, normalised (see `normalise_template`)."""

    def get_template(self, template_id: str) -> dict:
        """One template with its components, normalised."""

    def create_template(self, definition: dict) -> dict:
        """Submit a Meta template definition for review; returns {id, status, category}."""


def read_receipt(provider_message_id: str) -> dict:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id}


def encode_json(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def normalise_template(raw: dict) -> dict:
    """One shape for an AWS TemplateSummary, an AWS/Meta template document, or a sandbox entry."""
    components = raw.get("components")
    if components is None:
        for field in ("templateDefinition", "metaTemplate", "template"):
            document = raw.get(field)
            if isinstance(document, (str, bytes)):
                try:
                    document = json.loads(document)
                except ValueError:
                    document = None
            if isinstance(document, dict) and isinstance(document.get("components"), list):
                components = document["components"]
                break
    return {
        "id": raw.get("metaTemplateId") or raw.get("id"),
        "name": raw.get("templateName") or raw.get("name"),
        "language": raw.get("templateLanguage") or raw.get("language"),
        "status": raw.get("templateStatus") or raw.get("status"),
        "category": raw.get("templateCategory") or raw.get("category"),
        "quality": raw.get("templateQualityScore") or raw.get("quality") or _meta_quality(raw),
        "components": components or [],
    }


def _meta_quality(raw: dict) -> str | None:
    score = raw.get("quality_score")
    return score.get("score") if isinstance(score, dict) else None


def s3_store_of(store: MediaStore) -> S3MediaStore:
    if not isinstance(store, S3MediaStore):
        raise ValueError("WhatsApp media transfer through AWS needs the S3 media store (set WECARE_MEDIA_BUCKET)")
    return store


class SocialMessagingRequests:
    """Builds socialmessaging request parameters (member names as in botocore's service model)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, message: dict, origination: str) -> dict:
        return {
            "originationPhoneNumberId": origination,
            "message": encode_json(message),
            "metaApiVersion": self.settings.whatsapp_meta_api_version,
        }

    def fetch_media(self, media_id: str, origination: str, bucket: str, key_prefix: str) -> dict:
        return {
            "mediaId": media_id,
            "originationPhoneNumberId": origination,
            "destinationS3File": {"bucketName": bucket, "key": key_prefix},
        }

    def upload_media(self, origination: str, bucket: str, key: str) -> dict:
        return {"originationPhoneNumberId": origination, "sourceS3File": {"bucketName": bucket, "key": key}}

    def list_templates(self, next_token: str | None = None) -> dict:
        params = {"id": self.settings.whatsapp_waba_id}
        if next_token:
            params["nextToken"] = next_token
        return params

    def get_template(self, template_id: str) -> dict:
        return {"id": self.settings.whatsapp_waba_id, "metaTemplateId": template_id}

    def create_template(self, definition: dict) -> dict:
        return {"templateDefinition": encode_json(definition), "id": self.settings.whatsapp_waba_id}


class _SocialMessagingProvider:
    """Everything but the transport: subclasses say what `_call` does with a built request."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.requests = SocialMessagingRequests(self.settings)

    def _call(self, operation: str, params: dict) -> dict:
        raise NotImplementedError

    def send(self, message: dict, *, origination: str, idempotency_key: str) -> str:
        return self._call("send_whatsapp_message", self.requests.send(message, origination))["messageId"]

    def mark_read(self, provider_message_id: str, *, origination: str) -> None:
        self._call("send_whatsapp_message", self.requests.send(read_receipt(provider_message_id), origination))

    def fetch_media(self, media_id: str, *, origination: str, store: MediaStore, key: str,
                    mime_type_hint: str | None = None) -> FetchedMedia:
        s3 = s3_store_of(store)
        validate_key(key)
        staging = f"{INCOMING_MEDIA_PREFIX}{media_id}/"
        response = self._call("get_whatsapp_message_media",
                              self.requests.fetch_media(media_id, origination, s3.bucket, staging))
        landed = s3.find_key(staging)
        if landed is None:
            raise ProviderError(PROVIDER_UNAVAILABLE, "Fetched media did not appear in the bucket", retryable=True)
        s3.move(landed, key)
        return FetchedMedia(mime_type=response.get("mimeType") or "application/octet-stream",
                            size_bytes=int(response.get("fileSize") or 0))

    def upload_media(self, store: MediaStore, key: str, *, origination: str) -> str:
        s3 = s3_store_of(store)
        return self._call("post_whatsapp_message_media",
                          self.requests.upload_media(origination, s3.bucket, validate_key(key)))["mediaId"]

    def list_templates(self) -> list[dict]:
        templates: list[dict] = []
        next_token: str | None = None
        while True:
            page = self._call("list_whatsapp_message_templates", self.requests.list_templates(next_token))
            templates.extend(normalise_template(item) for item in page.get("templates") or [])
            next_token = page.get("nextToken")
            if not next_token:
                return templates

    def get_template(self, template_id: str) -> dict:
        response = self._call("get_whatsapp_message_template", self.requests.get_template(template_id))
        try:
            document = json.loads(response.get("template") or "")
        except ValueError as exc:
            raise ProviderError(NOT_FOUND, f"Template {template_id} came back without a definition",
                                retryable=False) from exc
        return normalise_template(document)

    def create_template(self, definition: dict) -> dict:
        response = self._call("create_whatsapp_message_template", self.requests.create_template(definition))
        return {"id": response.get("metaTemplateId"), "status": response.get("templateStatus"),
                "category": response.get("category")}


class AwsWhatsAppProvider(_SocialMessagingProvider):
    """Live sends. Throttling and server errors surface as retryable ProviderErrors for the outbox to retry;
    botocore's own retries are kept few so a send does not block a worker for long."""

    def __init__(self, client: Any = None, settings: Settings | None = None):
        super().__init__(settings)
        self.client = client or boto3.client(
            "socialmessaging",
            region_name=self.settings.aws_region,
            config=PROVIDER_CLIENT_CONFIG,
        )

    def _call(self, operation: str, params: dict) -> dict:
        try:
            return getattr(self.client, operation)(**params)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified ProviderError
            raise classify_exception(exc) from exc


class DryRunWhatsAppProvider(_SocialMessagingProvider, DryRunRecorder):
    """Builds the live request, logs and records it, and calls nothing. Templates and media come from a
    sandbox (no events), so pages that list templates or show media work in a dry run."""

    def __init__(self, settings: Settings | None = None, sandbox: SandboxWhatsAppProvider | None = None):
        super().__init__(settings)
        if sandbox is None:
            from backend.adapters.channels.whatsapp_sandbox import SandboxWhatsAppProvider

            sandbox = SandboxWhatsAppProvider(self.settings)
        self.sandbox = sandbox
        DryRunRecorder.__init__(self)

    def _record(self, operation: str, params: dict) -> str:
        return self.record(operation, params, json.dumps(_readable(params), ensure_ascii=False))

    def _call(self, operation: str, params: dict) -> dict:
        # Only sends and media uploads reach here; each reads one id field from the response.
        synthetic_id = self._record(operation, params)
        return {"messageId": synthetic_id, "mediaId": synthetic_id}

    def fetch_media(self, media_id: str, *, origination: str, store: MediaStore, key: str,
                    mime_type_hint: str | None = None) -> FetchedMedia:
        return self.sandbox.fetch_media(media_id, origination=origination, store=store, key=key,
                                        mime_type_hint=mime_type_hint)

    def upload_media(self, store: MediaStore, key: str, *, origination: str) -> str:
        if isinstance(store, S3MediaStore):
            return super().upload_media(store, key, origination=origination)
        return self.sandbox.upload_media(store, key, origination=origination)

    def list_templates(self) -> list[dict]:
        return self.sandbox.list_templates()

    def get_template(self, template_id: str) -> dict:
        return self.sandbox.get_template(template_id)

    def create_template(self, definition: dict) -> dict:
        self._record("create_whatsapp_message_template", self.requests.create_template(definition))
        return self.sandbox.create_template(definition)


def _readable(params: dict) -> dict:
    """Request parameters for a log line: JSON blobs shown as JSON (requests carry no credentials)."""
    readable: dict = {}
    for name, value in params.items():
        if isinstance(value, bytes):
            try:
                value = json.loads(value)
            except ValueError:
                value = f"<{len(value)} bytes>"
        readable[name] = value
    return readable
