"""The five contacts Lambdas with real API Gateway HTTP API (v2) events, and the Reflex-backend door
giving the same answers for the same requests."""
from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from backend.adapters.send_queue import lambda_handler
from backend.api.asgi_door import build_api
from backend.services.platform import users
from backend.services.platform.access import Actor, Role

ROUTE_KEYS = {
    "contacts-create": "POST /contacts",
    "contacts-read": "GET /contacts/{contactId}",
    "contacts-update": "PUT /contacts/{contactId}",
    "contacts-delete": "DELETE /contacts/{contactId}",
    "contacts-search": "GET /contacts",
}


def load_handler(function: str):
    return lambda_handler(function)


def api_event(function: str, *, groups: str | None = "[Operator]", body=None, path_params=None, query=None, raw_body: str | None = None, route_key: str | None = None):
    route_key = route_key or ROUTE_KEYS[function]
    method, path = route_key.split(" ")
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "req-1",
            "routeKey": route_key,
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if groups is not None:
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": {"sub": "cognito-sub-1", "email": "op@example.com", "cognito:groups": groups}, "scopes": None}
        }
    if body is not None or raw_body is not None:
        event["body"] = raw_body if raw_body is not None else json.dumps(body)
    if path_params:
        event["pathParameters"] = path_params
    if query:
        event["queryStringParameters"] = query
    return event


def call(function: str, **kwargs) -> tuple[int, dict | None]:
    response = load_handler(function)(api_event(function, **kwargs), None)
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def test_full_lifecycle_through_the_lambdas():
    status, created = call("contacts-create", body={"name": "Ann", "phone": "07911 123456", "optInSms": True})
    assert status == 201 and created["phone"] == "+447911123456" and created["contactId"]
    contact_id = created["contactId"]
    status, read = call("contacts-read", groups="[Viewer]", path_params={"contactId": contact_id})
    assert status == 200 and read["name"] == "Ann"
    status, updated = call("contacts-update", body={"email": "ANN@example.com"}, path_params={"contactId": contact_id})
    assert status == 200 and updated["email"] == "ann@example.com"
    status, page = call("contacts-search", groups="[Viewer]", query={"q": "an"})
    assert status == 200 and [c["contactId"] for c in page["items"]] == [contact_id] and page["nextToken"] is None
    status, body = call("contacts-delete", path_params={"contactId": contact_id})
    assert status == 204 and body is None
    assert call("contacts-read", path_params={"contactId": contact_id})[0] == 404


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"groups": None, "body": {"name": "A", "phone": "+447911123456"}}, 401, "UNAUTHENTICATED"),
        ({"groups": "[Viewer]", "body": {"name": "A", "phone": "+447911123456"}}, 403, "PERMISSION_DENIED"),
        ({"groups": "[Unknown]", "body": {"name": "A", "phone": "+447911123456"}}, 403, "PERMISSION_DENIED"),
        ({"raw_body": "{not json"}, 400, "BAD_REQUEST"),
        ({"raw_body": ""}, 400, "BAD_REQUEST"),
        ({"raw_body": json.dumps({"name": "A", "phone": "+447911123456", "x": "y" * 300_000})}, 400, "BAD_REQUEST"),
        ({"body": {"name": "A", "phone": "12"}}, 422, "VALIDATION_ERROR"),
        ({"body": {"name": "A", "phone": "+447911123456", "role": "admin"}}, 422, "VALIDATION_ERROR"),
        ({"body": ["not", "an", "object"]}, 422, "VALIDATION_ERROR"),
    ],
)
def test_create_refusals(kwargs, status, code):
    got_status, body = call("contacts-create", **kwargs)
    assert (got_status, body["error"]["code"]) == (status, code)
    assert call("contacts-search", groups="[Admin]")[1]["items"] == []  # nothing written


def test_conflict_and_bad_paging():
    call("contacts-create", body={"name": "A", "phone": "+447911123456"})
    status, body = call("contacts-create", body={"name": "B", "phone": "07911123456"})
    assert status == 409 and body["error"]["field"] == "phone"
    assert call("contacts-search", query={"limit": "many"})[0] == 422
    assert call("contacts-search", query={"nextToken": "garbage"})[0] == 422


def test_unknown_route_for_a_function_is_404():
    event = api_event("contacts-read", path_params={"contactId": "x"})
    event["routeKey"] = "GET /admin/secrets"
    assert load_handler("contacts-read")(event, None)["statusCode"] == 404


@pytest.fixture
def rest_client(admin):
    users.create_user(admin, "op@example.com", "Operator", "correct horse battery")
    users.create_user(admin, "viewer@example.com", "Viewer", "correct horse battery")
    return TestClient(build_api())


def _bearer(email: str) -> dict:
    return {"authorization": f"Bearer {users.sign_in(email, 'correct horse battery').token}"}


def test_both_doors_answer_alike(rest_client):
    """The same requests through Lambda and through the Reflex backend's REST door: same statuses and codes."""
    cases = [
        ("contacts-create", "post", "/api/contacts", {"name": "Ann", "phone": "+447911123456"}, "[Viewer]", "viewer@example.com"),
        ("contacts-create", "post", "/api/contacts", {"name": "Ann", "phone": "12"}, "[Operator]", "op@example.com"),
        ("contacts-create", "post", "/api/contacts", {"name": "Ann", "phone": "+447911123456", "bad": 1}, "[Operator]", "op@example.com"),
        ("contacts-search", "get", "/api/contacts", None, None, None),
    ]
    for function, method, path, body, groups, email in cases:
        lambda_status, lambda_body = call(function, groups=groups, body=body)
        headers = _bearer(email) if email else {}
        response = getattr(rest_client, method)(path, headers=headers, **({"json": body} if body is not None else {}))
        assert response.status_code == lambda_status
        assert response.json()["error"]["code"] == lambda_body["error"]["code"]
    created = rest_client.post("/api/contacts", headers=_bearer("op@example.com"), json={"name": "Ann", "phone": "+447911123456"})
    assert created.status_code == 201
    status, body = call("contacts-create", body={"name": "Ann", "phone": "+447911123456"})
    assert status == 409 and body["error"]["code"] == "CONFLICT"
    found = rest_client.get("/api/contacts", params={"q": "+447911123456"}, headers=_bearer("viewer@example.com"))
    assert [c["contactId"] for c in found.json()["items"]] == [created.json()["contactId"]]
    assert rest_client.get("/api/contacts", headers={"authorization": "Bearer forged.token"}).status_code == 401


def test_lambda_claims_pick_the_strongest_group():
    from backend.api.lambda_door import actor_from_claims

    assert actor_from_claims({"sub": "s", "cognito:groups": "[Viewer Admin]"}).role is Role.ADMIN
    assert actor_from_claims({"sub": "s", "cognito:groups": ["Operator"]}).role is Role.OPERATOR
    assert actor_from_claims({"sub": "s"}) == Actor("s", None, None)
    assert not actor_from_claims({}).is_authenticated
