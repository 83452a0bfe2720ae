"""Input validation shared by every service: pydantic's errors turned into the domain's ValidationError (field,
reason) once, and email addresses (users' and contacts' alike) normalised one way."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any, TypeVar

import pydantic

from backend.errors import BadRequest, ValidationError

Input = TypeVar("Input", bound=pydantic.BaseModel)
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def parse_input(schema: type[Input], data: object) -> Input:
    """Validate `data` against `schema`, raising ValidationError with one detail per bad field."""
    if isinstance(data, schema):
        return data
    if not isinstance(data, dict):
        raise ValidationError("Expected a JSON object.", field=None)
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as error:
        details = [_detail(e) for e in error.errors()]
        first = details[0]
        raise ValidationError(f"{first['field']}: {first['reason']}", field=first["field"], details=details) from None


def _detail(error: dict) -> dict:
    field = ".".join(str(part) for part in error["loc"]) or "body"
    reason = error["msg"]
    if error["type"] == "extra_forbidden":
        reason = "unknown field"
    elif error["type"] == "missing":
        reason = "is required"
    return {"field": field, "reason": reason}

def normalise_email(raw: str, field: str = "email") -> str:
    text = raw.strip().lower()
    if len(text) > EMAIL_MAX:
        raise ValidationError(f"Email is too long (at most {EMAIL_MAX} characters).", field=field)
    if not _EMAIL.match(text):
        raise ValidationError(f"'{raw.strip()}' is not a valid email address.", field=field)
    return text


def check_day(day: date | None, *, days_back: int, today: date, field: str = "day") -> date | None:
    """A day to list: from `days_back` days ago (what the table keeps) to tomorrow (a caller ahead of UTC)."""
    if day is None:
        return None
    oldest, newest = today - timedelta(days=days_back), today + timedelta(days=1)
    if not oldest <= day <= newest:
        raise ValidationError(f"{field}: a day from {oldest.isoformat()} to {newest.isoformat()}", field=field)
    return day


MAX_JSON_DEPTH = 32  # objects and arrays inside each other; real requests use three or four


def parse_json(raw: bytes | str, field: str = "body") -> Any:
    """JSON from a caller, refused with a clear error (never a crash) when it is not JSON, is nested more than
    MAX_JSON_DEPTH levels deep, or holds text Python cannot encode (an unpaired UTF-16 surrogate)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadRequest(f"{field}: nested more than {MAX_JSON_DEPTH} levels deep", field=field) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"{field}: not valid JSON ({error})", field=field) from None
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"{field}: nested more than {MAX_JSON_DEPTH} levels deep", field=field)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                where = f"{path}.{key}" if path and isinstance(key, str) else f"{path}[{key}]" if path or not isinstance(key, str) else key
                if isinstance(key, str):
                    check_text(key, where)
                stack.append((child, depth + 1, where))
        elif isinstance(item, str):
            check_text(item, path or field)
    return value


def check_choice(field: str, value: object, choices) -> None:
    """`value` is None (not asked) or one of `choices`; otherwise a refusal that lists them."""
    if value is not None and value not in choices:
        raise ValidationError(f"{field}: one of {', '.join(choices)}", field=field)


_ROW_ID = re.compile(r"^[0-9a-f]{32}$")


def is_row_id(value: object) -> bool:
    """Whether `value` has the shape of our row ids (uuid4 hex: contacts, messages, calls), checked before a
    read so that no other key of a shared table (`phone#…`) can be asked for by id."""
    return isinstance(value, str) and _ROW_ID.match(value) is not None


def check_row_ids(values: object, field: str, most: int) -> list[str]:
    """A list of at most `most` distinct row ids (repeats once, in order), each checked before any read."""
    if not isinstance(values, (list, tuple)):
        raise ValidationError(f"{field}: a list of ids", field=field)
    ids = list(dict.fromkeys(values))
    if len(ids) > most:
        raise ValidationError(f"{field}: at most {most} at a time", field=field)
    for value in ids:
        if not is_row_id(value):
            raise ValidationError(f"{field}: {str(value)[:40]!r} is not an id", field=field)
    return ids


def check_text(text: str, field: str) -> str:
    """Text that can be stored and sent: no unpaired UTF-16 surrogate (JSON's "\\ud800" escape makes one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{field}: contains an unpaired surrogate character", field=field) from None
    return text
