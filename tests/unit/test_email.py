"""Email: the rules and roles hold, content is safe before it is stored, a send goes out once through the outbox,
SES events move statuses forward only, and hard bounces and complaints suppress the address (audited)."""
from __future__ import annotations

import json
import threading
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from backend.api.channel_door import handle_sns
from backend.adapters.channels import providers
from backend.adapters.channels.email import (
    AwsEmailProvider,
    DryRunEmailProvider,
    SandboxEmailProvider,
    send_email_request,
)
from backend.adapters.channels.errors import classify_exception
from backend.adapters.send_queue import lambda_handler, sqs_record
from backend.api import email_api
from backend.api.http import ApiRequest, invoke
from backend.errors import ConsentRequired, NotFound, OptedOut, PermissionDenied, Unauthenticated, ValidationError
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.platform.access import Actor
from backend.services.platform.audit import resource_history
from backend.services.contacts.contacts import create_contact, delete_contact, get_contact, update_contact
from backend.services.channels.email.events import ingest_email_event
from backend.services.channels.email.send import send_email
from backend.settings import SendMode, Settings, reset_settings_cache
from tests.conftest import unique_email, unique_phone
from tests.whatsapp_events import sns_event

UNSUBSCRIBE_URL = "https://prefs.example.com/unsubscribe"
FROM = "WECARE.DIGITAL <no-reply@wecare.example.com>"


@pytest.fixture(autouse=True)
def email_settings(monkeypatch):
    monkeypatch.setenv("WECARE_EMAIL_UNSUBSCRIBE_URL", UNSUBSCRIBE_URL)
    monkeypatch.setenv("WECARE_EMAIL_FROM", FROM)
    monkeypatch.setenv("WECARE_EMAIL_CONFIGURATION_SET", "wecare-events")
    reset_settings_cache()
    yield
    reset_settings_cache()


@pytest.fixture
def mail(messaging, tmp_path):
    """A fresh sandbox email provider (events off unless a test sets a sink) behind the local send queue."""
    providers.reset_providers()
    provider = SandboxEmailProvider(Settings(data_dir=tmp_path, sandbox_latency_ms=0))
    providers.EMAIL.use(provider)
    yield provider
    providers.reset_providers()


@pytest.fixture
def reader(operator):
    return create_contact(operator, {"name": "Rae Reader", "email": unique_email(), "optInEmail": True})


def send(actor, contact, **fields):
    return send_email(actor, {"contactId": contact.contact_id, "subject": "Your order", "text": "It shipped.", **fields})


def row_of(message) -> MessageModel:
    return MessageModel.get(message.message_id, consistent_read=True)


# ---------------------------------------------------------------- SES events, shaped as SES publishes them to SNS


def ses_event(event_type: str, row: MessageModel, *, tagged: bool = True, **detail) -> str:
    """An SES event-publishing record for the email in `row` (see "Examples of event data that Amazon SES
    publishes to Amazon SNS")."""
    mail = {
        "timestamp": "2026-01-07T12:00:00.012Z",
        "source": FROM,
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/wecare.example.com",
        "sendingAccountId": "123456789012",
        "messageId": row.providerMessageId,
        "destination": [row.address],
        "headersTruncated": False,
        "tags": {"ses:configuration-set": ["wecare-events"], "ses:from-domain": ["wecare.example.com"]},
    }
    if tagged:
        mail["tags"]["wecareMessageId"] = [row.messageId]
    event = {"eventType": event_type, "mail": mail}
    key = event_type[0].lower() + event_type[1:]
    if event_type == "Send":
        event["send"] = {}
    elif event_type == "Delivery":
        event["delivery"] = {"timestamp": "2026-01-07T12:00:01.184Z", "processingTimeMillis": 826,
                             "recipients": [row.address], "smtpResponse": "250 ok: Message accepted",
                             "reportingMTA": "a8-70.smtp-out.amazonses.com", **detail}
    elif event_type == "Bounce":
        event["bounce"] = {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-01-07T12:00:02.669Z",
                           "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
                           "reportingMTA": "dsn; mta.example.com",
                           "bouncedRecipients": [{"emailAddress": row.address, "action": "failed", "status": "5.1.1",
                                                  "diagnosticCode": "smtp; 550 5.1.1 user unknown"}], **detail}
    elif event_type == "Complaint":
        event["complaint"] = {"complainedRecipients": [{"emailAddress": row.address}],
                              "timestamp": "2026-01-07T12:05:00.000Z",
                              "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000001",
                              "userAgent": "Mozilla/5.0", "complaintFeedbackType": "abuse",
                              "arrivalDate": "2026-01-07T12:04:59.000Z", **detail}
    else:
        event[key] = detail
    return json.dumps(event)


def events(*messages: str) -> dict:
    return handle_sns("email", sns_event(*messages))


def consent_audits(contact_id: str) -> list:
    return [entry for entry in resource_history("contact", contact_id) if entry.action == "contact.consent"]


# ---------------------------------------------------------------- sending


def test_an_email_goes_out_once_with_list_unsubscribe_and_follows_ses_events(operator, reader, mail, messaging):
    sent = send(operator, reader, html="<p>It <b>shipped</b>.</p>")
    assert sent.status == "PENDING" and sent.channel == "email" and sent.kind == "email"
    assert sent.subject == "Your order" and sent.address == reader.email
    assert messaging.drain() == 1
    row = row_of(sent)
    assert row.status == "ACCEPTED" and row.providerMessageId == mail.sent[0]["provider_message_id"]

    request = mail.sent[0]
    assert request["to"] == reader.email and request["from_address"] == FROM
    assert request["configuration_set"] == "wecare-events" and request["message_id"] == sent.message_id
    assert request["subject"] == "Your order" and request["text"] == "It shipped."
    assert request["html"] == "<p>It <b>shipped</b>.</p>"
    assert request["headers"] == {
        "List-Unsubscribe": f"<mailto:no-reply@wecare.example.com?subject=unsubscribe%20{sent.message_id}>, "
                            f"<{UNSUBSCRIBE_URL}?m={sent.message_id}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }

    summary = events(ses_event("Send", row), ses_event("Delivery", row))
    assert summary == {"events": 2, "statusesApplied": 2, "statusesIgnored": 0, "suppressed": 0, "rejected": []}
    row.refresh()
    assert row.status == "DELIVERED"
    assert [s.status for s in row.statusHistory] == ["PENDING", "ACCEPTED", "SENT", "DELIVERED"]

    # a redelivered queue record does not send again
    lambda_handler("outbound-email")({"Records": [sqs_record(sent.message_id, receive_count=2)]}, None)
    assert len(mail.sent) == 1


def test_html_is_sanitised_before_it_is_stored_and_gets_a_plain_text_part(operator, reader, mail, messaging):
    html = ('<p onclick="steal()">Hello <a href="javascript:alert(1)">friend</a>,</p><script>alert(1)</script>'
            '<p>See <a href="https://shop.example/o/9">your order</a>.</p><img src="data:image/png;base64,AA">')
    sent = send_email(operator, {"contactId": reader.contact_id, "subject": "Hello", "html": html})
    row = row_of(sent)
    stored = row.payload["html"]
    for bad in ("onclick", "javascript:", "<script", "data:"):
        assert bad not in stored
    assert '<a href="https://shop.example/o/9" rel="noopener">your order</a>' in stored
    assert row.body == row.payload["text"] == "Hello friend,\n\nSee your order (https://shop.example/o/9)."
    assert row.subject == row.payload["subject"] == "Hello" and row.sender == FROM
    messaging.drain()
    assert mail.sent[0]["html"] == stored and mail.sent[0]["text"] == row.body


def test_send_by_address_finds_the_contact_and_unknown_addresses_are_not_found(operator, reader, mail):
    sent = send_email(operator, {"to": reader.email.upper(), "subject": "Hi", "text": "By address"})
    assert sent.contact_id == reader.contact_id
    with pytest.raises(NotFound) as error:
        send_email(operator, {"to": unique_email(), "subject": "Hi", "text": "Who?"})
    assert error.value.field == "to"


def test_email_needs_consent_and_an_address(operator, mail, messaging):
    silent = create_contact(operator, {"name": "No Consent", "email": unique_email()})
    with pytest.raises(ConsentRequired) as error:
        send(operator, silent)
    assert error.value.field == "contactId"
    phone_only = create_contact(operator, {"name": "Phone Only", "phone": unique_phone()})
    with pytest.raises(ValidationError) as error:
        send(operator, phone_only)
    assert error.value.field == "contactId"
    assert messaging.drain() == 0 and mail.sent == []


def test_an_opted_out_contact_gets_nothing(operator, reader, mail, messaging):
    update_contact(operator, reader.contact_id, {"optInEmail": False})
    with pytest.raises(OptedOut) as error:
        send(operator, reader)
    assert error.value.code == "OPTED_OUT" and "opted out of email" in error.value.message
    assert messaging.drain() == 0 and mail.sent == []


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"subject": None}, "subject"),
        ({"subject": "Hi\r\nBcc: everyone@example.com"}, "subject"),
        ({"subject": "x" * 999}, "subject"),
        ({"text": None}, "text"),
        ({"text": "x" * (100 * 1024 + 1)}, "text"),
        ({"html": "<p>" + "x" * (256 * 1024) + "</p>"}, "html"),
        ({"text": None, "html": "<script>alert(1)</script>"}, "html"),
        ({"text": "x" * (100 * 1024), "html": "<p>" + "y" * (200 * 1024) + "</p>"}, "html"),  # too big to store
        ({"colour": "red"}, "colour"),
        ({"contactId": None}, "contactId"),
    ],
)
def test_bad_requests_name_the_field_and_queue_nothing(operator, reader, mail, messaging, fields, field):
    body = {"contactId": reader.contact_id, "subject": "Hi", "text": "Body", **fields}
    body = {key: value for key, value in body.items() if value is not None}
    with pytest.raises(ValidationError) as error:
        send_email(operator, body)
    assert error.value.field == field or field in str(error.value.details)
    assert messaging.drain() == 0 and mail.sent == []
    assert list(MessageModel.by_contact.query(reader.contact_id)) == []


def test_roles_hold_for_sending(operator, viewer, reader, mail):
    with pytest.raises(PermissionDenied):
        send(viewer, reader)
    with pytest.raises(Unauthenticated):
        send(Actor.anonymous(), reader)

    def post(actor):
        body = json.dumps({"contactId": reader.contact_id, "subject": "Hi", "text": "Body"}).encode()
        return invoke(email_api.send_email, actor, ApiRequest("POST", raw_body=body))

    assert post(viewer).status == 403
    assert post(Actor.anonymous()).status == 401
    accepted = post(operator)
    assert accepted.status == 202 and accepted.body["status"] == "PENDING" and accepted.body["subject"] == "Hi"


# ---------------------------------------------------------------- delivery failures through the outbox


def test_throttling_is_retried_then_dead_lettered(operator, reader, mail, messaging, tmp_path):
    providers.EMAIL.use(SandboxEmailProvider(
        Settings(data_dir=tmp_path, sandbox_failure_rate=1.0, sandbox_failure_code="throttled")))
    sent = send(operator, reader)
    messaging.drain()
    row = row_of(sent)
    assert row.status == "DEAD" and row.errorCode == "THROTTLED" and int(row.attempts) == 5
    assert DLQMessageModel.get(f"email#{sent.message_id}").errorCode == "THROTTLED"


def test_a_rejected_message_fails_at_once(operator, reader, mail, messaging, tmp_path):
    providers.EMAIL.use(SandboxEmailProvider(
        Settings(data_dir=tmp_path, sandbox_failure_rate=1.0, sandbox_failure_code="invalid_number")))
    sent = send(operator, reader)
    messaging.drain()
    row = row_of(sent)
    assert row.status == "FAILED" and row.errorCode == "MESSAGE_REJECTED" and int(row.attempts) == 1


# ---------------------------------------------------------------- SES events: statuses and suppression


def delivered_row(operator, contact, messaging) -> MessageModel:
    sent = send(operator, contact)
    messaging.drain()
    return row_of(sent)


def test_a_hard_bounce_fails_the_message_and_suppresses_the_address(operator, reader, mail, messaging):
    row = delivered_row(operator, reader, messaging)
    bounce = ses_event("Bounce", row)
    assert events(ses_event("Send", row), bounce)["suppressed"] == 1
    row.refresh()
    assert row.status == "FAILED" and row.errorCode == "BOUNCE_PERMANENT"
    assert row.errorMessage == "Permanent bounce (General): smtp; 550 5.1.1 user unknown"

    contact = get_contact(operator, reader.contact_id)
    assert contact.opt_in_email is False
    assert contact.consent["email"].opted_in is False and contact.consent["email"].source == "SES bounce"
    audit, = consent_audits(reader.contact_id)
    assert audit.actor_id == "system:ses-events" and audit.changed_fields == ["optInEmail"]
    assert audit.details["reason"] == "bounce" and audit.details["bounceType"] == "Permanent"
    assert audit.details["messageId"] == row.messageId

    # SNS redelivers: nothing changes twice
    assert events(bounce) == {"events": 1, "statusesApplied": 0, "statusesIgnored": 1, "suppressed": 0, "rejected": []}
    assert len(consent_audits(reader.contact_id)) == 1
    with pytest.raises(OptedOut) as error:
        send(operator, reader)
    assert "SES bounce" in error.value.message


def test_a_complaint_suppresses_but_never_moves_a_delivered_message_back(operator, reader, mail, messaging):
    row = delivered_row(operator, reader, messaging)
    events(ses_event("Delivery", row))
    summary = events(ses_event("Complaint", row))
    assert summary["suppressed"] == 1 and summary["statusesIgnored"] == 1
    row.refresh()
    assert row.status == "DELIVERED"
    assert [s.status for s in row.statusHistory] == ["PENDING", "ACCEPTED", "DELIVERED"]
    contact = get_contact(operator, reader.contact_id)
    assert contact.opt_in_email is False and contact.consent["email"].source == "SES complaint"
    audit, = consent_audits(reader.contact_id)
    assert audit.actor_id == "system:ses-events" and audit.details["reason"] == "complaint"


def test_a_transient_bounce_does_not_suppress(operator, reader, mail, messaging):
    row = delivered_row(operator, reader, messaging)
    events(ses_event("Bounce", row, bounceType="Transient", bounceSubType="MailboxFull"))
    row.refresh()
    assert row.status == "FAILED" and row.errorCode == "BOUNCE_TRANSIENT"
    assert get_contact(operator, reader.contact_id).opt_in_email is True
    assert consent_audits(reader.contact_id) == []


def test_statuses_never_move_backwards_and_untagged_events_match_by_ses_id(operator, reader, mail, messaging):
    row = delivered_row(operator, reader, messaging)
    events(ses_event("Delivery", row, tagged=False))
    events(ses_event("Send", row, tagged=False), ses_event("Bounce", row, bounceType="Transient"))
    row.refresh()
    assert row.status == "DELIVERED" and row.errorCode is None


def test_suppression_retries_when_the_contact_changed_meanwhile(operator, reader, mail, messaging, monkeypatch):
    from backend.services.channels.email import events as email_events
    from backend.services.storage.unit_of_work import UnitOfWork

    row = delivered_row(operator, reader, messaging)
    commit = UnitOfWork.commit
    calls = []

    def edited_meanwhile(self):
        calls.append(1)
        if len(calls) == 1:  # someone renames the contact between our read and our write
            update_contact(operator, reader.contact_id, {"name": "Renamed"})
        return commit(self)

    monkeypatch.setattr(UnitOfWork, "commit", edited_meanwhile)
    assert email_events.ingest_email_event(ses_event("Complaint", row)).suppressed == [reader.contact_id]
    contact = get_contact(operator, reader.contact_id)
    assert len(calls) == 3  # ours (lost the race), the rename's, ours again
    assert contact.name == "Renamed" and contact.opt_in_email is False
    assert len(consent_audits(reader.contact_id)) == 1


def test_poison_records_are_counted_and_never_block_the_rest(operator, reader, mail, messaging):
    row = delivered_row(operator, reader, messaging)
    no_id = json.loads(ses_event("Delivery", row))
    del no_id["mail"]["messageId"]
    no_bounce_type = json.loads(ses_event("Bounce", row))
    del no_bounce_type["bounce"]["bounceType"]
    event = sns_event("not json", json.dumps(no_id), json.dumps(no_bounce_type), ses_event("Delivery", row))
    event["Records"].insert(0, {"EventSource": "aws:sns", "Sns": {}})
    summary = handle_sns("email", event)
    assert summary["events"] == 1 and summary["statusesApplied"] == 1
    assert summary["rejected"] == [
        "record 0: Records[].Sns.Message: missing",
        "record 1: Message: not valid JSON",
        "record 2: mail.messageId: missing",
        "record 3: bounce.bounceType: missing",
    ]
    row.refresh()
    assert row.status == "DELIVERED"


def test_other_event_types_are_accepted_and_ignored(operator, reader, mail, messaging):
    row = delivered_row(operator, reader, messaging)
    report = ingest_email_event(ses_event("Open", row, ipAddress="192.0.2.1", timestamp="2026-01-07T13:00:00.000Z"))
    assert report.event_type == "Open" and not report.status_applied and report.suppressed == []
    row.refresh()
    assert row.status == "ACCEPTED"


# ---------------------------------------------------------------- the sandbox, end to end


class EventLog:
    def __init__(self, expected: int):
        self.events: list[str] = []
        self.expected = expected
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        with self._lock:
            self.events.append(message)
            if len(self.events) >= self.expected:
                self.done.set()

    def wait(self) -> list[str]:
        assert self.done.wait(5), f"only {len(self.events)} of {self.expected} sandbox events arrived"
        return self.events


@pytest.mark.parametrize(
    "local, expected, status, source",
    [
        ("reader", ["Send", "Delivery"], "DELIVERED", None),
        ("bounce", ["Send", "Bounce"], "FAILED", "SES bounce"),
        ("complaint", ["Send", "Delivery", "Complaint"], "DELIVERED", "SES complaint"),
    ],
)
def test_the_sandbox_publishes_ses_events_the_pipeline_understands(operator, mail, messaging, local, expected, status, source):
    contact = create_contact(operator, {"name": "Sandbox", "email": f"{local}+{uuid.uuid4().hex[:8]}@example.com",
                                        "optInEmail": True})
    log = EventLog(expected=len(expected))
    providers.EMAIL.set_sink(log)
    sent = send(operator, contact)
    messaging.drain()
    published = log.wait()  # applied here, on the test's thread (moto's DynamoDB is not thread-safe)
    assert [json.loads(event)["eventType"] for event in published] == expected
    first = json.loads(published[0])["mail"]
    assert first["tags"]["wecareMessageId"] == [sent.message_id] and first["destination"] == [contact.email]
    events(*published)
    assert row_of(sent).status == status
    record = get_contact(operator, contact.contact_id).consent["email"]
    assert record.source == source if source else record.opted_in
    line = (mail.settings.data_dir / "sandbox" / "email-sends.jsonl").read_text().splitlines()[-1]
    assert json.loads(line)["message_id"] == sent.message_id


# ---------------------------------------------------------------- the AWS adapter


MESSAGE = dict(to="ann@example.com", from_address="Wecäre Digital <no-reply@wecare.example.com>", subject="Hello",
               text="Hi Ann", html="<p>Hi Ann</p>", reply_to="help@wecare.example.com", configuration_set="wecare-events",
               headers={"List-Unsubscribe": "<mailto:no-reply@wecare.example.com?subject=unsubscribe>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
               message_id="0123456789abcdef0123456789abcdef")


def test_the_ses_request_is_pinned_exactly():
    client = boto3.client("sesv2", region_name="us-east-1")
    expected = {
        "FromEmailAddress": "=?utf-8?q?Wec=C3=A4re_Digital?= <no-reply@wecare.example.com>",
        "Destination": {"ToAddresses": ["ann@example.com"]},
        "Content": {"Simple": {
            "Subject": {"Data": "Hello", "Charset": "UTF-8"},
            "Body": {"Text": {"Data": "Hi Ann", "Charset": "UTF-8"}, "Html": {"Data": "<p>Hi Ann</p>", "Charset": "UTF-8"}},
            "Headers": [
                {"Name": "List-Unsubscribe", "Value": "<mailto:no-reply@wecare.example.com?subject=unsubscribe>"},
                {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
            ],
        }},
        "EmailTags": [{"Name": "wecareMessageId", "Value": "0123456789abcdef0123456789abcdef"}],
        "ReplyToAddresses": ["help@wecare.example.com"],
        "ConfigurationSetName": "wecare-events",
    }
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "0100018c-ses-id-000000"}, expected)
        assert AwsEmailProvider(client=client, settings=Settings()).send(**MESSAGE) == "0100018c-ses-id-000000"
        stub.assert_no_pending_responses()


def test_a_live_send_through_the_outbox_reaches_ses(operator, reader, messaging):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sesv2.models import sesv2_backends

    client = boto3.client("sesv2", region_name="us-east-1")
    client.create_email_identity(EmailIdentity="wecare.example.com")
    providers.EMAIL.use(AwsEmailProvider(client=client))
    try:
        sent = send(operator, reader, html="<p>It shipped.</p>")
        messaging.drain()
    finally:
        providers.reset_providers()
    row = row_of(sent)
    delivered, = sesv2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].core_backend.sent_messages
    assert row.status == "ACCEPTED" and row.providerMessageId == delivered.id
    assert delivered.destinations == {"ToAddresses": [reader.email]} and delivered.subject == "Your order"


def test_ses_refusals_are_classified_for_the_outbox():
    def error(code: str, status: int, operation: str = "SendEmail"):
        response = {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return classify_exception(ClientError(response, operation))

    for code, status in (("TooManyRequestsException", 429), ("LimitExceededException", 400)):
        assert (error(code, status).code, error(code, status).retryable) == ("THROTTLED", True)
    for code, ours in (("MessageRejected", "MESSAGE_REJECTED"), ("MailFromDomainNotVerifiedException", "SENDING_DISABLED"),
                       ("AccountSuspendedException", "SENDING_DISABLED"), ("SendingPausedException", "SENDING_DISABLED")):
        assert (error(code, 400).code, error(code, 400).retryable) == (ours, False)
    # other services keep their meaning of LimitExceededException (a hard quota)
    assert error("LimitExceededException", 400, "SendWhatsAppMessage").retryable is False


def test_an_unreachable_ses_is_retryable():
    client = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("send_email", "InternalFailure", "boom", http_status_code=500)
        with pytest.raises(Exception) as raised:
            AwsEmailProvider(client=client, settings=Settings()).send(**MESSAGE)
    assert raised.value.code == "PROVIDER_UNAVAILABLE" and raised.value.retryable


def test_dry_run_records_the_live_request_and_sends_nothing():
    provider = DryRunEmailProvider(Settings())
    assert provider.send(**MESSAGE).startswith("dryrun.")
    assert provider.recorded == [{"operation": "send_email", "params": send_email_request(**MESSAGE)}]


def test_the_factory_follows_the_send_mode(tmp_path):
    providers.reset_providers()
    try:
        for mode, kind in ((SendMode.SANDBOX, SandboxEmailProvider), (SendMode.DRY_RUN, DryRunEmailProvider),
                           (SendMode.LIVE, AwsEmailProvider)):
            providers.reset_providers()
            provider = providers.EMAIL.get(Settings(send_mode=mode, data_dir=tmp_path))
            assert isinstance(provider, kind) and providers.EMAIL.get() is provider
        providers.reset_providers()
        sink = EventLog(expected=1)
        providers.EMAIL.set_sink(sink)
        assert providers.EMAIL.get(Settings(data_dir=tmp_path)).on_event is sink
    finally:
        providers.reset_providers()


def test_a_bounced_address_stays_suppressed_when_its_contact_is_deleted_and_made_again(operator, reader, mail, messaging):
    """The bounce is the address's, not the row's: a contact re-created on it starts opted out, and an
    operator cannot switch it back on."""
    row = delivered_row(operator, reader, messaging)
    assert events(ses_event("Bounce", row))["suppressed"] == 1
    delete_contact(operator, reader.contact_id)

    again = create_contact(operator, {"name": "Rae Again", "email": reader.email})
    assert again.opt_in_email is False and again.consent["email"].source == "SES bounce"
    with pytest.raises(OptedOut):
        update_contact(operator, again.contact_id, {"optInEmail": True})
