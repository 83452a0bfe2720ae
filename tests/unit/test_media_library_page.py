"""/media and /media/[file_id] without a browser: the library's own handlers upload (a Viewer's or an oversize
file refused unread; a file the service refuses says why under the drop zone), list the grid with signed
thumbnails, filter by kind; the file page shows the preview its type allows, where the file is used (links to
the conversations and campaigns), refuses a delete in use with the uses named and deletes an unused file;
the page states the accepted types and sizes, and Viewers get neither the drop zone nor Delete."""
from __future__ import annotations

import asyncio

import reflex as rx
from reflex.config import get_config

from backend.models.base import utcnow
from backend.models.campaigns import BulkJobModel
from backend.models.messaging import MediaFileModel
from backend.services.media import library
from backend.services.media.rules import MAX_UPLOAD_BYTES
from wecare_app.pages.media import file_page, library_page
from wecare_app.pages.media.display import detail_view, file_view, use_view
from wecare_app.pages.media.file_page import MediaFileState
from wecare_app.pages.media.library_page import MediaLibraryState
from tests.unit.test_uploads_state import FakeUpload, file_drop
from tests.unit.state_double import StateDouble

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class PageDouble(StateDouble):
    """A media page's state outside Reflex (tests/unit/state_double.py), signed in with the actor's role."""

    state: type = rx.State

    def __init__(self, actor, **values):
        super().__init__(actor, **{"user_role": actor.role.value if actor.role else "", **values})

    @property
    def can_write(self) -> bool:
        return self.user_role in ("Operator", "Admin")


class Library(PageDouble, file_drop(MediaLibraryState)):
    state = MediaLibraryState
    _page_query, _load_page, _show_page = MediaLibraryState._page_query, MediaLibraryState._load_page, MediaLibraryState._show_page

    async def _refresh(self, *, restart: bool = False):
        page = await self._load_page(self._page_query(), "")
        self._show_page(page)


class FilePage(PageDouble):
    state = MediaFileState
    _show = MediaFileState._show
    load = MediaFileState.event_handlers["load"].fn
    delete = MediaFileState.event_handlers["delete"].fn
    download = MediaFileState.event_handlers["download"].fn

    def __init__(self, actor, file_id: str):
        super().__init__(actor)
        self.file_id = file_id

    def _file_id(self) -> str:
        return self.file_id


def text_of(event) -> str:
    return str(event)


def test_the_handlers_that_call_services_are_background_events():
    assert all(MediaLibraryState.event_handlers[name].is_background
               for name in ("open_list", "store_upload", "search", "set_kind_filter", "clear_filters"))
    assert all(MediaFileState.event_handlers[name].is_background for name in ("load", "delete", "download"))
    assert not MediaLibraryState.event_handlers["receive_file"].is_background  # it owns the request's files


def test_an_operators_upload_is_read_stored_and_listed_with_its_thumbnail(operator):
    page = Library(operator)
    page.upload_progress({"progress": 0.5, "loaded": 50, "total": 100})
    assert (page.uploading, page.upload_percent) == (True, 50)
    upload = FakeUpload(PNG, size=len(PNG), name="menu.png", content_type="image/png")
    handed_on = asyncio.run(page.receive_file([upload]))
    assert handed_on[-1] is Library.store_upload and page.upload_stage == "Checking and storing menu.png"
    done = asyncio.run(page.store_upload())
    assert "menu.png uploaded" in text_of(done) and not page.uploading and page._upload is None
    [row] = page.rows
    assert (row["name"], row["kind_label"], row["size"], row["uses"], row["source_label"]) == ("menu.png", "Image", "80 B", "Not used", "Uploaded")
    assert row["thumbnail"].startswith(get_config().api_url.rstrip("/") + f"/api/media/{row['file_id']}?expires=")
    assert row["href"] == f"/media/{row['file_id']}"


def test_a_viewers_upload_and_an_oversize_one_are_refused_unread(viewer, operator):
    page = Library(viewer)
    upload = FakeUpload(PNG, size=len(PNG), name="menu.png", content_type="image/png")
    refused = asyncio.run(page.receive_file([upload]))
    assert upload.reads == [] and "Operator or Admin" in text_of(refused) and page._upload is None
    page = Library(operator)
    big = FakeUpload(b"x", size=MAX_UPLOAD_BYTES + 1, name="huge.mp4", content_type="video/mp4")
    asyncio.run(page.receive_file([big]))
    assert big.reads == [] and page.upload_error == "huge.mp4: larger than 100 MB" and not page.uploading
    assert MediaFileModel.count() == 0


def test_a_file_the_service_refuses_says_why_under_the_drop_zone(operator):
    page = Library(operator)
    asyncio.run(page.receive_file([FakeUpload(PNG, size=len(PNG), name="invoice.pdf", content_type="application/pdf")]))
    refused = asyncio.run(page.store_upload())
    assert page.upload_error == "invoice.pdf: the file looks like image/png, not application/pdf"
    assert "looks like image/png" in text_of(refused) and not page.uploading and MediaFileModel.count() == 0
    page.refuse_dropped([{"file": {"name": "clip.mov"}, "errors": [{"code": "file-invalid-type"}]}])
    assert page.upload_error == "clip.mov: not a type WhatsApp takes"


def test_the_kind_filter_and_the_search_select_what_the_grid_shows(operator):
    library.upload_file(operator, "menu.png", PNG, "image/png")
    library.upload_file(operator, "prices.pdf", PDF, "application/pdf")
    page = Library(operator)
    page.kind_filter = "document"
    asyncio.run(page._refresh())
    assert [r["name"] for r in page.rows] == ["prices.pdf"] and page.rows[0]["thumbnail"] == ""
    page.kind_filter, page.query = "all", "MENU"
    asyncio.run(page._refresh())
    assert [r["name"] for r in page.rows] == ["menu.png"]


def test_the_file_page_shows_the_preview_and_where_the_file_is_used(operator):
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    now = utcnow()
    BulkJobModel(jobId="j1", name="Spring offer", channel="whatsapp", status="scheduled", createdBy="u", createdAt=now, updatedAt=now,
                 message={"type": "media", "media": {"fileId": stored.file_id}}).save()
    page = FilePage(operator, stored.file_id)
    assert asyncio.run(page.load()) is None  # an image needs no script
    assert (page.file["preview"], page.file["name"], page.file["can_delete"]) == ("image", "menu.png", False)
    assert page.file["preview_url"].startswith(get_config().api_url.rstrip("/") + "/api/media/")
    assert page.file["delete_reason"].startswith("In use by Campaign “Spring offer” · scheduled.")
    assert page.uses == [{"kind": "campaign", "label": "Campaign “Spring offer” · scheduled", "icon": "megaphone",
                          "when": page.uses[0]["when"], "channel": "WhatsApp", "href": "/bulk/j1", "link_text": "Open campaign"}]
    refused = asyncio.run(page.delete())
    assert "Campaign “Spring offer” · scheduled" in text_of(refused) and MediaFileModel.count() == 1 and not page.busy


def test_a_local_pdf_is_shown_by_fetching_its_bytes_and_an_unused_file_is_deleted(operator):
    stored = library.upload_file(operator, "prices.pdf", PDF, "application/pdf")
    page = FilePage(operator, stored.file_id)
    script = asyncio.run(page.load())
    assert page.file["preview"] == "pdf" and page.file["preview_fetch"] is True
    assert file_page.PDF_FRAME_ID in text_of(script) and "application/pdf" in text_of(script)
    assert page.file["can_delete"] and page.uses == []
    opened = asyncio.run(page.download())
    assert "/api/media/" in text_of(opened) and "_redirect" in text_of(opened)
    deleted = asyncio.run(page.delete())
    assert "/media" in text_of(deleted[0]) and "prices.pdf deleted" in text_of(deleted[1])
    assert MediaFileModel.count() == 0


def test_a_missing_file_shows_not_found(viewer):
    page = FilePage(viewer, "no-such-file")
    asyncio.run(page.load())
    assert page.missing and not page.loading and page.file == {}


def test_the_views_carry_the_rule_and_the_links(operator, viewer):
    stored = library.upload_file(operator, "menu.png", PNG, "image/png")
    seen = detail_view(library.get_file(viewer, stored.file_id), "http://api.example")
    assert (seen["can_delete"], seen["delete_reason"]) == (False, library.CANNOT_DELETE_ROLE)
    assert file_view(library.list_files(viewer).items[0], "http://api.example")["thumbnail"].startswith("http://api.example/api/media/")
    message_use = library.FileUse(kind="message", label="WhatsApp to Ada · sent", contact_id="c1", channel="whatsapp", at=utcnow())
    assert use_view(message_use)["href"] == "/inbox/c1" and use_view(message_use)["link_text"] == "Open conversation"


def test_the_page_states_the_accepted_types_and_sizes_and_viewers_get_no_upload_or_delete(monkeypatch):
    rendered = str(library_page.media_library_page().render())
    for kind in library.UPLOAD_KINDS:
        assert kind["formats"] in rendered and kind["limit"] in rendered
    assert library.UPLOAD_ACCEPT["image/jpeg"] == [".jpg", ".jpeg"] and ".docx" in library.UPLOAD_ACCEPT[
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]  # the chooser's filter
    wrapped: list = []  # what the pages draw for writers only (writers_only: Operators and Admins)
    for module in (library_page, file_page):
        monkeypatch.setattr(module, "writers_only", lambda component: wrapped.append(str(component.render())) or component)
    library_page.media_library_page()
    actions = str(file_page._actions().render())
    assert any("media-drop-zone" in part for part in wrapped)
    assert any("media-delete-confirm" in part and "media-delete-disabled" in part for part in wrapped)
    assert "media-download" in actions and not any("media-download" in part for part in wrapped)  # everyone downloads


def test_the_upload_limit_is_the_guards():
    from reflex.utils.format import format_event_handler

    from wecare_app.wecare_app import UPLOAD_LIMITS

    assert UPLOAD_LIMITS[format_event_handler(MediaLibraryState.receive_file)] == MAX_UPLOAD_BYTES


def test_progress_never_passes_a_hundred(operator):
    page = Library(operator)
    page.upload_progress({"progress": 0.2})
    page.upload_progress({"progress": 1.7})
    assert page.upload_percent == 100
