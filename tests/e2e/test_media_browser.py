"""The media library in a real browser: an Operator drops an image on /media (it is uploaded with a progress
bar, its type read from its bytes), sees it in the grid with its thumbnail, opens it and sees the preview
(served through a short-lived signed link), and deletes it after confirming; a file a scheduled campaign
will send cannot be deleted, and the page says why."""
from __future__ import annotations

import re
import struct
import uuid
import zlib
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as
from tests.e2e.test_inbox_browser import OPERATOR_EMAIL, OPERATOR_PASSWORD, ensure_operator

FIRST_VISIT_MS = 180_000  # the dev server compiles a route on its first request


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_an_operator_uploads_an_image_opens_it_sees_the_preview_and_deletes_it(page: Page, e2e_app: E2EApp, tmp_path) -> None:
    from backend.models.messaging import MediaFileModel
    from backend.services.platform.audit import resource_history

    ensure_operator()
    name = f"menu-{uuid.uuid4().hex[:6]}.png"
    image = tmp_path / name
    image.write_bytes(png(160, 90, (15, 118, 110)))
    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/")
    page.goto(e2e_app.at("/media"), timeout=FIRST_VISIT_MS)
    expect(page.locator("#media-upload-rules")).to_contain_text("JPEG or PNG", timeout=FIRST_VISIT_MS)
    expect(page.locator("#media-upload-rules")).to_contain_text("up to 5 MB")

    page.locator("#media-upload input[type=file]").set_input_files(str(image))
    expect(page.get_by_text(f"{name} uploaded")).to_be_visible()
    card = page.locator(".media-card", has_text=name)
    expect(card).to_have_count(1)
    expect(card.locator(".media-kind")).to_have_text("Image")
    expect(card.locator(".media-uses")).to_have_text("Not used")
    thumbnail = card.locator(".media-thumbnail")
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=thumbnail.element_handle())
    e2e_app.screenshot(page, "media-library")

    card.click()
    page.wait_for_url(re.compile(r".*/media/[0-9a-f]{32}$"), timeout=FIRST_VISIT_MS)
    file_id = page.url.rsplit("/", 1)[-1]
    expect(page.locator("#media-file-name")).to_have_text(name, timeout=FIRST_VISIT_MS)
    expect(page.locator("#media-mime")).to_have_text("image/png")
    preview = page.locator("#media-preview-image")
    expect(preview).to_be_visible()
    assert re.search(rf"/api/media/{file_id}\?expires=\d+&signature=", preview.get_attribute("src") or "")
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=preview.element_handle())
    expect(page.locator("#media-unused")).to_be_visible()
    e2e_app.screenshot(page, "media-file")

    page.locator("#media-delete").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete this file?")
    dialog.locator("#media-delete-confirm").click()
    page.wait_for_url(re.compile(r".*/media$"))
    expect(page.get_by_text(f"{name} deleted")).to_be_visible()
    expect(page.locator(".media-card", has_text=name)).to_have_count(0)
    assert MediaFileModel.count(file_id) == 0
    assert [e.action for e in resource_history("media", file_id)][:1] == ["media.delete"]


def test_a_file_a_campaign_will_send_cannot_be_deleted_and_says_why(page: Page, e2e_app: E2EApp) -> None:
    from backend.models.base import utcnow
    from backend.models.campaigns import BulkJobModel
    from backend.services.media import library
    from backend.services.platform.access import Actor, Role

    ensure_operator()
    operator = Actor(user_id="e2e-operator", email=OPERATOR_EMAIL, role=Role.OPERATOR)
    name = f"offer-{uuid.uuid4().hex[:6]}.png"
    stored = library.upload_file(operator, name, png(40, 40, (251, 191, 36)), "image/png")
    now = utcnow()
    BulkJobModel(jobId=uuid.uuid4().hex, name=f"Spring offer {name}", channel="whatsapp", status="scheduled", createdBy="e2e",
                 createdAt=now, updatedAt=now, scheduledAt=now + timedelta(days=7),  # the app's runner leaves it waiting
                 message={"type": "media", "media": {"fileId": stored.file_id}}).save()

    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/")
    page.goto(e2e_app.at(f"/media/{stored.file_id}"), timeout=FIRST_VISIT_MS)
    expect(page.locator("#media-file-name")).to_have_text(name, timeout=FIRST_VISIT_MS)
    expect(page.locator("#media-delete-disabled")).to_be_disabled()
    expect(page.locator("#media-delete")).to_have_count(0)
    expect(page.locator("#media-delete-reason")).to_contain_text(f"In use by Campaign “Spring offer {name}” · scheduled")
    expect(page.locator(".media-use-link")).to_have_text("Open campaign")
    e2e_app.screenshot(page, "media-file-in-use")
