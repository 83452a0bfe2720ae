"""The base of every shape crossing the service boundary: snake_case in Python, camelCase in JSON."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel


def _encodable(value: Any) -> Any:
    """Text that can be stored and sent: an unpaired UTF-16 surrogate (JSON's "\\ud800") is refused here, at the
    door of every request, rather than failing later when the message is encoded for the provider."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("contains an unpaired surrogate character") from None
    elif isinstance(value, (list, tuple)):
        for item in value:
            _encodable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _encodable(key)
            _encodable(item)
    return value


class ApiModel(BaseModel):
    """Requests: unknown fields are refused, so a typo is an error instead of a silently ignored field; text
    that cannot be encoded is refused with its field."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _text_is_encodable(cls, value: Any) -> Any:
        return _encodable(value)


class ApiView(BaseModel):
    """Responses built from rows."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_api(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
