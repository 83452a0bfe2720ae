"""The JSON envelopes the endpoints wrap around service views (pages, lists), as pydantic models, so the
OpenAPI document describes exactly what the endpoints send."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, create_model

from backend.services.messaging.dlq import DlqAction, DlqResult
from backend.services.platform.api_model import ApiView


def page_of(item: type[BaseModel]) -> type[BaseModel]:
    """{"items": [...], "nextToken": cursor or null}: every paged listing."""
    return create_model(f"{item.__name__}Page", __base__=ApiView, items=(list[item], ...), next_token=(str | None, None))


def log_page_of(item: type[BaseModel]) -> type[BaseModel]:
    """A page of the message log, and how much of the log it read to find it (a request reads at most a
    fixed number of entries: `truncated` with a `nextToken` means "search on")."""
    return create_model(f"{item.__name__}LogPage", __base__=page_of(item), examined=(int, 0), truncated=(bool, False),
                        searched_to=(datetime | None, None))


def list_of(item: type[BaseModel]) -> type[BaseModel]:
    """{"items": [...]}: a listing without pages."""
    return create_model(f"{item.__name__}List", __base__=ApiView, items=(list[item], ...))


class DlqActionBody(DlqAction):
    """POST /dlq/replay: the entries to act on, and whether to replay them (the default) or discard them."""

    action: Literal["replay", "discard"] = "replay"


class DlqResults(ApiView):
    results: list[DlqResult] = Field(default_factory=list)
