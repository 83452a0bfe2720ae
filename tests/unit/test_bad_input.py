"""Bad input gets a clear 4xx, never a 500: each case here was a server error (or a crash) found by a fuzz run.
And the doors check who is calling before they read the body or parse the query."""
from __future__ import annotations

import base64
import json

import pytest
from starlette.testclient import TestClient

from backend.api.asgi_door import build_api
from backend.api.lambda_door import handle_http
from backend.api.routes import ROUTES
from backend.errors import PermissionDenied
from backend.services.channels.whatsapp import templates
from backend.services.platform.access import PERMISSIONS, Role
from backend.services.platform import users
from backend.services.platform.validation import MAX_JSON_DEPTH
from backend.settings import reset_settings_cache
from tests.whatsapp_events import signed_webhook_headers
from wecare_app.pages.auth import _safe_next

PASSWORD = "correct horse battery"
DEEP = ("[" * 5000 + "]" * 5000).encode()  # json.loads raises RecursionError on this
NESTED = (json.dumps({"a": 1})[:-1] + ', "b": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}").encode()
JSON_ROUTES = [r for r in ROUTES if r.request_model is not None]  # the routes that take a JSON body


@pytest.fixture
def api(messaging):
    return TestClient(build_api(), raise_server_exceptions=False)


def session(admin, role: str) -> dict:
    email = f"{role.lower()}-{id(admin)}@example.com"
    try:
        users.create_user(admin, email, role, PASSWORD)
    except Exception:  # noqa: BLE001 - already made by an earlier test in this process
        pass
    return {"Authorization": f"Bearer {users.sign_in(email, PASSWORD).token}"}


def url(route) -> str:
    return "/api" + route.path.replace("{contactId}", "c1").replace("{messageId}", "0" * 32).replace("{callId}", "k1")


def error_code(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]["code"]


@pytest.mark.parametrize("route", JSON_ROUTES, ids=lambda r: r.route_key)
@pytest.mark.parametrize("body", [DEEP, NESTED], ids=["recursion", "too-deep"])
def test_deeply_nested_json_is_a_400_on_every_json_route(api, admin, route, body):
    response = api.request(route.method, url(route), content=body, headers=session(admin, "Admin"))
    assert response.status_code == 400, response.text
    assert error_code(response) == "BAD_REQUEST" and "nested more than" in response.json()["error"]["message"]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route_key)
def test_an_anonymous_caller_gets_401_whatever_the_body_and_query(api, route):
    response = api.request(route.method, url(route) + "?day=0001-01-01&limit=x", content=DEEP)
    assert response.status_code == 401 and error_code(response) == "UNAUTHENTICATED"


def test_a_viewer_gets_403_before_the_body_is_read(api, admin):
    viewer = session(admin, "Viewer")
    refused = [route for route in JSON_ROUTES if route.requires not in PERMISSIONS[Role.VIEWER]]
    assert refused
    for route in refused:
        response = api.request(route.method, url(route), content=b"{not json", headers=viewer)
        assert response.status_code == 403, (route.route_key, response.text)
    for route in set(JSON_ROUTES) - set(refused):  # a Viewer's own (asking the knowledge base): the body's 400
        response = api.request(route.method, url(route), content=b"{not json", headers=viewer)
        assert response.status_code == 400 and error_code(response) == "BAD_REQUEST", (route.route_key, response.text)


def test_a_non_ascii_bearer_token_is_a_401(api):
    for token in ("é.é", "a" * 10 + ".Ω", "\u00ff" * 40):
        response = api.get("/api/contacts", headers={"Authorization": b"Bearer " + token.encode("utf-8")})
        assert response.status_code == 401 and error_code(response) == "UNAUTHENTICATED"


def test_a_non_ascii_media_link_signature_is_a_404(api):
    response = api.get("/api/media/f1", params={"expires": "99999999999", "signature": "Ω" * 43})
    assert response.status_code == 404


def test_a_lone_surrogate_in_an_email_is_refused_with_its_field(api, admin):
    body = b'{"contactId": "c1", "subject": "Hello", "text": "a\\ud800b"}'
    response = api.post("/api/email/send", content=body, headers=session(admin, "Operator"))
    assert response.status_code == 422, response.text
    assert "unpaired surrogate" in response.text and "text" in response.text


@pytest.mark.parametrize("path", ["/api/messages?day=0001-01-01", "/api/messages?day=9999-12-31", "/api/voice/calls?day=0001-01-01",
                                  "/api/dlq?olderThanMinutes=" + "9" * 30, "/api/dlq?olderThanMinutes=-5"])
def test_days_and_ages_out_of_range_are_a_422(api, admin, path):
    response = api.get(path, headers=session(admin, "Admin"))
    assert response.status_code == 422, response.text
    assert error_code(response) == "VALIDATION_ERROR"


def test_the_lambda_door_checks_the_role_before_decoding_the_body(messaging):
    event = {"routeKey": "POST /sms/send", "body": "%%% not base64", "isBase64Encoded": True}
    assert handle_http("outbound-sms", event)["statusCode"] == 401
    operator = {**event, "requestContext": {"authorizer": {"jwt": {"claims": {"sub": "s1", "cognito:groups": "[Operator]"}}}}}
    answer = handle_http("outbound-sms", operator)
    assert answer["statusCode"] == 400 and "could not be decoded" in answer["body"]
    encoded = {**operator, "body": base64.b64encode(DEEP).decode()}
    assert handle_http("outbound-sms", encoded)["statusCode"] == 400


@pytest.fixture
def webhook(monkeypatch, messaging):
    monkeypatch.setenv("WECARE_WHATSAPP_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("WECARE_META_APP_SECRET", "app-secret")
    reset_settings_cache()
    yield TestClient(build_api(), raise_server_exceptions=False)
    reset_settings_cache()


def test_webhook_signatures_with_any_bytes_are_a_401_and_deep_json_a_400(webhook):
    for header in ("X-Hub-Signature-256", "X-Wecare-Signature-256", "X-Wecare-Webhook-Secret", "X-Wecare-Timestamp"):
        response = webhook.post("/webhooks/whatsapp", content=b"{}", headers={header: "sha256=Ω".encode("utf-8")})
        assert response.status_code == 401, (header, response.text)
    deep = webhook.post("/webhooks/whatsapp", content=DEEP, headers=signed_webhook_headers("s3cret", DEEP))
    assert deep.status_code == 400 and "nested more than" in deep.text


@pytest.mark.parametrize(
    ("target", "lands"),
    [("/inbox", "/inbox"), ("/inbox/compose?to=a,b", "/inbox/compose?to=a,b"), ("//evil.example", "/"),
     ("/\\evil.example", "/"), ("/\t/evil.example", "/"), ("/%09/evil.example", "/%09/evil.example"),
     ("https://evil.example", "/"), ("/\nevil", "/"), ("", "/"), (None, "/")],
)
def test_sign_in_only_ever_lands_on_this_site(target, lands):
    assert _safe_next(target) == lands


def test_a_viewer_cannot_start_a_template_sync(viewer, operator, messaging):
    before = len(messaging.provider.template_requests) if hasattr(messaging.provider, "template_requests") else None
    with pytest.raises(PermissionDenied):
        templates.list_templates(viewer, refresh=True)
    empty = templates.list_templates(viewer)  # nothing synced yet: a Viewer sees none, and starts no sync
    assert empty.items == [] and empty.synced_at is None
    assert templates.list_templates(operator).synced_at is not None  # an Operator's first look syncs
    assert templates.list_templates(viewer).items  # and then everyone reads the stored catalogue
    if before is not None:
        assert len(messaging.provider.template_requests) == before + 1


@pytest.mark.parametrize(
    ("content", "line"),
    [(b'name,phone\n"Ann,+447700900001\nBob,+447700900002\n', 3), (b'name,phone\n"Ann"x,+447700900001\n', 2)],
)
def test_an_unbalanced_quote_in_an_import_is_a_clear_error_naming_its_line(operator, content, line):
    from backend.errors import ValidationError
    from backend.services.contacts import importer

    with pytest.raises(ValidationError, match=f"line {line}") as error:
        importer.plan_import(operator, content)
    assert error.value.field == "file"


def test_export_defuses_every_cell_a_spreadsheet_would_run():
    from backend.services.storage.csv_cells import safe_cell as _csv_cell

    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert _csv_cell(risky) == "'" + risky
    assert _csv_cell("hello =1") == "hello =1" and _csv_cell(None) == ""
