"""The messaging Lambdas with real API Gateway v2, SQS, SNS and EventBridge events; both REST doors agree."""
from __future__ import annotations

import json
import time

import pytest
from starlette.testclient import TestClient

from backend.adapters.send_queue import sqs_record
from backend.api.asgi_door import build_api
from backend.services.platform import users
from backend.services.contacts.contacts import create_contact
from tests.conftest import unique_phone
from tests.lambdas.test_contacts_handlers import api_event, load_handler
from tests.whatsapp_events import meta_message, sns_event, sns_message, webhook_entry


def call(function: str, route_key: str, **kwargs) -> tuple[int, dict | None]:
    response = load_handler(function)(api_event(function, route_key=route_key, **kwargs), None)
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def customer_wrote(phone: str, hours_ago: float = 0) -> None:
    entry = webhook_entry([meta_message("text", from_phone=phone[1:], text="hi", ts=int(time.time() - hours_ago * 3600))], from_phone=phone[1:])
    load_handler("inbound-whatsapp-handler")(sns_event(sns_message(entry)), None)


SEND = "POST /whatsapp/send"


def test_send_through_the_lambda_obeys_roles_and_rules(operator, messaging):
    open_contact = create_contact(operator, {"name": "Open", "phone": unique_phone()})
    customer_wrote(open_contact.phone)
    closed = create_contact(operator, {"name": "Closed", "phone": unique_phone()})
    customer_wrote(closed.phone, hours_ago=30)
    text = {"type": "text", "text": "hello"}

    assert call("outbound-whatsapp", SEND, groups=None, body={"contactId": open_contact.contact_id, **text})[0] == 401
    assert call("outbound-whatsapp", SEND, groups="[Viewer]", body={"contactId": open_contact.contact_id, **text})[0] == 403
    status, body = call("outbound-whatsapp", SEND, body={"contactId": closed.contact_id, **text})
    assert (status, body["error"]["code"]) == (422, "TEMPLATE_REQUIRED")
    assert call("outbound-whatsapp", SEND, raw_body="{oops")[0] == 400
    status, body = call("outbound-whatsapp", SEND, body={"contactId": open_contact.contact_id, **text})
    assert status == 202 and body["status"] == "PENDING" and len(body["messageId"]) == 32
    messaging.drain()
    status, read = call("messages-read", "GET /messages/{messageId}", groups="[Viewer]", path_params={"messageId": body["messageId"]})
    assert status == 200 and read["status"] == "ACCEPTED" and read["providerMessageId"]


def test_the_send_queue_consumer_reports_only_real_failures(operator, messaging):
    contact = create_contact(operator, {"name": "Q", "phone": unique_phone()})
    customer_wrote(contact.phone)
    status, body = call("outbound-whatsapp", SEND, body={"contactId": contact.contact_id, "type": "text", "text": "q"})
    poison = {"messageId": "poison", "receiptHandle": "r", "body": "not json", "attributes": {}, "eventSource": "aws:sqs"}
    result = load_handler("outbound-whatsapp")({"Records": [poison, sqs_record(body["messageId"], record_id="good")]}, None)
    assert result == {"batchItemFailures": []}
    assert len(messaging.provider.sent) == 1


def test_read_and_delete_messages(operator, messaging):
    contact = create_contact(operator, {"name": "Log", "phone": unique_phone()})
    customer_wrote(contact.phone)
    status, page = call("messages-read", "GET /messages", groups="[Viewer]", query={"contactId": contact.contact_id})
    assert status == 200 and len(page["items"]) == 1
    message_id = page["items"][0]["messageId"]
    assert call("messages-delete", "DELETE /messages/{messageId}", groups="[Viewer]", path_params={"messageId": message_id})[0] == 403
    assert call("messages-delete", "DELETE /messages/{messageId}", path_params={"messageId": message_id})[0] == 204
    assert call("messages-read", "GET /messages/{messageId}", path_params={"messageId": message_id})[0] == 404
    status, body = call("messages-read", "GET /messages", query={"channel": "pigeon"})
    assert (status, body["error"]["field"]) == (422, "channel")


def test_dlq_routes_are_for_admins_and_the_schedule_runs(messaging):
    assert call("dlq-replay", "GET /dlq", groups="[Operator]")[0] == 403
    status, body = call("dlq-replay", "GET /dlq", groups="[Admin]")
    assert status == 200 and body == {"items": []}
    status, body = call("dlq-replay", "POST /dlq/replay", groups="[Admin]", body={"dlqIds": []})
    assert status == 422
    scheduled = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    assert load_handler("dlq-replay")(scheduled, None) == {"requeued": 0, "deadLettered": 0, "expired": 0, "settled": 0, "mediaStored": 0, "replayed": 0, "conversationsWoken": 0}


@pytest.fixture
def rest_client(admin):
    users.create_user(admin, "op@example.com", "Operator", "correct horse battery")
    return TestClient(build_api())


def test_both_doors_answer_alike_for_sending(rest_client, operator, messaging):
    closed = create_contact(operator, {"name": "Closed", "phone": unique_phone()})
    request = {"contactId": closed.contact_id, "type": "text", "text": "hi"}
    token = users.sign_in("op@example.com", "correct horse battery").token
    response = rest_client.post("/api/whatsapp/send", json=request, headers={"authorization": f"Bearer {token}"})
    status, body = call("outbound-whatsapp", SEND, body=request)
    assert response.status_code == status == 422
    assert response.json()["error"]["code"] == body["error"]["code"] == "TEMPLATE_REQUIRED"


def sns_record(message: str) -> dict:
    return {"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {"Type": "Notification", "MessageId": "m-1", "Message": message}}


def test_sms_email_and_voice_functions_serve_their_route_queue_and_events(operator, messaging):
    phone = unique_phone()
    contact = create_contact(operator, {"name": "Three Channels", "phone": phone, "email": f"three{phone[-6:]}@example.com", "optInSms": True, "optInEmail": True, "optInVoice": True})
    status, sms = call("outbound-sms", "POST /sms/send", body={"contactId": contact.contact_id, "body": "Your table is ready"})
    assert status == 202 and sms["segments"] == 1
    status, mail = call("outbound-email", "POST /email/send", body={"contactId": contact.contact_id, "subject": "Hi", "html": "<p>Hi<script>x()</script></p>"})
    assert status == 202 and "script" not in json.dumps(mail)
    status, placed = call("outbound-voice", "POST /voice/call", body={"contactId": contact.contact_id, "text": "Your table is ready"})
    assert status == 202
    assert call("outbound-sms", "POST /sms/send", groups="[Viewer]", body={"contactId": contact.contact_id, "body": "x"})[0] == 403
    messaging.drain()
    status, read = call("voice-calls-read", "GET /voice/calls/{callId}", groups="[Viewer]", path_params={"callId": placed["callId"]})
    assert status == 200 and read["providerMessageId"]  # handed to the provider; call events move the status
    status, page = call("messages-read", "GET /messages", groups="[Viewer]", query={"contactId": contact.contact_id})
    assert {m["channel"] for m in page["items"]} == {"sms", "email", "voice"}
    assert {m["status"] for m in page["items"]} == {"ACCEPTED"}

    # The SMS function also takes two-way SMS events from SNS: a STOP opts the contact out, once.
    inbound = json.dumps({"originationNumber": phone, "destinationNumber": "+15550100", "messageKeyword": "KEYWORD_1",
                          "messageBody": "STOP", "inboundMessageId": "in-1", "previousPublishedMessageId": "out-1"})
    first = load_handler("outbound-sms")({"Records": [sns_record(inbound), sns_record("{broken")]}, None)
    again = load_handler("outbound-sms")({"Records": [sns_record(inbound)]}, None)
    assert len(first["rejected"]) == 1 and again != first
    status, body = call("outbound-sms", "POST /sms/send", body={"contactId": contact.contact_id, "body": "more?"})
    assert (status, body["error"]["code"]) == (422, "OPTED_OUT")


def test_the_message_stream_through_messages_read_counts_each_batch_once():
    """messages-read also takes the Message table's stream (AWS's event source mapping): a batch delivered
    twice (Lambda retries a batch whose function failed after counting) counts once."""
    from backend.models.base import utcnow
    from backend.models.messaging import MessageModel
    from backend.services.analytics import counters

    now = utcnow()
    pending = MessageModel(messageId="m-stream", channel="sms", direction="outbound", status="PENDING", createdAt=now,
                           updatedAt=now, day=now.strftime("%Y-%m-%d"))
    delivered = MessageModel(messageId="m-stream", channel="sms", direction="outbound", status="DELIVERED", createdAt=now,
                             updatedAt=now, day=pending.day, statusHistory=[{"status": "DELIVERED", "at": now}])

    def record(sequence: str, new, old=None) -> dict:
        data = {"SequenceNumber": sequence, "NewImage": new.serialize(null_check=False)}
        if old is not None:
            data["OldImage"] = old.serialize(null_check=False)
        return {"eventSource": "aws:dynamodb", "eventName": "MODIFY" if old else "INSERT", "dynamodb": data,
                "eventSourceARN": "arn:aws:dynamodb:eu-west-2:123456789012:table/Message/stream/2026"}

    event = {"Records": [record("200", pending), record("201", delivered, pending)]}
    handler = load_handler("messages-read")
    assert handler(event, None) == {"records": 2, "counted": 2}
    assert handler(event, None) == {"records": 2, "counted": 0}  # the same batch again
    assert counters.read_days([pending.day])[pending.day] == {
        "sms|outbound|total": 1, "sms|outbound|sent": 1, "sms|outbound|delivered": 1}
