"""Email through Amazon SES v2: the interface, the AWS adapter, the dry run and the local sandbox.

Every send carries our message id as the SES message tag `wecareMessageId`; SES event publishing (through
the configuration set) echoes it in `mail.tags`, so a status event finds its message even if the worker died
before recording the SES id. The AWS adapter and the dry run share one request builder, so a dry run shows
exactly the request a live send would make.

The sandbox records sends and answers with the events SES would publish to SNS (the event record is the SNS
`Message`): Send then Delivery. Outcomes can be forced by the recipient's local part, like SES's mailbox
simulator: `bounce…` → Send, Bounce (Permanent, General); `complaint…` → Send, Delivery, Complaint.
Otherwise `sandbox_failure_rate` of sends fail as `sandbox_failure_code` says: throttled (retryable),
server (retryable), anything else a permanent MessageRejected.
"""
from __future__ import annotations

import functools
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import boto3
from botocore.exceptions import ClientError

from backend.adapters.channels.dry_run import DryRunRecorder
from backend.adapters.channels.sandbox_events import DelayedEvents, EventSink
from backend.adapters.channels.sandbox_sends import SendLog
from backend.adapters.channels.errors import PROVIDER_CLIENT_CONFIG, INVALID_REQUEST, ProviderError, classify_exception
from backend.settings import Settings, get_settings


MESSAGE_ID_TAG = "wecareMessageId"
CHARSET = "UTF-8"


@runtime_checkable
class EmailProvider(Protocol):
    def send(self, *, to: str, from_address: str, subject: str, text: str, html: str | None,
             reply_to: str | None, configuration_set: str | None, headers: dict[str, str],
             message_id: str) -> str:
        """Send one email; returns the provider's message id (SES MessageId), or raises ProviderError."""


def send_email_request(*, to: str, from_address: str, subject: str, text: str, html: str | None,
                       reply_to: str | None, configuration_set: str | None, headers: dict[str, str],
                       message_id: str) -> dict:
    """SESv2 SendEmail parameters: simple content (text and HTML parts, extra headers) and our id as a tag."""
    body: dict = {"Text": {"Data": text, "Charset": CHARSET}}
    if html:
        body["Html"] = {"Data": html, "Charset": CHARSET}
    simple: dict = {"Subject": {"Data": subject, "Charset": CHARSET}, "Body": body}
    if headers:
        simple["Headers"] = [{"Name": name, "Value": value} for name, value in headers.items()]
    params: dict = {
        "FromEmailAddress": formataddr(parseaddr(from_address)),  # a non-ASCII display name is RFC 2047 encoded
        "Destination": {"ToAddresses": [to]},
        "Content": {"Simple": simple},
        "EmailTags": [{"Name": MESSAGE_ID_TAG, "Value": message_id}],
    }
    if reply_to:
        params["ReplyToAddresses"] = [reply_to]
    if configuration_set:
        params["ConfigurationSetName"] = configuration_set
    return params


class AwsEmailProvider:
    """Live sends. Throttling and outages surface as retryable ProviderErrors for the outbox to retry."""

    def __init__(self, client: Any = None, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.client = client or boto3.client(
            "sesv2",
            region_name=self.settings.aws_region,
            config=PROVIDER_CLIENT_CONFIG,
        )

    def send(self, **message: Any) -> str:
        try:
            return self.client.send_email(**send_email_request(**message))["MessageId"]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified ProviderError
            raise classify_exception(exc) from exc


class DryRunEmailProvider(DryRunRecorder):
    """Builds the live request, records it, logs where it would go (never the content), sends nothing."""

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or get_settings()

    def send(self, **message: Any) -> str:
        shown = f"to {message['to']} ({len(message['headers'] or {})} header(s), html={bool(message['html'])})"
        return self.record("send_email", send_email_request(**message), shown)


# ---------------------------------------------------------------- sandbox

SANDBOX_ACCOUNT_ID = "000000000000"
SANDBOX_MTA = "a1-1.smtp-out.sandbox.invalid"


def new_ses_message_id() -> str:
    """Shaped like SES's: 16 hex digits of time, a UUID, and a suffix."""
    return f"{int(time.time() * 1000):016x}-{uuid.uuid4()}-000000"


def ses_error(code: str, message: str, status: int = 400) -> ProviderError:
    """A ProviderError exactly as the live adapter would raise it for this SES error."""
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return classify_exception(ClientError(response, "SendEmail"))


def forced_events(to: str) -> list[str]:
    local = to.split("@", 1)[0].lower()
    if local.startswith("bounce"):
        return ["Send", "Bounce"]
    if local.startswith("complaint"):
        return ["Send", "Delivery", "Complaint"]
    return ["Send", "Delivery"]


def ses_event(event_type: str, record: dict, at: datetime) -> str:
    """One SES event-publishing record (the SNS `Message` string) for a sandbox send."""
    to, stamp = record["to"], _iso(at)
    source = parseaddr(record["from_address"])[1]
    mail = {
        "timestamp": record["sent_at"],
        "source": record["from_address"],
        "sourceArn": f"arn:aws:ses:{record['region']}:{SANDBOX_ACCOUNT_ID}:identity/{source.split('@')[-1]}",
        "sendingAccountId": SANDBOX_ACCOUNT_ID,
        "messageId": record["provider_message_id"],
        "destination": [to],
        "headersTruncated": False,
        "commonHeaders": {"from": [record["from_address"]], "to": [to], "messageId": record["provider_message_id"],
                          "subject": record["subject"]},
        "tags": {
            "ses:configuration-set": [record["configuration_set"] or "sandbox"],
            "ses:from-domain": [source.split("@")[-1]],
            "ses:caller-identity": ["sandbox"],
            MESSAGE_ID_TAG: [record["message_id"]],
        },
    }
    event: dict = {"eventType": event_type, "mail": mail}
    feedback_id = f"{int(at.timestamp() * 1000):016x}-{uuid.uuid4()}-000000"
    if event_type == "Send":
        event["send"] = {}
    elif event_type == "Delivery":
        event["delivery"] = {"timestamp": stamp, "processingTimeMillis": 120, "recipients": [to],
                             "smtpResponse": "250 2.0.0 OK (sandbox)", "reportingMTA": SANDBOX_MTA}
    elif event_type == "Bounce":
        event["bounce"] = {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": stamp,
                           "feedbackId": feedback_id, "reportingMTA": f"dsn; {SANDBOX_MTA}",
                           "bouncedRecipients": [{"emailAddress": to, "action": "failed", "status": "5.1.1",
                                                  "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}
    elif event_type == "Complaint":
        event["complaint"] = {"complainedRecipients": [{"emailAddress": to}], "timestamp": stamp,
                              "feedbackId": feedback_id, "userAgent": "Sandbox Mail",
                              "complaintFeedbackType": "abuse", "arrivalDate": record["sent_at"]}
    return json.dumps(event)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxEmailProvider:
    """In-memory, thread-safe; `sent` is for tests to inspect, and every send is appended to
    `<data_dir>/sandbox/email-sends.jsonl`."""

    def __init__(self, settings: Settings, on_event: EventSink | None = None, *, rng: random.Random | None = None):
        self.settings = settings
        self.on_event = on_event
        self.sent: list[dict] = []
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._events = DelayedEvents("email")
        self._sends = SendLog(Path(settings.data_dir) / "sandbox" / "email-sends.jsonl")

    def send(self, *, to: str, from_address: str, subject: str, text: str, html: str | None,
             reply_to: str | None, configuration_set: str | None, headers: dict[str, str],
             message_id: str) -> str:
        if "@" not in to or "\n" in subject or "\r" in subject or not text:
            raise ProviderError(INVALID_REQUEST, "BadRequestException: invalid recipient, subject or body (sandbox)",
                                retryable=False)
        self._raise_drawn_failure()
        record = {
            "provider_message_id": new_ses_message_id(), "message_id": message_id, "to": to,
            "from_address": from_address, "reply_to": reply_to, "subject": subject, "text": text, "html": html,
            "headers": dict(headers), "configuration_set": configuration_set, "region": self.settings.aws_region,
            "sent_at": _iso(datetime.now(UTC)),
        }
        with self._lock:
            self.sent.append(record)
            self._sends.append(record)
        self._schedule(record, forced_events(to))
        return record["provider_message_id"]

    def sent_before(self, message_id: str) -> str | None:
        """The SES id of this message's send if the sandbox received it (from any process), else None."""
        return self._sends.find(message_id)

    def _raise_drawn_failure(self) -> None:
        with self._lock:
            draw = self._rng.random()  # always drawn, so a seeded run is reproducible whatever the rate
        if draw >= self.settings.sandbox_failure_rate:
            return
        code = self.settings.sandbox_failure_code
        if code == "throttled":
            raise ses_error("TooManyRequestsException", "Maximum sending rate exceeded (sandbox)", 429)
        if code == "server":
            raise ses_error("InternalFailure", "Internal error (sandbox)", 500)
        raise ses_error("MessageRejected", "Email address is not verified (sandbox)")

    def _schedule(self, record: dict, events: list[str]) -> None:
        builders = [functools.partial(self._ses_event, kind, record) for kind in events]
        self._events.send(self.on_event, builders, self.settings.sandbox_latency_ms / 1000)

    @staticmethod
    def _ses_event(kind: str, record: dict) -> str:
        return ses_event(kind, record, datetime.now(UTC))

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def close(self) -> None:
        """Cancel events not yet delivered."""
        self._events.cancel_all()
