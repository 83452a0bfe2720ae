"""Voice calls: placing a text-to-speech call (rules, rows, the outbox) and reading the call log.

A call goes to a known contact (by id, or the contact owning the number given as `to`): every call then has a
consent check, a place in the contact's conversation and the byContact log. Unknown numbers are refused with
NotFound ("create the contact first"), as on WhatsApp. A call needs the contact's voice opt-in (optInVoice), and
an SMS opt-out (STOP) from the number counts as "do not call" (`rules/consent.check_send`).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice
from typing import Iterator, Literal

from pydantic import Field, field_validator

from backend.adapters.channels.voice import MESSAGE_BODY_MAX, VOICE_IDS
from backend.errors import NotFound, ValidationError
from backend.models.base import utcnow
from backend.services.rules.channels import Channel
from backend.services.rules.consent import check_send
from backend.models.contact import ContactModel
from backend.models.messaging import StatusChange
from backend.models.voice import VoiceCallModel
from backend.services.storage import page_tokens
from backend.services.channels.voice import ssml
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.storage.batch_reads import rows_by_key
from backend.services.contacts.contacts import live_contact_row
from backend.services.messaging.rows import new_message_id, outbound_row
from backend.services.messaging.schemas import Page, StatusStep
from backend.services.messaging.outbox import queue_for_contact
from backend.services.contacts.recipients import recipient_contact
from backend.services.storage.unit_of_work import UnitOfWork
from backend.services.platform.validation import check_choice, check_day, is_row_id, parse_input
from backend.services.channels.voice.events import CALL_STATUSES, call_id_for
from backend.settings import get_settings

CHANNEL = "voice"
SPOKEN_MAX = 3000  # Amazon Polly says at most 3,000 billed (spoken) characters a request
PAGE_MAX = 200
LOG_DAYS_BACK = 90  # the VoiceCall table's retention
EXAMINE_MAX = 1_000  # calls one list request reads to find its page, whatever the filter: a status filter over
# 90 days cannot turn one request into a read of every call


class VoiceCallRequest(ApiModel):
    contact_id: str | None = Field(default=None, max_length=64)
    to: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=MESSAGE_BODY_MAX)
    text_type: Literal["TEXT", "SSML"] = "TEXT"
    voice_id: str | None = Field(default=None, max_length=32)

    @field_validator("text")
    @classmethod
    def _says_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("voice_id")
    @classmethod
    def _known_voice(cls, value: str | None) -> str | None:
        return None if value is None else _voice(value)


def _voice(value: str) -> str:
    voice = value.strip().upper()
    if voice not in VOICE_IDS:
        raise ValueError(f"unknown voice {value!r}; one of {', '.join(VOICE_IDS)}")
    return voice


class VoiceCall(ApiView):
    call_id: str
    message_id: str | None = None
    contact_id: str | None = None
    to: str
    status: str
    text: str | None = None
    text_type: str = "TEXT"
    spoken: str = ""  # the words the call says (SSML read to its text; as stored if it cannot be read)
    voice_id: str | None = None
    duration_seconds: int | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    events: list[StatusStep] = []
    created_by: str | None = None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None


def to_voice_call(row: VoiceCallModel) -> VoiceCall:
    return VoiceCall(
        call_id=row.callId,
        message_id=row.messageId,
        contact_id=row.contactId,
        to=row.toNumber,
        status=row.status,
        text=row.text,
        text_type=row.textType or "TEXT",
        spoken=_spoken(row.text or "", row.textType or "TEXT"),
        voice_id=row.voiceId,
        duration_seconds=_duration(row),
        provider_message_id=row.providerMessageId,
        error_code=row.errorCode,
        error_message=row.errorMessage,
        events=[StatusStep(status=e.status, at=e.at, detail=e.detail) for e in row.events or []],
        created_by=row.createdBy,
        started_at=row.startedAt,
        answered_at=row.answeredAt,
        ended_at=row.endedAt,
        updated_at=row.updatedAt,
    )


def _spoken(text: str, text_type: str) -> str:
    if text_type != "SSML":
        return text
    try:
        return ssml.spoken_text(text, "SSML")
    except ValidationError:
        return text


def _duration(row: VoiceCallModel) -> int | None:
    """As the provider reported it, else from when the call was answered to when it ended."""
    if row.durationSeconds is not None:
        return int(row.durationSeconds)
    if row.status == "completed" and row.answeredAt and row.endedAt:
        return max(0, round((row.endedAt - row.answeredAt).total_seconds()))
    return None


# ---------------------------------------------------------------- placing a call


def _recipient(request: VoiceCallRequest) -> ContactModel:
    try:
        return recipient_contact(request.contact_id, request.to, "phone")
    except ValidationError as error:
        if error.field == "phone":  # the resolver names the contact field; the caller wrote `to`
            raise ValidationError(f"to: {error.message}", field="to") from None
        raise


def _default_voice() -> str:
    try:
        return _voice(get_settings().voice_default_voice_id)
    except ValueError as error:
        raise ValidationError(f"voiceId: the default voice is misconfigured ({error})", field="voiceId") from None


def place_call(actor: Actor, data: VoiceCallRequest | dict, *, via: str = "api") -> VoiceCall:
    """Check the request and the rules, write the message (PENDING), the call (queued), the conversation
    summary and the audit row in one transaction, then queue the message for the outbox."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(VoiceCallRequest, data)
    spoken = ssml.spoken_text(request.text, request.text_type)
    if len(spoken) > SPOKEN_MAX:
        raise ValidationError(f"text: says {len(spoken)} characters; a call says at most {SPOKEN_MAX}", field="text")
    voice_id = request.voice_id or _default_voice()
    contact = _recipient(request)
    now = utcnow()
    check_send(contact, Channel.VOICE, now=now)
    message_id = new_message_id()
    call_id = call_id_for(message_id)
    settings = get_settings()
    message = outbound_row(
        actor.user_id, contact, message_id=message_id, channel=CHANNEL, kind="voice", body=spoken, now=now,
        address=contact.phone, sender=settings.voice_origination_identity,
        payload={"text": request.text, "textType": request.text_type, "voiceId": voice_id, "callId": call_id},
    )
    call = VoiceCallModel(
        callId=call_id, messageId=message_id, contactId=contact.contactId, toNumber=contact.phone,
        status="queued", text=request.text, textType=request.text_type, voiceId=voice_id, createdBy=actor.user_id,
        startedAt=now, updatedAt=now, day=now.strftime("%Y-%m-%d"),
        events=[StatusChange(status="queued", at=now, detail=f"placed via {via}")],
    )
    call.stamp_expiry(now)
    work = UnitOfWork()
    work.save(call, VoiceCallModel.callId.does_not_exist())
    details = {"messageId": message_id, "voiceId": voice_id, "textType": request.text_type}
    queue_for_contact(actor, contact, message, preview=spoken, via=via, details=details, work=work,
                      audit=("voice.call", "voiceCall", call_id))
    return to_voice_call(call)


# ---------------------------------------------------------------- reading


def get_call(actor: Actor, call_id: str) -> VoiceCall:
    require(actor, Operation.VOICE_READ)
    if is_row_id(call_id):
        try:
            row = VoiceCallModel.get(call_id, consistent_read=True)
            if row.is_live():
                return to_voice_call(row)
        except VoiceCallModel.DoesNotExist:
            pass
    raise NotFound(f"No call {call_id!r}.", field="callId")


def _day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("day: use YYYY-MM-DD", field="day") from None


def list_calls(
    actor: Actor,
    *,
    contact_id: str | None = None,
    status: str | None = None,
    day: date | str | None = None,
    limit: int = 50,
    next_token: str | None = None,
) -> Page:
    """Calls newest first: a contact's (byContact), or the log a day at a time (byDay) from `day` or today
    back over the table's retention; optionally only those in `status`."""
    require(actor, Operation.VOICE_READ)
    if not isinstance(limit, int) or not 1 <= limit <= PAGE_MAX:
        raise ValidationError(f"limit: must be between 1 and {PAGE_MAX}", field="limit")
    check_choice("status", status, CALL_STATUSES)
    day = check_day(_day(day), days_back=LOG_DAYS_BACK, today=utcnow().date())
    query_tag = "|".join(str(x) for x in (contact_id, status, day))
    if contact_id:
        live_contact_row(contact_id)
        keys = ("callId", "contactId", "startedAt")
        start = page_tokens.decode(next_token, query_tag, keys) if next_token else None
        found = _by_contact(contact_id, start)
    else:
        keys = ("callId", "day", "startedAt")
        start = page_tokens.decode(next_token, query_tag, keys) if next_token else None
        first = date.fromisoformat(start["day"]["S"]) if start else (day or utcnow().date())
        found = _by_day(first, day or first - timedelta(days=LOG_DAYS_BACK), start)
    items: list[VoiceCall] = []
    now = utcnow()
    key, examined = None, 0
    for examined, (key, row) in enumerate(islice(found, EXAMINE_MAX), start=1):
        if row is None or not row.is_live(now) or (status and row.status != status):
            continue
        items.append(to_voice_call(row))
        if len(items) == limit:
            break
    if key is None or (len(items) < limit and examined < EXAMINE_MAX):
        return Page(items=items)  # the walk reached the end
    last = key.serialize(null_check=False)  # a full page, or the read cap: the next page reads on from here
    return Page(items=items, next_token=page_tokens.encode({k: last[k] for k in keys}, query_tag))


Found = Iterator[tuple[VoiceCallModel, VoiceCallModel | None]]  # (index item holding the key, the row)


def _by_contact(contact_id: str, start: dict | None) -> Found:
    for row in VoiceCallModel.by_contact.query(contact_id, scan_index_forward=False, page_size=100,
                                               last_evaluated_key=start):
        yield row, row  # the index projects every attribute


def _by_day(first: date, oldest: date, start: dict | None) -> Found:
    current = first
    while current >= oldest:
        keys = iter(VoiceCallModel.by_day.query(current.isoformat(), scan_index_forward=False, page_size=100,
                                                last_evaluated_key=start))
        start = None
        while chunk := list(islice(keys, 100)):
            yield from zip(chunk, rows_by_key(VoiceCallModel, [key.callId for key in chunk]))
        current -= timedelta(days=1)
