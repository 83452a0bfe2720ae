"""Idempotency keys of REST sends: a client whose connection dropped retries with the same `Idempotency-Key` and
gets the first answer back instead of a second message.

A key is claimed with a conditional put before the send runs, so of two concurrent duplicates only one sends
(the other is told the first is still in progress, 409). The answer is then stored on the claim for 24 hours
(the RateLimitTracker table's TTL), scoped to the caller: another user's identical key is another record.

What is stored: a success, and an unexpected failure (500) whose outcome is unknown - replaying that one would
risk a second send. A domain error (4xx) changed nothing (house rule), so its claim is released and a retry
with the same key runs afresh, e.g. after a rate limit or once the customer has opted in.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import zlib
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PynamoDBException

from backend.errors import BadRequest, Conflict, ValidationError
from backend.models.runtime_config import RateLimitTrackerModel as Record
from backend.services.platform.access import Actor, Operation, require

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEY_PATTERN = r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?"  # printable ASCII, no space at either end
_KEY = re.compile(KEY_PATTERN)


class IdempotencyKeyReused(ValidationError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_KEY_IN_PROGRESS"


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: Any


def check_key(raw: str) -> str:
    """The key as given, if it is 1-255 printable ASCII characters (HTTP trims spaces at the ends, so they are
    not part of a key); else a 400 naming the header."""
    if not _KEY.fullmatch(raw):
        raise BadRequest(f"{HEADER}: use 1 to 255 printable ASCII characters.", field=HEADER)
    return raw


def fingerprint(route_key: str, path_params: dict[str, str], body: bytes | None) -> str:
    """What the key was used for: the route, its path and the exact body bytes."""
    digest = hashlib.sha256(route_key.encode())
    digest.update(json.dumps(sorted(path_params.items())).encode())
    digest.update(b"\0" + (body or b""))
    return digest.hexdigest()


def _row_key(actor: Actor, key: str) -> str:
    return "idem#" + hashlib.sha256(f"{actor.user_id}\0{key}".encode()).hexdigest()


def claim(actor: Actor, operation: Operation, key: str, used_for: str) -> StoredAnswer | None:
    """Claim `key` for this caller: None if the caller should now run the request (and then `complete` or
    `release`), or the first answer to return again. 422 if the key was used for another request, 409 while
    the first is still running."""
    require(actor, operation)
    row_key = _row_key(actor, key)
    try:
        existing = Record.get(row_key, consistent_read=True)
    except Record.DoesNotExist:
        existing = None
    if existing is not None and existing.is_live():
        return _answer_of(existing, used_for)
    fresh = Record(limiterKey=row_key, fingerprint=used_for)
    fresh.stamp_expiry()
    condition = Record.limiterKey.does_not_exist() if existing is None else Record.expiresAt == existing.expiresAt
    try:
        fresh.save(condition=condition)
    except PynamoDBException as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return _answer_of(Record.get(row_key, consistent_read=True), used_for)  # a concurrent duplicate won
    return None


def _answer_of(row: Record, used_for: str) -> StoredAnswer:
    if row.fingerprint != used_for:
        raise IdempotencyKeyReused(f"{HEADER} was already used for a different request; use a new key.", field=HEADER)
    if row.responseStatus is None:
        raise IdempotencyInProgress(f"A request with this {HEADER} is still in progress; retry later.", field=HEADER)
    body = json.loads(zlib.decompress(row.responseBody)) if row.responseBody else None
    return StoredAnswer(int(row.responseStatus), body)


def complete(actor: Actor, key: str, answer: StoredAnswer) -> None:
    """Store the first answer on the caller's claim. If it cannot be stored the claim stays in progress: a retry
    is refused (409) rather than sent twice."""
    body = zlib.compress(json.dumps(answer.body, separators=(",", ":")).encode()) if answer.body is not None else None
    try:
        Record(limiterKey=_row_key(actor, key)).update(
            actions=[Record.responseStatus.set(answer.status), Record.responseBody.set(body) if body else Record.responseBody.remove()],
            condition=Record.limiterKey.exists(),
        )
    except PynamoDBException:
        log.exception("could not store the answer of an idempotent request; its key stays in progress")


def release(actor: Actor, key: str) -> None:
    """Forget the claim of a request that changed nothing, so a retry with the same key runs again."""
    try:
        Record(limiterKey=_row_key(actor, key)).delete(condition=Record.responseStatus.does_not_exist())
    except PynamoDBException:
        log.exception("could not release an idempotency claim; the key stays in progress until it expires")
