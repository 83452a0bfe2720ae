"""The API's surface: the OpenAPI document generated from the route table is valid and says what the doors
really answer; it and its docs page are served without sign-in; a body of another type is a 415 and a huge
one a 400 on every JSON route, through both doors; documents are downloaded, images previewed."""
from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from backend.api.asgi_door import attachment_disposition, build_api
from backend.api.http import MAX_BODY_BYTES
from backend.api.lambda_door import handle_http
from backend.api.openapi import document
from backend.api.routes import ROUTES
from backend.services.media.files import media_link, upload
from backend.services.platform import users
from tests.unit.people import contact

PASSWORD = "correct horse battery"
JSON_ROUTES = [r for r in ROUTES if r.request_model is not None]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def api(messaging):
    return TestClient(build_api(), raise_server_exceptions=False)


def bearer(admin, email: str, role: str) -> dict:
    users.create_user(admin, email, role, PASSWORD)
    return {"Authorization": f"Bearer {users.sign_in(email, PASSWORD).token}"}


def refs_in(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def resolve(doc: dict, ref: str):
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_document_is_valid_openapi_3_1():
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document())
    assert document()["openapi"] == "3.1.0"


def test_every_route_is_documented_with_its_path_params_roles_and_refs_that_resolve():
    doc = document()
    assert sum(len(item) for item in doc["paths"].values()) == len(ROUTES)
    operation_ids = set()
    for route in ROUTES:
        operation = doc["paths"][route.path][route.method.lower()]
        operation_ids.add(operation["operationId"])
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", route.path)), route.route_key
        assert operation["x-roles"] and "Admin" in operation["x-roles"]
        assert ("requestBody" in operation) == (route.request_model is not None)
        assert {"401", "403"} <= set(operation["responses"]), route.route_key
        header = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [p["name"] for p in header] == (["Idempotency-Key"] if route.idempotent else [])
    assert len(operation_ids) == len(ROUTES)
    assert {r.route_key for r in ROUTES if r.idempotent} == {"POST /whatsapp/send", "POST /sms/send", "POST /email/send", "POST /voice/call"}
    for ref in refs_in(doc):
        assert ref.startswith("#/") and resolve(doc, ref) is not None, ref
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


def conforms(doc: dict, route_key: str, response) -> None:
    """The answer's status is documented for the route and its body matches the documented schema."""
    method, path = route_key.split(" ")
    documented = doc["paths"][path][method.lower()]["responses"][str(response.status_code)]
    documented = resolve(doc, documented["$ref"]) if "$ref" in documented else documented
    if response.status_code == 204:
        assert "content" not in documented and not response.content
        return response.status_code
    schema = {**documented["content"]["application/json"]["schema"], "components": doc["components"]}
    pytest.importorskip("jsonschema").Draft202012Validator(schema).validate(response.json())
    return response.status_code


def test_real_answers_match_the_document(api, admin, operator):
    """Each answer has the status and the body shape the document gives for it."""
    doc = document()
    headers = bearer(admin, "surface-admin@example.com", "Admin")
    created = api.post("/api/contacts", json={"name": "Ann", "phone": "07911 123456", "optInSms": True}, headers=headers)
    assert conforms(doc, "POST /contacts", created) == 201
    contact_id = created.json()["contactId"]
    assert conforms(doc, "GET /contacts", api.get("/api/contacts", params={"q": "Ann"}, headers=headers)) == 200
    sent = api.post("/api/sms/send", json={"contactId": contact_id, "body": "hi"}, headers={**headers, "Idempotency-Key": "k1"})
    assert conforms(doc, "POST /sms/send", sent) == 202
    again = api.post("/api/sms/send", json={"contactId": contact_id, "body": "hi"}, headers={**headers, "Idempotency-Key": "k1"})
    assert conforms(doc, "POST /sms/send", again) == 202 and again.json()["messageId"] == sent.json()["messageId"]
    assert conforms(doc, "GET /messages", api.get("/api/messages", params={"contactId": contact_id}, headers=headers)) == 200
    assert conforms(doc, "GET /messages/{messageId}", api.get(f"/api/messages/{sent.json()['messageId']}", headers=headers)) == 200
    assert conforms(doc, "GET /dlq", api.get("/api/dlq", headers=headers)) == 200
    assert conforms(doc, "POST /dlq/replay", api.post("/api/dlq/replay", json={"all": True, "action": "discard"}, headers=headers)) == 200
    assert conforms(doc, "GET /voice/calls", api.get("/api/voice/calls", headers=headers)) == 200
    assert conforms(doc, "GET /contacts/{contactId}", api.get("/api/contacts/nope", headers=headers)) == 404
    assert conforms(doc, "POST /sms/send", api.post("/api/sms/send", json={"contactId": contact_id, "bdy": "x"}, headers=headers)) == 422
    assert conforms(doc, "GET /contacts", api.get("/api/contacts")) == 401
    assert conforms(doc, "DELETE /contacts/{contactId}", api.delete(f"/api/contacts/{contact_id}", headers=headers)) == 204


def test_the_document_and_its_page_are_served_without_sign_in(api):
    served = api.get("/api/openapi.json")
    assert served.status_code == 200 and served.json() == json.loads(json.dumps(document()))
    page = api.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = page.text
    assert "<script" not in text and "://" not in text  # self-contained: nothing loaded from elsewhere
    for route in ROUTES:
        assert f"{route.method}</span> <code>{route.path}</code>" in text, route.route_key
    assert "Idempotency-Key" in text and "Operator, Admin" in text and "maxLength 1600" in text


@pytest.mark.parametrize("route", JSON_ROUTES, ids=lambda r: r.route_key)
def test_a_body_of_another_type_is_a_415_through_both_doors(api, admin, route):
    url = "/api" + route.path.replace("{contactId}", "c1").replace("{jobId}", "j1")
    headers = {**bearer(admin, f"ct-{route.function}-{route.method}@example.com", "Admin"), "Content-Type": "application/x-www-form-urlencoded"}
    response = api.request(route.method, url, content=b"name=Ann", headers=headers)
    assert response.status_code == 415 and response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    event = {"routeKey": route.route_key, "body": "name=Ann", "headers": {"content-type": "multipart/form-data; boundary=x"},
             "pathParameters": {"contactId": "c1", "jobId": "j1"},
             "requestContext": {"authorizer": {"jwt": {"claims": {"sub": "s1", "cognito:groups": "[Admin]"}}}}}
    answer = handle_http(route.function, event)
    assert answer["statusCode"] == 415 and json.loads(answer["body"])["error"]["field"] == "Content-Type"


def test_a_body_over_the_limit_is_a_400_naming_the_body(api, admin, operator, messaging):
    ann = contact(operator, "Ann", optInSms=True)
    huge = json.dumps({"contactId": ann.contact_id, "body": "x" * MAX_BODY_BYTES}).encode()
    response = api.post("/api/sms/send", content=huge, headers={**bearer(admin, "huge@example.com", "Operator"), "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"
    assert messaging.drain() == 0


def test_documents_are_downloaded_and_images_previewed(api, operator, messaging):
    pdf = upload(operator, "Q3 report \u00fc \"final\".pdf", PDF, "application/pdf")
    downloaded = api.get(media_link(operator, pdf.file_id))
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["content-disposition"] == (
        "attachment; filename=\"Q3 report _ _final_.pdf\"; filename*=UTF-8''Q3%20report%20%C3%BC%20%22final%22.pdf")
    png = upload(operator, "photo.png", PNG, "image/png")
    shown = api.get(media_link(operator, png.file_id))
    assert shown.status_code == 200 and "content-disposition" not in shown.headers


def test_a_file_name_cannot_break_out_of_the_header():
    value = attachment_disposition("a\r\nSet-Cookie: x=1;\"\\.html")
    assert "\r" not in value and "\n" not in value
    assert value.startswith('attachment; filename="a__Set-Cookie: x=1;__.html"; filename*=UTF-8\'\'a%0D%0ASet-Cookie')
