"""The one door of every channel's Lambda: its REST route (API Gateway), its send queue (SQS) and its
provider's events (SNS: delivery reports, inbound messages, bounces, call steps), told apart by the event's
shape; the channel registry says what each channel runs.

Every channel's SNS batch goes through one loop with one failure policy: a record that cannot be read is
counted in `rejected` and skipped; a record that fails for another reason (a table outage) is logged and the
rest still go through; then, if any failed, the invocation raises so SNS redelivers the event, and the
exactly-once ingest skips what was already applied.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone

from backend.api.lambda_door import handle_http
from backend.api.queue_door import handle_queue, is_sqs_event
from backend.errors import BadRequest
from backend.services.rules.channels import channel_info
from backend.services.channels.registry import entry

log = logging.getLogger(__name__)


def is_sns_event(event: dict) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return isinstance(records, list) and bool(records) and all(isinstance(r, dict) and r.get("EventSource") == "aws:sns" for r in records)


def handle_channel_event(channel: str, event: dict) -> dict:
    """The channel's Lambda: a queue batch, a provider-event batch or an API Gateway request."""
    if is_sqs_event(event):
        return handle_queue(channel, event)
    if is_sns_event(event):
        return handle_sns(channel, event)
    return handle_http(channel_info(channel).function, event)


def handle_sns(channel: str, event: dict) -> dict:
    """SNS → the channel's ingest, record by record, with the one failure policy above. The summary adds up
    what each record changed, with the rejected records named."""
    ingest = entry(channel).ingest
    label = channel_info(channel).label
    counts: Counter = Counter()
    rejected: list[str] = []
    failed = 0
    records = event.get("Records") if isinstance(event, dict) else None
    for index, record in enumerate(records if isinstance(records, list) else []):
        sns = record.get("Sns") if isinstance(record, dict) else None
        message = sns.get("Message") if isinstance(sns, dict) else None
        try:
            if not isinstance(message, str):
                raise BadRequest("Records[].Sns.Message: missing", field="Sns.Message")
            for key, value in ingest(message, _published_at(sns)).items():
                if key == "rejected":
                    rejected.extend(f"record {index}: {reason}" for reason in value)
                else:
                    counts[key] += value
        except BadRequest as error:
            rejected.append(f"record {index}: {error.message}")
            log.warning("rejected %s SNS record %d: %s", label, index, error.message)
        except Exception:  # noqa: BLE001 - the others still go through; the raise below asks for a redelivery
            failed += 1
            log.exception("%s SNS record %d failed", label, index)
    if failed:
        raise RuntimeError(f"{failed} {label} event record(s) failed; SNS will redeliver the event")
    return {**counts, "rejected": rejected}


def _published_at(sns: dict) -> datetime | None:
    """SNS's publish time (a customer's SMS carries no time of its own)."""
    try:
        published = datetime.fromisoformat(str(sns.get("Timestamp")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return published if published.tzinfo else published.replace(tzinfo=timezone.utc)
