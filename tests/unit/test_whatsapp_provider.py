"""WhatsApp providers: AWS request shapes pinned with Stubber, error classification, dry run, sandbox, factory."""
from __future__ import annotations

import json
import random
import threading

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from backend.adapters.channels import providers
from backend.adapters.channels.errors import ProviderError, classify_client_error, classify_exception
from backend.adapters.channels.whatsapp import (
    AwsWhatsAppProvider,
    DryRunWhatsAppProvider,
    FetchedMedia,
    WhatsAppProvider,
)
from backend.adapters.channels.whatsapp_sandbox import SandboxWhatsAppProvider
from backend.adapters.media_store import LocalMediaStore, S3MediaStore
from backend.settings import SendMode, Settings

PHONE_ID = "phone-number-id-0123456789abcdef0123456789abcdef"
WABA_ID = "waba-0123456789abcdef0123456789abcdef"
BUCKET = "wecare-media-test"

TEXT = {"messaging_product": "whatsapp", "to": "+447700900123", "type": "text",
        "text": {"preview_url": False, "body": "Your parcel is on its way 📦"}}
TEMPLATE = {"messaging_product": "whatsapp", "to": "+447700900124", "type": "template",
            "template": {"name": "appointment_reminder", "language": {"code": "en_GB"}, "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "Tuesday 4 March"}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Sam"}, {"type": "text", "text": "10:30"}]},
            ]}}


def blob(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, whatsapp_phone_number_id=PHONE_ID, whatsapp_waba_id=WABA_ID,
                    whatsapp_meta_api_version="v20.0", sandbox_latency_ms=0, sandbox_failure_rate=0.0)


@pytest.fixture
def aws(settings):
    client = boto3.client("socialmessaging", region_name="us-east-1")
    with Stubber(client) as stub:
        yield AwsWhatsAppProvider(client=client, settings=settings), stub
        stub.assert_no_pending_responses()


@pytest.fixture
def s3_store() -> S3MediaStore:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return S3MediaStore(BUCKET, client=client)


# --- AWS request shapes --------------------------------------------------------------------------------

@pytest.mark.parametrize("message", [TEXT, TEMPLATE], ids=["text", "template"])
def test_aws_send_posts_the_meta_message_as_json_bytes(aws, message):
    provider, stub = aws
    stub.add_response("send_whatsapp_message", {"messageId": "wamid.HBgMNDQ3NzAwOTAwMTIz"}, {
        "originationPhoneNumberId": PHONE_ID, "message": blob(message), "metaApiVersion": "v20.0"})

    assert provider.send(message, origination=PHONE_ID, idempotency_key="msg-1") == "wamid.HBgMNDQ3NzAwOTAwMTIz"


def test_aws_mark_read_sends_a_read_status(aws):
    provider, stub = aws
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    stub.add_response("send_whatsapp_message", {"messageId": "wamid.IN1"}, {
        "originationPhoneNumberId": PHONE_ID, "message": blob(receipt), "metaApiVersion": "v20.0"})

    assert provider.mark_read("wamid.IN1", origination=PHONE_ID) is None


def test_aws_fetch_media_lands_the_bytes_at_the_callers_key(aws, s3_store):
    provider, stub = aws
    stub.add_response("get_whatsapp_message_media", {"mimeType": "image/jpeg", "fileSize": 10}, {
        "mediaId": "1013859600285441", "originationPhoneNumberId": PHONE_ID,
        "destinationS3File": {"bucketName": BUCKET, "key": "whatsapp-incoming/1013859600285441/"}})
    # What AWS does during the call: write `<key prefix><media id>.<ext>` into the bucket.
    s3_store.put("whatsapp-incoming/1013859600285441/1013859600285441.jpeg", b"jpeg bytes", "image/jpeg")

    fetched = provider.fetch_media("1013859600285441", origination=PHONE_ID, store=s3_store,
                                   key="inbound/c-1/photo.jpeg")

    assert fetched == FetchedMedia(mime_type="image/jpeg", size_bytes=10)
    assert s3_store.get("inbound/c-1/photo.jpeg") == b"jpeg bytes"
    assert s3_store.find_key("whatsapp-incoming/") is None


def test_aws_media_calls_refuse_a_local_store_before_calling_aws(aws, tmp_path):
    provider, _ = aws  # no responses queued: any call would fail the Stubber
    local = LocalMediaStore(tmp_path / "media")
    with pytest.raises(ValueError, match="S3 media store"):
        provider.fetch_media("1", origination=PHONE_ID, store=local, key="inbound/x.jpg")
    with pytest.raises(ValueError, match="S3 media store"):
        provider.upload_media(local, "outbound/x.jpg", origination=PHONE_ID)


def test_aws_upload_media_posts_the_s3_file(aws, s3_store):
    provider, stub = aws
    stub.add_response("post_whatsapp_message_media", {"mediaId": "1122334455667788"}, {
        "originationPhoneNumberId": PHONE_ID, "sourceS3File": {"bucketName": BUCKET, "key": "outbound/leaflet.pdf"}})

    assert provider.upload_media(s3_store, "outbound/leaflet.pdf", origination=PHONE_ID) == "1122334455667788"


def test_aws_list_templates_follows_next_token_and_normalises(aws):
    provider, stub = aws
    stub.add_response("list_whatsapp_message_templates", {"nextToken": "page-2", "templates": [
        {"templateName": "order_update", "metaTemplateId": "101", "templateStatus": "APPROVED",
         "templateQualityScore": "GREEN", "templateLanguage": "en_US", "templateCategory": "UTILITY"}]},
        {"id": WABA_ID})
    stub.add_response("list_whatsapp_message_templates", {"templates": [
        {"templateName": "spring_offer", "metaTemplateId": "102", "templateStatus": "PENDING",
         "templateLanguage": "en_US", "templateCategory": "MARKETING"}]},
        {"id": WABA_ID, "nextToken": "page-2"})

    templates = provider.list_templates()

    assert templates == [
        {"id": "101", "name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
         "quality": "GREEN", "components": []},
        {"id": "102", "name": "spring_offer", "language": "en_US", "status": "PENDING", "category": "MARKETING",
         "quality": None, "components": []},
    ]


def test_aws_get_template_parses_the_meta_definition(aws):
    provider, stub = aws
    body = {"type": "BODY", "text": "Good news! Your order {{1}} is on its way."}
    stub.add_response("get_whatsapp_message_template", {"template": json.dumps(
        {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
         "id": "101", "components": [body]})}, {"id": WABA_ID, "metaTemplateId": "101"})

    template = provider.get_template("101")

    assert (template["name"], template["status"], template["components"]) == ("order_update", "APPROVED", [body])


def test_aws_create_template_sends_the_definition_as_json_bytes(aws):
    provider, stub = aws
    definition = {"name": "delivery_window", "language": "en_GB", "category": "UTILITY",
                  "components": [{"type": "BODY", "text": "Your delivery arrives between {{1}} and {{2}}.",
                                  "example": {"body_text": [["9:00", "11:00"]]}}]}
    stub.add_response("create_whatsapp_message_template",
                      {"metaTemplateId": "1234567890", "templateStatus": "PENDING", "category": "UTILITY"},
                      {"templateDefinition": blob(definition), "id": WABA_ID})

    assert provider.create_template(definition) == {"id": "1234567890", "status": "PENDING", "category": "UTILITY"}


# --- error classification ------------------------------------------------------------------------------

@pytest.mark.parametrize(("aws_code", "status", "text", "code", "retryable"), [
    ("ThrottledRequestException", 429, "Rate exceeded", "THROTTLED", True),
    ("InternalServiceException", 500, "Internal error", "PROVIDER_UNAVAILABLE", True),
    ("DependencyException", 502, "Meta unavailable", "PROVIDER_UNAVAILABLE", True),
    ("ValidationException", 400, "Invalid originationPhoneNumberId", "INVALID_REQUEST", False),
    ("AccessDeniedException", 403, "Not authorized", "ACCESS_DENIED", False),
    ("ValidationException", 400, "(#131047) Re-engagement message", "REENGAGEMENT_REQUIRED", False),
    ("ValidationException", 400, "Meta error 132001: template name does not exist", "TEMPLATE_NOT_APPROVED", False),
    ("InvalidParametersException", 400, "131026 Message undeliverable", "INVALID_NUMBER", False),
    ("DependencyException", 502, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
     "THROTTLED", True),
])
def test_aws_errors_become_classified_provider_errors(aws, aws_code, status, text, code, retryable):
    provider, stub = aws
    stub.add_client_error("send_whatsapp_message", service_error_code=aws_code, service_message=text,
                          http_status_code=status)

    with pytest.raises(ProviderError) as raised:
        provider.send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")

    assert (raised.value.code, raised.value.retryable) == (code, retryable)
    assert aws_code in raised.value.message


def test_unknown_5xx_and_failures_to_connect_are_retryable_but_a_lost_answer_is_not():
    odd = ClientError({"Error": {"Code": "SomethingNew", "Message": "?"},
                       "ResponseMetadata": {"HTTPStatusCode": 503}}, "SendWhatsAppMessage")
    assert classify_client_error(odd).retryable
    url = "https://social-messaging.us-east-1.amazonaws.com"
    for exc in (EndpointConnectionError(endpoint_url=url), ConnectTimeoutError(endpoint_url=url), ConnectionRefusedError()):
        error = classify_exception(exc)
        assert (error.code, error.retryable) == ("PROVIDER_UNAVAILABLE", True)  # nothing reached the provider
    for exc in (ReadTimeoutError(endpoint_url=url), ConnectionClosedError(endpoint_url=url), ConnectionResetError(), TimeoutError()):
        error = classify_exception(exc)
        assert (error.code, error.retryable) == ("OUTCOME_UNKNOWN", False)  # it may have: never resent blindly
    assert classify_exception(RuntimeError("bug")).retryable is False


def test_provider_clients_never_retry_on_their_own():
    from backend.adapters.channels.email import AwsEmailProvider
    from backend.adapters.channels.sms import AwsSmsProvider
    from backend.adapters.channels.voice import AwsVoiceProvider

    for provider in (AwsWhatsAppProvider(settings=Settings()), AwsSmsProvider(settings=Settings()),
                     AwsVoiceProvider(settings=Settings()), AwsEmailProvider(settings=Settings())):
        assert provider.client.meta.config.retries["total_max_attempts"] == 1



# --- dry run -------------------------------------------------------------------------------------------

def test_dry_run_records_the_live_request_and_calls_nothing(settings, monkeypatch):
    def no_clients(*args, **kwargs):
        raise AssertionError("a dry run must not create an AWS client")

    monkeypatch.setattr(boto3, "client", no_clients)
    dry = DryRunWhatsAppProvider(settings)

    first = dry.send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")
    second = dry.send(TEMPLATE, origination=PHONE_ID, idempotency_key="msg-2")
    dry.mark_read("wamid.IN1", origination=PHONE_ID)

    assert first.startswith("dryrun.") and second.startswith("dryrun.") and first != second
    assert [r["operation"] for r in dry.recorded] == ["send_whatsapp_message"] * 3
    assert dry.recorded[0]["params"] == {"originationPhoneNumberId": PHONE_ID, "message": blob(TEXT),
                                         "metaApiVersion": "v20.0"}
    assert {t["name"] for t in dry.list_templates()} >= {"order_update", "appointment_reminder", "welcome_back"}
    assert dry.sandbox.sent == []  # the sandbox serves templates and media only


def test_dry_run_request_is_exactly_what_the_aws_adapter_sends(settings):
    dry = DryRunWhatsAppProvider(settings)
    dry.send(TEMPLATE, origination=PHONE_ID, idempotency_key="msg-2")
    client = boto3.client("socialmessaging", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("send_whatsapp_message", {"messageId": "wamid.X"}, dry.recorded[0]["params"])
        AwsWhatsAppProvider(client=client, settings=settings).send(TEMPLATE, origination=PHONE_ID,
                                                                   idempotency_key="msg-2")
        stub.assert_no_pending_responses()


# --- sandbox -------------------------------------------------------------------------------------------

class EventLog:
    """Collects sandbox events and lets a test wait for a number of them."""

    def __init__(self, expected: int):
        self.events: list[str] = []
        self.expected = expected
        self.done = threading.Event()

    def __call__(self, event: str) -> None:
        self.events.append(event)
        if len(self.events) >= self.expected:
            self.done.set()

    def statuses(self) -> list[dict]:
        assert self.done.wait(5), f"only {len(self.events)} of {self.expected} events arrived"
        found = []
        for event in self.events:
            entry = json.loads(json.loads(event)["whatsAppWebhookEntry"])
            found.extend(entry["changes"][0]["value"]["statuses"])
        return found


def test_sandbox_records_each_send_in_memory_and_on_disk(settings, tmp_path):
    sandbox = SandboxWhatsAppProvider(settings)

    wamid = sandbox.send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")

    assert wamid.startswith("wamid.") and len(wamid) > 40
    assert [(s["provider_message_id"], s["to"], s["type"], s["idempotency_key"]) for s in sandbox.sent] == [
        (wamid, "+447700900123", "text", "msg-1")]
    lines = (tmp_path / "sandbox" / "whatsapp-sends.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["message"] == TEXT
    sandbox.clear()
    assert sandbox.sent == []


def test_sandbox_reports_sent_then_delivered_in_the_aws_sns_shape(settings):
    log = EventLog(expected=2)
    sandbox = SandboxWhatsAppProvider(settings, on_event=log)

    wamid = sandbox.send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")
    statuses = log.statuses()

    assert [(s["id"], s["status"]) for s in statuses] == [(wamid, "sent"), (wamid, "delivered")]
    assert all(s["recipient_id"] == "447700900123" and s["timestamp"].isdigit() for s in statuses)
    envelope = json.loads(log.events[0])
    assert set(envelope) == {"context", "whatsAppWebhookEntry", "aws_account_id", "message_timestamp", "messageId"}
    assert envelope["aws_account_id"] == "000000000000"
    waba, = envelope["context"]["MetaWabaIds"]
    phone, = envelope["context"]["MetaPhoneNumberIds"]
    assert waba["arn"].endswith(":waba/0123456789abcdef0123456789abcdef")
    assert phone["arn"].endswith(":phone-number-id/0123456789abcdef0123456789abcdef")
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    assert entry["id"] == waba["wabaId"]
    change, = entry["changes"]
    assert change["field"] == "messages"
    assert change["value"]["messaging_product"] == "whatsapp"
    assert change["value"]["metadata"]["phone_number_id"] == phone["metaPhoneNumberId"]
    assert json.loads(log.events[0])["messageId"] != json.loads(log.events[1])["messageId"]


def test_sandbox_mark_read_sends_nothing_outward(settings):
    log = EventLog(expected=1)
    sandbox = SandboxWhatsAppProvider(settings, on_event=log)
    sandbox.mark_read("wamid.IN1", origination=PHONE_ID)
    assert sandbox.read_receipts == ["wamid.IN1"]
    assert not log.done.wait(0.2) and sandbox.sent == []


@pytest.mark.parametrize(("number", "code", "retryable"), [
    ("+447700900000", "INVALID_NUMBER", False),
    ("+447700900429", "THROTTLED", True),
    ("+447700900500", "PROVIDER_UNAVAILABLE", True),
])
def test_sandbox_number_suffixes_force_outcomes(settings, number, code, retryable):
    sandbox = SandboxWhatsAppProvider(settings)
    for _ in range(2):  # every attempt, not just the first
        with pytest.raises(ProviderError) as raised:
            sandbox.send({**TEXT, "to": number}, origination=PHONE_ID, idempotency_key="msg-1")
        assert (raised.value.code, raised.value.retryable) == (code, retryable)
    assert sandbox.sent == []


def test_sandbox_failure_rate_is_reproducible_with_a_seeded_random(settings):
    flaky = settings.model_copy(update={"sandbox_failure_rate": 0.5, "sandbox_failure_code": "server"})

    def outcomes(seed: int) -> list[str]:
        sandbox = SandboxWhatsAppProvider(flaky, rng=random.Random(seed))
        results = []
        for index in range(20):
            try:
                sandbox.send({**TEXT, "to": f"+4477009001{index:02d}"}, origination=PHONE_ID,
                             idempotency_key=str(index))
                results.append("ok")
            except ProviderError as error:
                assert error.retryable
                results.append(error.code)
        return results

    first = outcomes(7)
    assert first == outcomes(7)
    assert set(first) == {"ok", "PROVIDER_UNAVAILABLE"}


def test_sandbox_invalid_number_rate_is_permanent(settings):
    failing = settings.model_copy(update={"sandbox_failure_rate": 1.0, "sandbox_failure_code": "invalid_number"})
    with pytest.raises(ProviderError) as raised:
        SandboxWhatsAppProvider(failing).send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")
    assert (raised.value.code, raised.value.retryable) == ("INVALID_NUMBER", False)


def test_sandbox_131047_accepts_the_send_then_reports_failure(settings):
    reengage = settings.model_copy(update={"sandbox_failure_rate": 1.0, "sandbox_failure_code": "131047"})
    log = EventLog(expected=1)
    sandbox = SandboxWhatsAppProvider(reengage, on_event=log)

    wamid = sandbox.send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")
    status, = log.statuses()

    assert (status["id"], status["status"]) == (wamid, "failed")
    error, = status["errors"]
    assert (error["code"], error["title"]) == (131047, "Re-engagement message")
    assert "24 hours" in error["error_data"]["details"]


def test_sandbox_template_catalogue_and_template_sends(settings, tmp_path):
    sandbox = SandboxWhatsAppProvider(settings)
    catalogue = {(t["name"], t["language"]): t for t in sandbox.list_templates()}

    assert {t["status"] for t in catalogue.values()} == {"APPROVED", "PENDING", "REJECTED"}
    reminder = catalogue[("appointment_reminder", "en_GB")]
    assert [c["type"] for c in reminder["components"]] == ["HEADER", "BODY"]
    assert sandbox.get_template(reminder["id"]) == reminder
    assert sandbox.send(TEMPLATE, origination=PHONE_ID, idempotency_key="t-1").startswith("wamid.")

    short = json.loads(json.dumps(TEMPLATE))
    short["template"]["components"][1]["parameters"].pop()
    with pytest.raises(ProviderError) as raised:
        sandbox.send(short, origination=PHONE_ID, idempotency_key="t-2")
    assert (raised.value.code, raised.value.retryable) == ("INVALID_REQUEST", False)

    pending = {**TEMPLATE, "template": {"name": "spring_offer", "language": {"code": "en_US"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Sam"}]}]}}
    with pytest.raises(ProviderError) as raised:
        sandbox.send(pending, origination=PHONE_ID, idempotency_key="t-3")
    assert (raised.value.code, raised.value.retryable) == ("TEMPLATE_NOT_APPROVED", False)


def test_sandbox_create_template_is_pending_and_persisted(settings, tmp_path):
    sandbox = SandboxWhatsAppProvider(settings)
    definition = {"name": "delivery_window", "language": "en_GB", "category": "utility",
                  "components": [{"type": "BODY", "text": "Your delivery arrives between {{1}} and {{2}}."}]}

    created = sandbox.create_template(definition)

    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    assert (tmp_path / "sandbox" / "whatsapp-templates.json").is_file()
    reloaded = SandboxWhatsAppProvider(settings)
    assert reloaded.get_template(created["id"])["name"] == "delivery_window"
    with pytest.raises(ProviderError, match="already exists"):
        reloaded.create_template(definition)
    with pytest.raises(ProviderError):
        reloaded.create_template({**definition, "name": "Bad Name"})

    reloaded.set_template_status("delivery_window", "en_GB", "APPROVED")
    message = {**TEXT, "type": "template", "template": {"name": "delivery_window", "language": {"code": "en_GB"},
               "components": [{"type": "body", "parameters": [{"type": "text", "text": "9:00"},
                                                              {"type": "text", "text": "11:00"}]}]}}
    assert reloaded.send(message, origination=PHONE_ID, idempotency_key="t-1").startswith("wamid.")


def test_sandbox_media_is_small_real_and_deterministic(settings, tmp_path):
    sandbox = SandboxWhatsAppProvider(settings)
    store = LocalMediaStore(tmp_path / "media")

    png = sandbox.fetch_media("101", origination=PHONE_ID, store=store, key="in/a.png", mime_type_hint="image/png")
    jpeg = sandbox.fetch_media("102", origination=PHONE_ID, store=store, key="in/b", mime_type_hint="image/jpeg")
    again = sandbox.fetch_media("101", origination=PHONE_ID, store=store, key="in/c.png", mime_type_hint="image/png")

    assert png == FetchedMedia("image/png", store.size("in/a.png")) and again == png
    assert store.get("in/a.png").startswith(b"\x89PNG\r\n\x1a\n") and store.get("in/a.png") == store.get("in/c.png")
    assert jpeg.mime_type == "image/jpeg" and store.get("in/b")[:2] == b"\xff\xd8"

    with pytest.raises(ProviderError) as raised:
        sandbox.upload_media(store, "out/missing.pdf", origination=PHONE_ID)
    assert raised.value.code == "INVALID_REQUEST"
    assert sandbox.upload_media(store, "in/a.png", origination=PHONE_ID).isdigit()


def test_sandbox_inbound_text_uses_the_same_envelope(settings):
    log = EventLog(expected=1)
    sandbox = SandboxWhatsAppProvider(settings, on_event=log)
    wamid = sandbox.emit_inbound_text("+447700900123", "Hello, is my order ready?")
    value = json.loads(json.loads(log.events[0])["whatsAppWebhookEntry"])["changes"][0]["value"]
    message, = value["messages"]
    assert (message["id"], message["from"], message["text"]["body"]) == (
        wamid, "447700900123", "Hello, is my order ready?")


# --- factory -------------------------------------------------------------------------------------------

@pytest.fixture
def fresh_factory():
    providers.reset_providers()
    yield
    providers.reset_providers()


def test_factory_picks_the_provider_by_send_mode_and_caches_it(settings, fresh_factory):
    sandbox = providers.WHATSAPP.get(settings)
    assert isinstance(sandbox, SandboxWhatsAppProvider) and providers.WHATSAPP.get(settings) is sandbox
    log = EventLog(expected=2)
    providers.WHATSAPP.set_sink(log)
    sandbox.send(TEXT, origination=PHONE_ID, idempotency_key="msg-1")
    assert [s["status"] for s in log.statuses()] == ["sent", "delivered"]

    providers.reset_providers()
    assert isinstance(providers.WHATSAPP.get(settings.model_copy(update={"send_mode": SendMode.DRY_RUN})),
                      DryRunWhatsAppProvider)
    providers.reset_providers()
    live = providers.WHATSAPP.get(settings.model_copy(update={"send_mode": SendMode.LIVE}))
    assert isinstance(live, AwsWhatsAppProvider) and isinstance(live, WhatsAppProvider)


def test_factory_media_store_follows_media_bucket(settings, tmp_path, fresh_factory):
    local = providers.media_store(settings)
    assert isinstance(local, LocalMediaStore) and local.root == (tmp_path / "media").resolve()
    providers.reset_providers()
    s3 = providers.media_store(settings.model_copy(update={"media_bucket": BUCKET}))
    assert isinstance(s3, S3MediaStore) and s3.bucket == BUCKET
