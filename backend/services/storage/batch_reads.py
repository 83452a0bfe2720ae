"""Rows fetched by key in the order asked (keys-only index pages are turned into rows this way)."""
from __future__ import annotations

from typing import Callable, TypeVar

from backend.models.base import WecareModel

Row = TypeVar("Row", bound=WecareModel)


def rows_by_key(
    model: type[Row], keys: list[str], convert: Callable[[Row], object] | None = None, *, consistent: bool = False
) -> list:
    """BatchGetItem for hash keys; the result follows `keys` (None where a row has gone). With `convert`,
    missing rows are left out and the others converted."""
    if not keys:
        return []
    hash_key = model._hash_key_attribute().attr_name
    found = {getattr(row, hash_key): row for row in model.batch_get(list(dict.fromkeys(keys)), consistent_read=consistent)}
    rows = [found.get(key) for key in keys]
    return [convert(row) for row in rows if row is not None] if convert else rows
