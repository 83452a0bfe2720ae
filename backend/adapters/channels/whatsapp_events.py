"""Parsing inbound WhatsApp events into typed rows: customer messages and status updates of our sends.

Two doors deliver the same Meta webhook entries: AWS End User Messaging Social publishes each entry to SNS
wrapped in its own envelope (`parse_sns_message`), and Meta can post them directly (`parse_meta_webhook`).
Pure functions, no I/O. An envelope that is unusable as a whole raises `MalformedEvent`; a bad piece inside a
good envelope is skipped with a reason in `ParsedEvents.rejected`, so one bad message never hides the others
(a piece is stored as received, so one a table cannot store is skipped too; see `event_json`).
Message types we do not know are kept (with a readable summary), never dropped: a customer wrote something.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from backend.adapters.channels.event_json import (
    ID_MAX, MalformedEvent, is_unicode, json_object, malformed, storage_problem,
)

SUMMARY_MAX = 300
STATUS_VALUES = frozenset({"sent", "delivered", "read", "failed"})
META_OBJECT = "whatsapp_business_account"
MEDIA_LABELS = {"image": "Photo", "video": "Video", "audio": "Audio", "document": "Document", "sticker": "Sticker"}

# ASCII digits only: `\d` would take any script's digits ("٤٤٧٧...") as a phone number or a time.
_WA_ID = re.compile(r"^\+?([0-9]{6,15})$")
_EPOCH = re.compile(r"^[0-9]{1,12}$")
_EPOCH_MAX = 10**12  # 12 digits, as _EPOCH


@dataclass(frozen=True)
class MediaRef:
    kind: str  # image | video | audio | document | sticker
    media_id: str  # Meta's media id, to download within its retention
    mime_type: str | None
    sha256: str | None
    caption: str | None
    filename: str | None


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str  # Meta's wamid: the idempotency key
    from_phone: str  # E.164 with "+" (Meta sends digits only)
    phone_number_id: str | None  # our number that received it
    profile_name: str | None  # the sender's WhatsApp profile name
    timestamp: datetime  # UTC
    kind: str  # Meta's type: text, image, ..., button; unknown types keep their own name
    text: str | None  # text body, media caption, or the title of the chosen button/list row
    summary: str  # one readable line for lists and logs, at most SUMMARY_MAX characters
    media: MediaRef | None
    reply_to: str | None  # wamid the customer replied to (context.id)
    reaction_to: str | None  # wamid the customer reacted to
    reaction_emoji: str | None  # None when the reaction was removed
    raw: dict = field(repr=False)  # the message object as received


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str  # wamid of our message
    status: str  # one of STATUS_VALUES
    timestamp: datetime  # UTC
    recipient_phone: str | None  # E.164 with "+"
    error_code: str | None  # from the first errors[] entry, e.g. "131047"
    error_title: str | None
    error_detail: str | None
    raw: dict = field(repr=False)  # the status object as received


@dataclass
class ParsedEvents:
    """What one envelope held; `rejected` explains each piece that was skipped (or that Meta reported as an error)."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def extend(self, other: ParsedEvents) -> None:
        self.messages.extend(other.messages)
        self.statuses.extend(other.statuses)
        self.rejected.extend(other.rejected)


# --- envelopes ---------------------------------------------------------------------------------------------


def parse_sns_message(message: str | bytes | dict) -> ParsedEvents:
    """The `Sns.Message` published by End User Messaging Social: its header plus one Meta webhook entry."""
    envelope = json_object(message, "Message")
    if "whatsAppWebhookEntry" not in envelope:
        raise malformed("whatsAppWebhookEntry", "missing")
    entry = json_object(envelope["whatsAppWebhookEntry"], "whatsAppWebhookEntry")
    return _parse_entry(entry, "whatsAppWebhookEntry.")


def parse_webhook_entry(entry: dict) -> ParsedEvents:
    """One Meta webhook entry (`{"id": <WABA id>, "changes": [...]}`); changes other than messages are ignored."""
    return _parse_entry(entry, "")


def parse_meta_webhook(body: dict) -> ParsedEvents:
    """Meta's own webhook body (`{"object": "whatsapp_business_account", "entry": [...]}`)."""
    body = json_object(body, "body")
    object_type = body.get("object")
    if object_type != META_OBJECT:
        problem = "missing" if object_type is None else f"expected '{META_OBJECT}', got {object_type!r}"
        raise malformed("object", problem)
    entries = _required_list(body, "entry", "")
    parsed = ParsedEvents()
    for index, entry in enumerate(entries):
        try:
            parsed.extend(_parse_entry(entry, f"entry[{index}]."))
        except MalformedEvent as error:  # one unusable entry does not hide the others
            parsed.rejected.append(error.message)
    return parsed


def _parse_entry(entry: object, prefix: str) -> ParsedEvents:
    if not isinstance(entry, dict):
        raise malformed(prefix.rstrip(".") or "entry", "not a JSON object")
    parsed = ParsedEvents()
    for index, change in enumerate(_required_list(entry, "changes", prefix)):
        where = f"{prefix}changes[{index}]"
        if not isinstance(change, dict):
            parsed.rejected.append(f"{where}: not a JSON object")
        elif change.get("field") == "messages":
            value = change.get("value")
            if isinstance(value, dict):
                parsed.extend(_parse_value(value, f"{where}.value"))
            else:
                parsed.rejected.append(f"{where}.value: not a JSON object")
    return parsed


def _parse_value(value: dict, where: str) -> ParsedEvents:
    parsed = ParsedEvents()
    metadata = _object(value.get("metadata"))
    phone_number_id = _text(metadata.get("phone_number_id"), limit=ID_MAX)
    contacts = [c for c in _items(value, "contacts", where, parsed) if isinstance(c, dict)]
    for index, raw in enumerate(_items(value, "messages", where, parsed)):
        try:
            parsed.messages.append(_message(raw, phone_number_id, contacts))
        except _Rejected as problem:
            parsed.rejected.append(f"{_piece_label(where, 'messages', index, raw)}: {problem}")
    for index, raw in enumerate(_items(value, "statuses", where, parsed)):
        try:
            parsed.statuses.append(_status(raw))
        except _Rejected as problem:
            parsed.rejected.append(f"{_piece_label(where, 'statuses', index, raw)}: {problem}")
    for index, raw in enumerate(_items(value, "errors", where, parsed)):
        code, title, detail = _first_error([raw])
        reported = " — ".join(part for part in (code, title, detail) if part) or "no details"
        parsed.rejected.append(f"{where}.errors[{index}]: Meta reported an error: {reported}")
    return parsed


# --- messages ----------------------------------------------------------------------------------------------


class _Rejected(Exception):
    """A piece (one message or status) that cannot be used; its text is the reason, naming the field."""


@dataclass(frozen=True)
class _Content:
    summary: str
    text: str | None = None
    media: MediaRef | None = None
    reaction_to: str | None = None
    reaction_emoji: str | None = None


def _message(raw: object, phone_number_id: str | None, contacts: list[dict]) -> InboundMessage:
    _check_piece(raw)
    provider_message_id = _required_text(raw, "id")
    wa_id = _wa_id(_required_text(raw, "from"), "from")
    timestamp = _epoch(raw.get("timestamp"))
    kind = _text(raw.get("type")) or "unknown"
    content = _CONTENT_READERS.get(kind, _unknown_content)(raw, kind)
    return InboundMessage(
        provider_message_id=provider_message_id,
        from_phone=f"+{wa_id}",
        phone_number_id=phone_number_id,
        profile_name=_profile_name(contacts, wa_id),
        timestamp=timestamp,
        kind=kind,
        text=content.text,
        summary=_one_line(content.summary),
        media=content.media,
        reply_to=_text(_object(raw.get("context")).get("id")),
        reaction_to=content.reaction_to,
        reaction_emoji=content.reaction_emoji,
        raw=raw,
    )


def _profile_name(contacts: list[dict], wa_id: str) -> str | None:
    """The sender's profile name. Meta's `wa_id` can differ from `from` (e.g. Brazil's extra 9, Mexico's 1),
    so a single contact is taken as the sender's even when the numbers do not match."""
    match = next((c for c in contacts if _wa_id_or_none(c.get("wa_id")) == wa_id), None)
    if match is None and len(contacts) == 1:
        match = contacts[0]
    return _text(_object(match.get("profile")).get("name")) if match else None


def _text_content(raw: dict, kind: str) -> _Content:
    body = _text(_object(raw.get(kind)).get("body"))
    return _Content(summary=body or "Empty message", text=body)


def _media_content(raw: dict, kind: str) -> _Content:
    body = _object(raw.get(kind))
    caption = _text(body.get("caption"))
    filename = _text(body.get("filename"))
    media_id = _text(body.get("id"))
    media = None
    if media_id:
        mime_type, sha256 = _text(body.get("mime_type")), _text(body.get("sha256"))
        media = MediaRef(kind, media_id, mime_type, sha256, caption, filename)
    label = MEDIA_LABELS[kind]
    if kind == "audio" and body.get("voice") is True:
        label = "Voice message"
    elif kind == "sticker" and body.get("animated") is True:
        label = "Animated sticker"
    return _Content(summary=_labelled(label, filename, caption), text=caption, media=media)


def _location_content(raw: dict, kind: str) -> _Content:
    body = _object(raw.get(kind))
    place = _text(body.get("name")), _text(body.get("address"))
    coordinates = _coordinate(body.get("latitude")), _coordinate(body.get("longitude"))
    return _Content(summary=_labelled("Location", *place, *coordinates))


def _contacts_content(raw: dict, kind: str) -> _Content:
    cards = [_contact_card(card) for card in _list(raw.get(kind)) if isinstance(card, dict)]
    cards = [card for card in cards if card]
    label = "Contact cards" if len(cards) > 1 else "Contact card"
    return _Content(summary=_labelled(label, ", ".join(cards)))


def _contact_card(card: dict) -> str:
    name = _object(card.get("name"))
    full_name = _text(name.get("formatted_name")) or " ".join(
        part for part in (_text(name.get("first_name")), _text(name.get("last_name"))) if part
    )
    phones = [p for p in _list(card.get("phones")) if isinstance(p, dict)]
    phone = next((_text(p.get("phone")) or _plus(p.get("wa_id")) for p in phones), None)
    if full_name and phone:
        return f"{full_name} ({phone})"
    return full_name or phone or ""


def _reaction_content(raw: dict, kind: str) -> _Content:
    body = _object(raw.get(kind))
    emoji = _text(body.get("emoji"))  # absent or empty: the customer removed their reaction
    return _Content(
        summary=f"Reacted {emoji}" if emoji else "Removed reaction",
        reaction_to=_text(body.get("message_id")),
        reaction_emoji=emoji,
    )


def _interactive_content(raw: dict, kind: str) -> _Content:
    body = _object(raw.get(kind))
    reply_type = _text(body.get("type")) or "unknown"
    title = _text(_object(body.get(reply_type)).get("title"))
    label = {"button_reply": "Button", "list_reply": "List choice"}.get(reply_type, f"Interactive reply ({reply_type})")
    return _Content(summary=_labelled(label, title), text=title)


def _button_content(raw: dict, kind: str) -> _Content:
    body = _object(raw.get(kind))
    title = _text(body.get("text")) or _text(body.get("payload"))
    return _Content(summary=_labelled("Button", title), text=title)


def _system_content(raw: dict, kind: str) -> _Content:
    return _Content(summary=_labelled("System message", _text(_object(raw.get(kind)).get("body"))))


def _unsupported_content(raw: dict, kind: str) -> _Content:
    _, title, detail = _first_error(_list(raw.get("errors")))
    reason = detail or title
    return _Content(summary=f"Unsupported message ({reason})" if reason else "Unsupported message")


def _unknown_content(raw: dict, kind: str) -> _Content:
    return _Content(summary=f"Unsupported message (type '{kind}')")


_CONTENT_READERS: dict[str, Callable[[dict, str], _Content]] = {
    "text": _text_content,
    **{kind: _media_content for kind in MEDIA_LABELS},
    "location": _location_content,
    "contacts": _contacts_content,
    "reaction": _reaction_content,
    "interactive": _interactive_content,
    "button": _button_content,
    "system": _system_content,
    "unsupported": _unsupported_content,
}


# --- statuses ----------------------------------------------------------------------------------------------


def _status(raw: object) -> StatusUpdate:
    _check_piece(raw)
    provider_message_id = _required_text(raw, "id")
    status = _required_text(raw, "status")
    if status not in STATUS_VALUES:
        raise _Rejected(f"status: unknown value {status!r}")
    error_code, error_title, error_detail = _first_error(_list(raw.get("errors")))
    return StatusUpdate(
        provider_message_id=provider_message_id,
        status=status,
        timestamp=_epoch(raw.get("timestamp")),
        recipient_phone=_plus(raw.get("recipient_id")),
        error_code=error_code,
        error_title=error_title,
        error_detail=error_detail,
        raw=raw,
    )


def _first_error(errors: list) -> tuple[str | None, str | None, str | None]:
    """(code, title, detail) of the first error object; older API versions put `details` at the top level."""
    error = next((e for e in errors if isinstance(e, dict)), {})
    code = error.get("code")
    return (
        _int_text(code) or _text(code),
        _text(error.get("title")) or _text(error.get("message")),
        _text(_object(error.get("error_data")).get("details")) or _text(error.get("details")),
    )


# --- small readers -----------------------------------------------------------------------------------------


def _check_piece(raw: object) -> None:
    """A message or status object is stored as received (`raw`), so all of it must be storable."""
    if not isinstance(raw, dict):
        raise _Rejected("not a JSON object")
    if problem := storage_problem(raw):
        raise _Rejected(problem)


def _required_list(container: dict, key: str, prefix: str) -> list:
    value = container.get(key)
    if not isinstance(value, list):
        raise malformed(f"{prefix}{key}", "missing" if value is None else "not a list")
    return value


def _items(value: dict, key: str, where: str, parsed: ParsedEvents) -> list:
    """An optional list inside a change value; anything else than a list is reported, not fatal."""
    items = value.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        parsed.rejected.append(f"{where}.{key}: not a list")
        return []
    return items


def _piece_label(where: str, key: str, index: int, raw: object) -> str:
    provider_id = _text(raw.get("id"), limit=ID_MAX) if isinstance(raw, dict) else None
    return f"{where}.{key}[{index}]" + (f" ({provider_id})" if provider_id else "")


def _required_text(raw: dict, key: str) -> str:
    """An id, a phone or a status: present, and short enough to be a table key."""
    value = _text(raw.get(key))
    if value is None:
        raise _Rejected(f"{key}: missing" if raw.get(key) is None else f"{key}: not a non-empty string")
    if len(value) > ID_MAX:
        raise _Rejected(f"{key}: longer than {ID_MAX} characters")
    return value


def _wa_id(value: str, key: str) -> str:
    digits = _wa_id_or_none(value)
    if digits is None:
        raise _Rejected(f"{key}: not a phone number ({value[:32]!r})")
    return digits


def _wa_id_or_none(value: object) -> str | None:
    """The digits of a WhatsApp id (Meta sends digits only; a leading '+' is tolerated)."""
    match = _WA_ID.match(value.strip()) if isinstance(value, str) else None
    return match.group(1) if match else None


def _plus(value: object) -> str | None:
    digits = _wa_id_or_none(value)
    return f"+{digits}" if digits else None


def _epoch(value: object) -> datetime:
    """Meta's timestamps: epoch seconds as a string (an integer is tolerated), as tz-aware UTC, never later
    than now."""
    if _is_int(value) and 0 <= value < _EPOCH_MAX:
        value = str(value)
    if value is None:
        raise _Rejected("timestamp: missing")
    if not isinstance(value, str) or not _EPOCH.match(value.strip()):
        shown = value[:32] if isinstance(value, str) else type(value).__name__  # str() of a huge int raises
        raise _Rejected(f"timestamp: not epoch seconds ({shown!r})")
    try:
        moment = datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise _Rejected(f"timestamp: out of range ({value.strip()!r})") from None
    # A time in the future is taken as now: a signed event must not hold the 24-hour window open for longer.
    return min(moment, datetime.now(timezone.utc))


def _coordinate(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # not a number, or an integer beyond a float
        return None
    return (str(number) if isinstance(value, str) else str(value)) if math.isfinite(number) else None


def _labelled(label: str, *parts: str | None) -> str:
    """`"Label: part, part"`, or the label alone when there is nothing to add."""
    detail = ", ".join(part for part in parts if part)
    return f"{label}: {detail}" if detail else label


def _one_line(summary: str) -> str:
    text = " ".join(summary.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _text(value: object, *, limit: int | None = None) -> str | None:
    """A non-blank string, else None (Meta omits optional fields or sends them empty); text that is not valid
    Unicode, or longer than `limit`, is treated as absent, as nothing could store it."""
    if not isinstance(value, str) or not value.strip() or (limit is not None and len(value) > limit):
        return None
    return value if is_unicode(value) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_text(value: object) -> str | None:
    """An integer (an error code) as text; None past 18 digits, as no code is that long (and str() of an
    integer past 4,300 digits raises)."""
    return str(value) if _is_int(value) and abs(value) < 10**18 else None


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
