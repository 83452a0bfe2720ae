"""Input validation shared by every service: pydantic's errors turned into the domain's ValidationError (field,
reason) once, and email addresses (users' and contacts' alike) normalised one way."""
from __future__ import annotations

import re
from typing import TypeVar

import pydantic

from backend.errors import ValidationError

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
