"""POST /webhooks/whatsapp and Meta's verify challenge: only verified requests are stored."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from starlette.testclient import TestClient

from backend.api.asgi_door import build_api
from backend.models.messaging import MessageModel
from backend.services.messaging.rows import inbound_message_id
from backend.settings import reset_settings_cache
from tests.conftest import unique_phone
from tests.whatsapp_events import make_wamid, meta_message, meta_webhook_body, sns_message, webhook_entry

SECRET = "webhook-test-secret"
APP_SECRET = "meta-app-secret"


@pytest.fixture
def client(monkeypatch, messaging):
    monkeypatch.setenv("WECARE_WHATSAPP_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WECARE_META_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECARE_META_VERIFY_TOKEN", "verify-me")
    reset_settings_cache()
    yield TestClient(build_api())
    reset_settings_cache()


def envelope() -> tuple[str, bytes]:
    phone = unique_phone()[1:]
    wamid = make_wamid(phone)
    entry = webhook_entry([meta_message("text", wamid=wamid, from_phone=phone, text="via webhook", ts=int(time.time()))], from_phone=phone)
    return wamid, sns_message(entry).encode()


def stored(wamid: str) -> bool:
    try:
        MessageModel.get(inbound_message_id("whatsapp", wamid))
        return True
    except MessageModel.DoesNotExist:
        return False


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_unsigned_and_badly_signed_requests_are_refused_and_store_nothing(client):
    wamid, body = envelope()
    assert client.post("/webhooks/whatsapp", content=body).status_code == 401
    assert client.post("/webhooks/whatsapp", content=body, headers={"X-Wecare-Webhook-Secret": "guess"}).status_code == 401
    tampered = client.post("/webhooks/whatsapp", content=body + b" ", headers={"X-Wecare-Signature-256": sign(SECRET, body)})
    assert tampered.status_code == 401 and tampered.json()["error"]["code"] == "UNAUTHENTICATED"
    meta = client.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign("wrong", body)})
    assert meta.status_code == 401
    assert not stored(wamid)


def test_shared_secret_and_hmac_are_accepted_and_redelivery_is_a_duplicate(client):
    wamid, body = envelope()
    first = client.post("/webhooks/whatsapp", content=body, headers={"X-Wecare-Webhook-Secret": SECRET})
    assert first.status_code == 200 and first.json()["stored"] == 1
    again = client.post("/webhooks/whatsapp", content=body, headers={"X-Wecare-Signature-256": sign(SECRET, body)})
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert stored(wamid)


def test_metas_direct_format_with_its_signature(client):
    phone = unique_phone()[1:]
    wamid = make_wamid(phone)
    body = json.dumps(meta_webhook_body(webhook_entry([meta_message("text", wamid=wamid, from_phone=phone, text="direct", ts=int(time.time()))], from_phone=phone))).encode()
    response = client.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert response.status_code == 200 and response.json()["stored"] == 1 and stored(wamid)


def test_verify_challenge(client):
    ok = client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "12345"})
    assert ok.status_code == 200 and ok.text == "12345"
    bad = client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert bad.status_code == 403


def test_malformed_and_oversized_bodies_get_a_clear_400(client):
    for body in (b"{not json", json.dumps({"context": {}}).encode()):
        response = client.post("/webhooks/whatsapp", content=body, headers={"X-Wecare-Signature-256": sign(SECRET, body)})
        assert response.status_code == 400, body
        assert response.json()["error"]["message"]
    huge = b"x" * (1024 * 1024 + 10)
    response = client.post("/webhooks/whatsapp", content=huge, headers={"X-Wecare-Signature-256": sign(SECRET, huge)})
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"


def test_no_configured_secret_means_nothing_is_accepted(monkeypatch, messaging):
    monkeypatch.delenv("WECARE_WHATSAPP_WEBHOOK_SECRET", raising=False)
    reset_settings_cache()
    wamid, body = envelope()
    response = TestClient(build_api()).post("/webhooks/whatsapp", content=body, headers={"X-Wecare-Webhook-Secret": ""})
    assert response.status_code == 401 and not stored(wamid)
