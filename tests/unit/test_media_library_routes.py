"""The media library's routes through the real ASGI door: they answer 401/403 before anything is read, serve the library,
refuse a delete in use with 409 naming the uses, take an upload's bytes, are documented; and the signed content
link of the inbox's previews (`/api/media/{fileId}?expires&signature`) still answers beside them."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from backend.api import asgi_door, media_api, openapi
from backend.models.messaging import MediaFileModel
from backend.services.media.files import media_link
from backend.services.platform import users

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PASSWORD = "correct horse battery"

@pytest.fixture
def api(messaging):
    openapi.document.cache_clear()
    yield TestClient(asgi_door.build_api(), raise_server_exceptions=False)
    openapi.document.cache_clear()


def bearer(admin, email: str, role: str) -> dict:
    users.create_user(admin, email, role, PASSWORD)
    return {"Authorization": f"Bearer {users.sign_in(email, PASSWORD).token}"}


def test_the_routes_serve_the_library_beside_the_signed_content_link(api, admin, operator):
    viewer = bearer(admin, "media-viewer@example.com", "Viewer")
    writer = bearer(admin, "media-operator@example.com", "Operator")
    assert api.get("/api/media/files").status_code == 401
    refused = api.post("/api/media/files", params={"filename": "menu.png"}, content=PNG, headers={**viewer, "Content-Type": "image/png"})
    assert refused.status_code == 403
    created = api.post("/api/media/files", params={"filename": "menu.png"}, content=PNG, headers={**writer, "Content-Type": "image/png"})
    assert created.status_code == 201, created.text
    file_id = created.json()["fileId"]
    listed = api.get("/api/media/files", params={"kind": "image"}, headers=viewer)
    assert listed.status_code == 200 and [f["fileId"] for f in listed.json()["items"]] == [file_id]
    read = api.get(f"/api/media/files/{file_id}", headers=viewer)
    assert read.status_code == 200 and read.json()["canDelete"] is False and read.json()["downloadUrl"].startswith(f"/api/media/{file_id}?")

    shown = api.get(read.json()["previewUrl"])  # the inbox's signed link: no bearer, still served
    assert shown.status_code == 200 and shown.content == PNG
    assert api.get(media_link(operator, file_id)).content == PNG
    assert api.get(f"/api/media/{file_id}").status_code == 404  # unsigned: nothing

    too_big = api.post("/api/media/files", content=b"x" * (media_api.MAX_API_UPLOAD_BYTES + 10), headers={**writer, "Content-Type": "image/png"})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert api.delete(f"/api/media/files/{file_id}", headers=viewer).status_code == 403
    assert api.delete(f"/api/media/files/{file_id}", headers=writer).status_code == 204
    assert MediaFileModel.count(file_id) == 0 and api.get(f"/api/media/files/{file_id}", headers=viewer).status_code == 404


def test_the_routes_are_documented(api):
    validator = pytest.importorskip("openapi_spec_validator")
    doc = openapi.document()
    validator.validate(doc)
    assert {"get", "post"} <= set(doc["paths"]["/media/files"]) and {"get", "delete"} <= set(doc["paths"]["/media/files/{fileId}"])
    assert doc["paths"]["/media/files"]["post"]["x-roles"] == ["Operator", "Admin"]
