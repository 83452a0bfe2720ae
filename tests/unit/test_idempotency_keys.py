"""Idempotency-Key on the REST sends: a retried send answers the first answer and sends nothing new, through
both doors (the Reflex backend's ASGI app and the Lambda), scoped to the caller, safe against concurrent
duplicates."""
from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from backend.api.asgi_door import build_api
from backend.api.lambda_door import handle_http
from backend.models.runtime_config import RateLimitTrackerModel
from backend.services.contacts.contacts import update_contact
from backend.services.platform import idempotency, users
from backend.services.platform.access import Actor, Operation, Role
from tests.lambdas.test_contacts_handlers import api_event
from tests.unit.people import contact

PASSWORD = "correct horse battery"


@pytest.fixture
def api(messaging):
    return TestClient(build_api(), raise_server_exceptions=False)


def bearer(admin, email: str, role: str = "Operator") -> dict:
    users.create_user(admin, email, role, PASSWORD)
    return {"Authorization": f"Bearer {users.sign_in(email, PASSWORD).token}"}


def lambda_send(body: dict, key: str | None, sub: str = "cognito-sub-1") -> tuple[int, dict | None]:
    event = api_event("outbound-sms", route_key="POST /sms/send", body=body)
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
    if key is not None:
        event["headers"]["idempotency-key"] = key
    answer = handle_http("outbound-sms", event)
    return answer["statusCode"], json.loads(answer["body"]) if answer["body"] else None


def test_a_retried_send_through_the_asgi_door_answers_the_first_answer_and_sends_once(api, admin, operator, messaging):
    ann = contact(operator, "Ann", optInSms=True)
    headers = {**bearer(admin, "idem-asgi@example.com"), "Idempotency-Key": "order-1234"}
    body = {"contactId": ann.contact_id, "body": "Your order shipped"}
    first = api.post("/api/sms/send", json=body, headers=headers)
    again = api.post("/api/sms/send", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert messaging.drain() == 1

    other = api.post("/api/sms/send", json={**body, "body": "Something else"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    elsewhere = api.post("/api/email/send", json={"contactId": ann.contact_id, "subject": "s", "text": "t"}, headers=headers)
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert messaging.drain() == 0


def test_the_key_belongs_to_its_caller(api, admin, operator, messaging):
    ann = contact(operator, "Ann", optInSms=True)
    body = {"contactId": ann.contact_id, "body": "hello"}
    mine = api.post("/api/sms/send", json=body, headers={**bearer(admin, "idem-a@example.com"), "Idempotency-Key": "k"})
    yours = api.post("/api/sms/send", json=body, headers={**bearer(admin, "idem-b@example.com"), "Idempotency-Key": "k"})
    assert mine.status_code == yours.status_code == 202 and mine.json()["messageId"] != yours.json()["messageId"]
    assert messaging.drain() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_a_400_and_sends_nothing(api, admin, operator, messaging, key):
    ann = contact(operator, "Ann", optInSms=True)
    headers = {**bearer(admin, f"idem-bad-{len(key)}-{ord(key[-1]) if key else 0}@example.com"), "Idempotency-Key": key.encode("utf-8")}
    response = api.post("/api/sms/send", json={"contactId": ann.contact_id, "body": "hi"}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert messaging.drain() == 0


def test_the_longest_key_is_accepted(api, admin, operator, messaging):
    ann = contact(operator, "Ann", optInSms=True)
    headers = {**bearer(admin, "idem-long@example.com"), "Idempotency-Key": "~" * 255}
    assert api.post("/api/sms/send", json={"contactId": ann.contact_id, "body": "hi"}, headers=headers).status_code == 202


def test_the_lambda_door_replays_the_first_answer(operator, messaging):
    ann = contact(operator, "Ann", optInSms=True)
    body = {"contactId": ann.contact_id, "body": "hello"}
    first = lambda_send(body, "retry-me")
    assert first[0] == 202 and lambda_send(body, "retry-me") == first
    assert lambda_send(body, None)[0] == 202  # no key: an ordinary second send
    assert lambda_send({**body, "body": "changed"}, "retry-me")[1]["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert messaging.drain() == 2


def test_a_duplicate_while_the_first_is_in_flight_is_a_409_and_sends_nothing(operator, messaging):
    ann = contact(operator, "Ann", optInSms=True)
    body = {"contactId": ann.contact_id, "body": "hello"}
    caller = Actor(user_id="cognito-sub-1", role=Role.OPERATOR)
    used_for = idempotency.fingerprint("POST /sms/send", {}, json.dumps(body).encode())
    assert idempotency.claim(caller, Operation.MESSAGES_SEND, "busy", used_for) is None  # the first, still running
    status, answer = lambda_send(body, "busy")
    assert status == 409 and answer["error"]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
    assert messaging.drain() == 0


def test_of_two_racing_claims_only_one_wins(operator, monkeypatch):
    """Both read "no record" before either wrote: the conditional put lets one through and the other sees 409."""
    caller = Actor(user_id="racer", role=Role.OPERATOR)
    assert idempotency.claim(caller, Operation.MESSAGES_SEND, "race", "f") is None
    real_get = RateLimitTrackerModel.get
    calls = []

    def stale_first_read(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RateLimitTrackerModel.DoesNotExist()
        return real_get(*args, **kwargs)

    monkeypatch.setattr(RateLimitTrackerModel, "get", stale_first_read)
    with pytest.raises(idempotency.IdempotencyInProgress):
        idempotency.claim(caller, Operation.MESSAGES_SEND, "race", "f")


def test_a_refused_send_changed_nothing_so_the_same_key_can_try_again(operator, messaging):
    ann = contact(operator, "Ann")  # no SMS consent yet
    body = {"contactId": ann.contact_id, "body": "hello"}
    refused = lambda_send(body, "after-consent")
    assert refused[0] == 422 and refused[1]["error"]["code"] == "CONSENT_REQUIRED"
    update_contact(operator, ann.contact_id, {"optInSms": True})
    assert lambda_send(body, "after-consent")[0] == 202
    assert messaging.drain() == 1


def test_a_viewer_or_a_stranger_cannot_claim_a_key(viewer):
    for actor in (viewer, Actor.anonymous()):
        with pytest.raises(Exception) as refused:
            idempotency.claim(actor, Operation.MESSAGES_SEND, "k", "f")
        assert refused.value.code in ("PERMISSION_DENIED", "UNAUTHENTICATED")
