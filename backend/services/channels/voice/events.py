"""Voice call events (AWS End User Messaging SMS and voice, through SNS) applied to the call and its message.

Each SNS `Message` is one event object as the configuration set's event destination publishes it:
`eventType` (VOICE_INITIATED … VOICE_COMPLETED), the provider's `messageId`, `eventTimestamp` in ms, the
`context` the send gave (our message id), and on VOICE_COMPLETED the call's duration. A call's status only
moves forward (queued < initiated < ringing < answered, then one terminal status that stays); the message
follows through `apply_status` (initiated/ringing → SENT, answered/completed → DELIVERED, the rest → FAILED).
"""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from backend.adapters.channels.event_json import ID_MAX, storage_problem
from backend.adapters.channels.voice import CONTEXT_KEY
from backend.errors import BadRequest
from backend.models.base import utcnow
from backend.models.messaging import MessageModel, StatusChange
from backend.models.voice import VoiceCallModel
from backend.services.messaging.statuses import ProviderStatus, apply_status, message_id_for_provider_id

log = logging.getLogger(__name__)

MAX_CALL_SECONDS = 24 * 3600
CALL_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "answered": 3}
TERMINAL = ("completed", "busy", "no-answer", "failed")
CALL_STATUSES = (*CALL_RANK, *TERMINAL)
EVENT_STATUSES = {
    "VOICE_INITIATED": "initiated",
    "VOICE_RINGING": "ringing",
    "VOICE_ANSWERED": "answered",
    "VOICE_COMPLETED": "completed",
    "VOICE_BUSY": "busy",
    "VOICE_NO_ANSWER": "no-answer",
    "VOICE_FAILED": "failed",
    "VOICE_TTL_EXPIRED": "failed",
}
MESSAGE_STATUSES = {"initiated": "SENT", "ringing": "SENT", "answered": "DELIVERED", "completed": "DELIVERED",
                    "busy": "FAILED", "no-answer": "FAILED", "failed": "FAILED"}
_REASONS = {"busy": "The line was busy.", "no-answer": "Nobody answered the call.", "failed": "The call failed."}
_CALL_NAMESPACE = uuid.UUID("0b6a5f3e-8c1d-4f2a-9e7b-5d4c3b2a1f09")


def call_id_for(message_id: str) -> str:
    """A call's id, derived from its message's id (so an event naming the message finds the call)."""
    return uuid.uuid5(_CALL_NAMESPACE, message_id).hex


# ---------------------------------------------------------------- the call's status, forward only


def may_move(current: str, new: str) -> bool:
    if current in TERMINAL:
        return False
    return new in TERMINAL or CALL_RANK.get(new, -1) > CALL_RANK.get(current, 0)


def previous_statuses(new: str) -> list[str]:
    return [status for status in CALL_STATUSES if may_move(status, new)]


def record_call_status(
    call_id: str,
    status: str,
    at: datetime,
    detail: str | None = None,
    *,
    provider_message_id: str | None = None,
    duration_seconds: int | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bool:
    """Move the call to `status` and add it to the timeline, if that is forward; False otherwise."""
    call = VoiceCallModel
    actions = [
        call.status.set(status),
        call.updatedAt.set(utcnow()),
        call.events.set(call.events.append([StatusChange(status=status, at=at, detail=detail)])),
    ]
    if provider_message_id:
        actions.append(call.providerMessageId.set(provider_message_id))
    if status == "answered":
        actions.append(call.answeredAt.set(at))
    if status == "completed" and duration_seconds is not None:
        actions += [call.durationSeconds.set(duration_seconds),
                    call.answeredAt.set(call.answeredAt | (at - timedelta(seconds=duration_seconds)))]
    if status in TERMINAL:
        actions.append(call.endedAt.set(at))
    if error_code:
        actions += [call.errorCode.set(error_code), call.errorMessage.set(error_message or error_code)]
    return _update(call_id, actions, call.status.is_in(*previous_statuses(status)))


def reopen_call(call_id: str, detail: str) -> bool:
    """Back to queued, for a call that failed before the provider took it and is now sent again (a replay
    from the dead-letter queue): the one way a call leaves a terminal status."""
    call = VoiceCallModel
    actions = [
        call.status.set("queued"),
        call.updatedAt.set(utcnow()),
        call.events.set(call.events.append([StatusChange(status="queued", at=utcnow(), detail=detail)])),
        call.endedAt.remove(),
        call.errorCode.remove(),
        call.errorMessage.remove(),
    ]
    return _update(call_id, actions, (call.status == "failed") & call.providerMessageId.does_not_exist())


def note_provider_id(call_id: str, provider_message_id: str) -> None:
    """The provider took the call: remember its id (events may already have moved the status on)."""
    _update(call_id, [VoiceCallModel.providerMessageId.set(provider_message_id)], VoiceCallModel.callId.exists())


def _update(call_id: str, actions: list, condition) -> bool:
    try:
        VoiceCallModel(callId=call_id).update(actions=actions, condition=condition)
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ---------------------------------------------------------------- events from AWS


@dataclass(frozen=True)
class VoiceEvent:
    status: str  # one of CALL_STATUSES except queued
    provider_message_id: str
    at: datetime
    message_id: str | None = None  # ours, echoed from the send's Context
    duration_seconds: int | None = None
    reason_code: str | None = None  # BUSY, NO_ANSWER, FAILED, TTL_EXPIRED
    reason: str | None = None


def parse_voice_event(message: str | bytes | dict) -> VoiceEvent | None:
    """The event in one SNS `Message`; None for events about something else (e.g. SMS on the same topic).
    BadRequest when it cannot be read."""
    try:
        event = json.loads(message) if isinstance(message, (str, bytes, bytearray)) else message
    except (ValueError, RecursionError):
        raise BadRequest("Sns.Message: not JSON", field="Sns.Message") from None
    if not isinstance(event, dict) or not isinstance(event.get("eventType"), str):
        raise BadRequest("Sns.Message: no eventType", field="eventType")
    if not event["eventType"].startswith("VOICE_"):
        return None
    if problem := storage_problem(event):
        raise BadRequest(f"Sns.Message: {problem}", field="Sns.Message")
    status = EVENT_STATUSES.get(event["eventType"])
    provider_id = event.get("messageId")
    if status is None or not isinstance(provider_id, str) or not provider_id or len(provider_id) > ID_MAX:
        raise BadRequest(f"{event['eventType']}: unknown voice event, or no messageId", field="eventType")
    context = event.get("context") if isinstance(event.get("context"), dict) else {}
    ours = context.get(CONTEXT_KEY)
    failure = MESSAGE_STATUSES[status] == "FAILED"
    return VoiceEvent(
        status=status,
        provider_message_id=provider_id,
        at=_timestamp(event.get("eventTimestamp")),
        message_id=ours if isinstance(ours, str) and ours else None,
        duration_seconds=_whole(event.get("callDurationInSeconds")),
        reason_code=(event["eventType"].removeprefix("VOICE_") if failure else None),
        reason=(str(event.get("messageStatusDescription") or _REASONS[status]) if failure else None),
    )


def _timestamp(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _whole(value) -> int | None:
    """Whole seconds, at most a day: a longer duration is the provider's error (and would overflow a time)."""
    try:
        return min(max(0, int(value)), MAX_CALL_SECONDS) if value is not None else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(Infinity)
        return None


def apply_voice_event(event: VoiceEvent) -> bool:
    """Update the call (forward only) and its message; False when the call is unknown or the event stale."""
    message_id = event.message_id or message_id_for_provider_id(event.provider_message_id)
    if not message_id:
        log.info("voice event %s for unknown call %s", event.status, event.provider_message_id)
        return False
    detail = " ".join(filter(None, (event.reason_code, event.reason))) or None
    applied = record_call_status(
        call_id_for(message_id), event.status, event.at, detail,
        provider_message_id=event.provider_message_id, duration_seconds=event.duration_seconds,
        error_code=event.reason_code, error_message=event.reason,
    )
    moved = apply_status(ProviderStatus(
        channel="voice", provider_message_id=event.provider_message_id, status=MESSAGE_STATUSES[event.status],
        at=event.at, error_code=event.reason_code, error_detail=event.reason, message_id=message_id,
    ))
    if applied and not moved:
        _touch_message(message_id)  # ringing, completed… change the call only: still tell the live feed
    return applied


def _touch_message(message_id: str) -> None:
    """A write to the call's message row, so its stream (what open pages follow) carries the call's step."""
    try:
        MessageModel(messageId=message_id).update(
            actions=[MessageModel.updatedAt.set(utcnow())], condition=MessageModel.messageId.exists()
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def ingest_voice_event(message: str | bytes | dict) -> str:
    """Parse and apply one SNS message: "applied", "ignored" (stale or unknown call) or "skipped" (not voice).
    Also the sandbox's event sink."""
    event = parse_voice_event(message)
    if event is None:
        return "skipped"
    return "applied" if apply_voice_event(event) else "ignored"
