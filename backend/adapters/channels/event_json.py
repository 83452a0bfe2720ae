"""Reading the JSON of a provider event (an SNS `Message`, a webhook body), shared by the event parsers.

Whatever a provider (or anyone holding a signing key) sends, a parser ends in a parsed event or a
`MalformedEvent` naming the field: never a crash, because a crash in an SNS door asks SNS to redeliver, and an
event that can never succeed would be redelivered until it expires. What JSON can carry but nothing
downstream can store is caught here: nesting deeper than Python's parser recurses, JSON's "\\ud800" escape
(it decodes to an unpaired UTF-16 surrogate that no UTF-8 table, log line or response can hold), and a
piece too large for a table row.
"""
from __future__ import annotations

import json

from backend.errors import BadRequest

NOT_UNICODE = "holds text that is not valid Unicode (an unpaired surrogate)"
# A row holds the piece as JSON (non-ASCII escaped, as the model stores it) and its text again, and a table row
# holds 400 KB at most. Meta's largest message (a 4,096-character text, a few contact cards) is far smaller.
MAX_STORED_BYTES = 128 * 1024
ID_MAX = 256  # characters of a provider's id (theirs are far shorter): a table key holds 2,048 bytes at most


class MalformedEvent(BadRequest):
    code = "MALFORMED_EVENT"


def malformed(field_name: str, problem: str) -> MalformedEvent:
    return MalformedEvent(f"{field_name}: {problem}", field=field_name)


def json_object(value: object, field_name: str) -> dict:
    """`value` as a JSON object, decoding it first when it arrives as JSON text (a string or UTF-8 bytes)."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise malformed(field_name, "not valid JSON") from None
    if not isinstance(value, dict):
        raise malformed(field_name, "not a JSON object")
    return value


def is_unicode(text: str) -> bool:
    """False when `text` holds an unpaired surrogate (it cannot be encoded as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storage_problem(document: object) -> str | None:
    """Why a decoded event (or a piece of one) cannot be stored as received, or None: text that is not valid
    Unicode (object keys included), or more than MAX_STORED_BYTES of JSON, near enough. Iterative, so any
    depth is walked."""
    size, stack = 0, [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_unicode(item):
                return NOT_UNICODE
            size += len(json.dumps(item))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        size += 8  # quotes, separators, numbers and literals, near enough
    return f"larger than {MAX_STORED_BYTES // 1024} KB" if size > MAX_STORED_BYTES else None
