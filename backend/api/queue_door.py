"""SQS → outbox: one record per queued message id; failures are reported per record (partial batch)."""
from __future__ import annotations

import logging

from backend.adapters.send_queue import message_id_of
from backend.services.channels.registry import delivery_for
from backend.services.messaging import outbox

log = logging.getLogger(__name__)


def is_sqs_event(event: dict) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return isinstance(records, list) and bool(records) and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


def handle_queue(channel: str, event: dict) -> dict:
    """Deliver each record's message. A malformed record is logged and dropped (it can never succeed); an
    unexpected error is a batch-item failure so SQS redelivers only that record."""
    failures = []
    for record in event.get("Records", []):
        message_id = _message_id(record)
        if message_id is None:
            log.error("dropping malformed %s queue record %s", channel, record.get("messageId"))
            continue
        try:
            outcome = outbox.deliver(channel, message_id, delivery_for)
            log.info("%s %s: %s %s", channel, message_id, outcome.result, outcome.detail)
        except Exception:
            log.exception("delivering %s message %s failed; SQS will redeliver it", channel, message_id)
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}


def _message_id(record: dict) -> str | None:
    return message_id_of(record.get("body"))
