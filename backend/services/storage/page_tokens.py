"""Opaque pagination cursors: a DynamoDB start key, bound to the query it continues."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json

from backend.errors import ValidationError

_FIELD = "nextToken"


def _query_tag(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def encode(start_key: dict, query: str) -> str:
    payload = json.dumps({"k": start_key, "q": _query_tag(query)}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(token: str, query: str, key_names: tuple[str, ...]) -> dict:
    """The start key inside `token`, or a ValidationError if it is malformed or from another query."""
    if not isinstance(token, str) or len(token) > 2048:
        raise ValidationError("nextToken: not a token this API issued", field=_FIELD)
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationError("nextToken: not a token this API issued", field=_FIELD) from None
    key = payload.get("k") if isinstance(payload, dict) else None
    if not isinstance(key, dict) or set(key) != set(key_names) or not all(_is_string_value(v) for v in key.values()):
        raise ValidationError("nextToken: not a token this API issued", field=_FIELD)
    if payload.get("q") != _query_tag(query):
        raise ValidationError("nextToken: belongs to a different search", field=_FIELD)
    return key


def _is_string_value(value: object) -> bool:
    return isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str) and len(value["S"]) <= 1024
