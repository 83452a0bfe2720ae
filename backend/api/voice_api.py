"""Voice endpoints: place a call, the call log, one call; and the SNS door for voice events."""
from __future__ import annotations

import logging

from backend.api.http import ApiRequest, ApiResponse
from backend.errors import BadRequest
from backend.services.channels.voice import calls as voice_calls
from backend.services.platform.access import Actor
from backend.services.channels.voice.events import ingest_voice_event

log = logging.getLogger(__name__)


def place_call(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(202, voice_calls.place_call(actor, request.json(), via="api").to_api())


def list_calls(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = voice_calls.list_calls(
        actor,
        contact_id=request.query.get("contactId") or None,
        status=request.query.get("status") or None,
        day=request.query.get("day") or None,
        limit=request.int_param("limit", 50),
        next_token=request.query.get("nextToken") or None,
    )
    return ApiResponse(200, page.to_api())


def get_call(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, voice_calls.get_call(actor, request.path_params.get("callId", "")).to_api())


def handle_voice_sns_event(event: dict) -> dict:
    """SNS → voice events, record by record. A record that cannot be read is counted and skipped; one that
    fails for another reason (a table error) is retried by raising after the others are done (applying an
    event twice changes nothing)."""
    counts = {"applied": 0, "ignored": 0, "skipped": 0}
    rejected: list[str] = []
    failed = 0
    for index, record in enumerate(event.get("Records") or []):
        message = ((record or {}).get("Sns") or {}).get("Message") if isinstance(record, dict) else None
        try:
            if message is None:
                raise BadRequest("Records[].Sns.Message: missing", field="Sns.Message")
            counts[ingest_voice_event(message)] += 1
        except BadRequest as error:
            rejected.append(f"record {index}: {error.message}")
            log.warning("rejected voice SNS record %d: %s", index, error.message)
        except Exception:
            failed += 1
            log.exception("voice SNS record %d could not be applied", index)
    if failed:
        raise RuntimeError(f"{failed} voice event(s) could not be applied; the invocation will be retried")
    return {**counts, "rejected": rejected}
