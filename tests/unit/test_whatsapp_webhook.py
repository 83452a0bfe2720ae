"""POST /webhooks/whatsapp and Meta's verify challenge: only verified requests are stored, and our own format
is signed with a timestamp so a captured request cannot be replayed later."""
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
from tests.whatsapp_events import make_wamid, meta_message, meta_webhook_body, signed_webhook_headers, sns_message, webhook_entry

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


def signed(body: bytes, at: int | None = None) -> dict[str, str]:
    return signed_webhook_headers(SECRET, body, at=at)


def test_unsigned_and_badly_signed_requests_are_refused_and_store_nothing(client):
    wamid, body = envelope()
    assert client.post("/webhooks/whatsapp", content=body).status_code == 401
    tampered = client.post("/webhooks/whatsapp", content=body + b" ", headers=signed(body))
    assert tampered.status_code == 401 and tampered.json()["error"]["code"] == "WEBHOOK_SIGNATURE_INVALID"
    meta = client.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign("wrong", body)})
    assert meta.status_code == 401
    assert not stored(wamid)


def test_a_signed_request_is_accepted_and_its_redelivery_is_a_duplicate(client):
    wamid, body = envelope()
    first = client.post("/webhooks/whatsapp", content=body, headers=signed(body))
    assert first.status_code == 200 and first.json()["stored"] == 1
    again = client.post("/webhooks/whatsapp", content=body, headers=signed(body, at=int(time.time()) - 60))
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert stored(wamid)


@pytest.mark.parametrize("headers", [
    {"X-Wecare-Webhook-Secret": SECRET},  # right, but a bare secret can be replayed forever
    {"X-Wecare-Signature-256": "body-only"},  # the old format: an HMAC of the body alone
], ids=["bare-secret", "body-only-hmac"])
def test_the_formats_without_a_timestamp_are_refused(client, headers):
    wamid, body = envelope()
    if headers.get("X-Wecare-Signature-256") == "body-only":
        headers = {"X-Wecare-Signature-256": sign(SECRET, body)}
    response = client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "WEBHOOK_SIGNATURE_INVALID"
    assert not stored(wamid)


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_a_captured_request_replayed_outside_five_minutes_is_refused(client, offset):
    wamid, body = envelope()
    response = client.post("/webhooks/whatsapp", content=body, headers=signed(body, at=int(time.time()) + offset))
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "WEBHOOK_TIMESTAMP_OUT_OF_RANGE", "field": "x-wecare-timestamp", "message": response.json()["error"]["message"]}
    assert not stored(wamid)


def test_a_replay_with_a_fresh_timestamp_does_not_match_the_old_signature(client):
    wamid, body = envelope()
    captured = signed(body, at=int(time.time()) - 3600)
    refreshed = {**captured, "X-Wecare-Timestamp": str(int(time.time()))}
    response = client.post("/webhooks/whatsapp", content=body, headers=refreshed)
    assert response.status_code == 401 and response.json()["error"]["code"] == "WEBHOOK_SIGNATURE_INVALID"
    assert not stored(wamid)


@pytest.mark.parametrize("stamp", ["", "soon", "-5", "1e9", "\u0661\u0667\u0660\u0660", "9" * 40])
def test_a_missing_or_malformed_timestamp_is_a_401(client, stamp):
    _, body = envelope()
    headers = {**signed(body), "X-Wecare-Timestamp": stamp.encode("utf-8")}
    response = client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 401 and response.json()["error"]["field"] == "x-wecare-timestamp"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"])
def test_a_body_declared_as_something_else_than_json_is_a_415(client, content_type):
    wamid, body = envelope()
    response = client.post("/webhooks/whatsapp", content=body, headers={**signed(body), "Content-Type": content_type})
    assert response.status_code == 415 and response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert not stored(wamid)


def test_sns_https_deliveries_say_text_plain_and_are_accepted(client):
    wamid, body = envelope()
    response = client.post("/webhooks/whatsapp", content=body, headers={**signed(body), "Content-Type": "text/plain; charset=UTF-8"})
    assert response.status_code == 200 and stored(wamid)


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
        response = client.post("/webhooks/whatsapp", content=body, headers=signed(body))
        assert response.status_code == 400, body
        assert response.json()["error"]["message"]
    huge = b"x" * (1024 * 1024 + 10)
    response = client.post("/webhooks/whatsapp", content=huge, headers=signed(huge))
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"


def test_no_configured_secret_in_aws_means_nothing_is_accepted(monkeypatch, messaging):
    monkeypatch.delenv("WECARE_WHATSAPP_WEBHOOK_SECRET", raising=False)
    reset_settings_cache()
    wamid, body = envelope()
    response = TestClient(build_api()).post("/webhooks/whatsapp", content=body, headers=signed_webhook_headers("", body))
    assert response.status_code == 401 and not stored(wamid)


def test_a_local_run_makes_its_webhook_secret_once_prints_it_once_and_accepts_what_it_signs(monkeypatch, messaging, tmp_path, capsys):
    """Local inbound works out of the box: no secret configured, so the first start makes one under the data
    dir and prints it with the URL; a request signed with it is stored. Later starts print nothing."""
    from backend.runtime.startup import announce_webhook_secret
    from backend.settings import get_settings

    monkeypatch.delenv("WECARE_WHATSAPP_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("WECARE_ENV", "local")
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))
    reset_settings_cache()
    announce_webhook_secret(get_settings())
    printed = capsys.readouterr().out
    secret = (tmp_path / "webhook.key").read_bytes().hex()
    assert "POST http://localhost:8000/webhooks/whatsapp" in printed and secret in printed
    announce_webhook_secret(get_settings())
    assert capsys.readouterr().out == ""

    wamid, body = envelope()
    api = TestClient(build_api())
    assert api.post("/webhooks/whatsapp", content=body, headers=signed_webhook_headers("guess", body)).status_code == 401
    assert api.post("/webhooks/whatsapp", content=body, headers=signed_webhook_headers(secret, body)).status_code == 200
    assert stored(wamid)
    reset_settings_cache()

