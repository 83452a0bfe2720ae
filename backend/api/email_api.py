"""Email doors: `POST /email/send`, and the SNS topic SES publishes sending events to."""
from __future__ import annotations

import logging

from backend.api.http import ApiRequest, ApiResponse
from backend.errors import BadRequest
from backend.services.channels.email import send as email_send
from backend.services.platform.access import Actor
from backend.services.channels.email.events import ingest_email_event

log = logging.getLogger(__name__)


def send_email(actor: Actor, request: ApiRequest) -> ApiResponse:
    message = email_send.send_email(actor, request.json(), via="api")
    return ApiResponse(202, message.to_api())


def handle_email_sns_event(event: dict) -> dict:
    """SNS → ingest, record by record; a malformed record is counted and skipped, never blocking the rest."""
    summary: dict = {"events": 0, "statusesApplied": 0, "statusesIgnored": 0, "suppressed": 0, "rejected": []}
    records = event.get("Records") if isinstance(event, dict) else None
    for index, record in enumerate(records if isinstance(records, list) else []):
        message = ((record or {}).get("Sns") or {}).get("Message") if isinstance(record, dict) else None
        try:
            if message is None:
                raise BadRequest("Records[].Sns.Message: missing", field="Sns.Message")
            report = ingest_email_event(message)
        except BadRequest as error:
            summary["rejected"].append(f"record {index}: {error.message}")
            log.warning("rejected SES event record %d: %s", index, error.message)
            continue
        summary["events"] += 1
        summary["statusesApplied" if report.status_applied else "statusesIgnored"] += 1
        summary["suppressed"] += len(report.suppressed)
    return summary
