"""The base of every shape crossing the service boundary: snake_case in Python, camelCase in JSON."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Requests: unknown fields are refused, so a typo is an error instead of a silently ignored field."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ApiView(BaseModel):
    """Responses built from rows."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_api(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
