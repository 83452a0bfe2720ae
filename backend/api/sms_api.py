"""SMS doors: `POST /sms/send`, and the SNS topic AWS End User Messaging SMS publishes inbound texts and
delivery events to."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from backend.api.http import ApiRequest, ApiResponse
from backend.errors import BadRequest
from backend.services.channels.sms import send as sms_send
from backend.services.platform.access import Actor
from backend.services.channels.sms.inbound import ingest_sms_event
from backend.services.channels.whatsapp.inbound import IngestReport

log = logging.getLogger(__name__)


def send_sms(actor: Actor, request: ApiRequest) -> ApiResponse:
    message = sms_send.send_sms(actor, request.json(), via="api")
    return ApiResponse(202, message.to_api())


def handle_sms_sns_event(event: dict) -> dict:
    """SNS → ingest, record by record. A poison record is counted in `rejected` and skipped; an unexpected
    failure (a table outage) is raised only after every other record has been processed, so SNS redelivers
    the event and the exactly-once ingest skips what was already stored."""
    report = IngestReport()
    failures = 0
    for index, record in enumerate((event.get("Records") if isinstance(event, dict) else None) or []):
        sns = record.get("Sns") if isinstance(record, dict) else None
        message = sns.get("Message") if isinstance(sns, dict) else None
        try:
            if not isinstance(message, str):
                raise BadRequest("Records[].Sns.Message: missing", field="Sns.Message")
            report.add(ingest_sms_event(message, received_at=_published_at(sns)))
        except BadRequest as error:
            report.rejected.append(f"record {index}: {error.message}")
            log.warning("rejected SMS SNS record %d: %s", index, error.message)
        except Exception:  # noqa: BLE001 - the others still go through; the raise below asks for a redelivery
            failures += 1
            log.exception("SMS SNS record %d failed", index)
    if failures:
        raise RuntimeError(f"{failures} SMS event record(s) failed; SNS will redeliver")
    return {
        "stored": report.stored,
        "duplicates": report.duplicates,
        "statusesApplied": report.statuses_applied,
        "statusesIgnored": report.statuses_ignored,
        "consentChanges": report.consent_changes,
        "rejected": report.rejected,
    }


def _published_at(sns: dict) -> datetime | None:
    """SNS's publish time: a customer's text carries no time of its own."""
    try:
        published = datetime.fromisoformat(str(sns.get("Timestamp")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return published if published.tzinfo else published.replace(tzinfo=timezone.utc)
