"""Turning pydantic's errors into the domain's ValidationError (field, reason) once for all services."""
from __future__ import annotations

from typing import TypeVar

import pydantic

from backend.errors import ValidationError

Input = TypeVar("Input", bound=pydantic.BaseModel)


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
