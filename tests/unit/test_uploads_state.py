"""The pages' upload handlers: a Viewer's upload, or one whose declared size is over the limit, is refused
before a byte is read; the rest is read in bounded chunks and refused once past the limit. The drop zone
(FileDrop) sends a refused file's name, not the file, and the empty upload that follows a refusal leaves it be."""
from __future__ import annotations

import asyncio

import pytest
import reflex as rx

from backend.errors import ValidationError
from wecare_app.pages.ai.knowledge_base_page import KnowledgeBaseState
from wecare_app.pages.contacts.import_page import MAX_FILE_BYTES as CSV_LIMIT, ContactImportState
from wecare_app.pages.inbox.thread_page import MAX_FILE_BYTES as MEDIA_LIMIT, ThreadState
from wecare_app.pages.media.library_page import MAX_FILE_BYTES as LIBRARY_LIMIT, MediaLibraryState
from wecare_app.state.uploads import CHUNK_BYTES, drop_zone, read_upload


class FakeUpload:
    """Stands in for rx.UploadFile: serves `data` and records every read."""

    def __init__(self, data: bytes, *, size: int | None = None, name: str = "people.csv", content_type: str = "text/csv"):
        self.data, self.size, self.name, self.content_type = data, size, name, content_type
        self.reads: list[int] = []
        self.position = 0

    async def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        end = len(self.data) if size < 0 else self.position + size
        chunk, self.position = self.data[self.position:end], min(end, len(self.data))
        return chunk


def file_drop(state: type) -> type:
    """A base for a page double (tests/unit/state_double.py): what `state` has from FileDrop (wecare_app/state/uploads.py),
    its ClassVars and hooks and its handlers' functions."""
    members = {name: getattr(state, name) for name in ("upload_id", "upload_limit", "upload_noun", "upload_wrong_type",
                                                       "_upload_refusal", "_store", "_uploaded", "_refused")}
    handlers = {name: state.event_handlers[name].fn for name in ("upload_progress", "refuse_dropped", "receive_file", "store_upload")}
    return type(f"{state.__name__}Drop", (), members | handlers)


def _state(cls, role: str):
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.user_role = role
    return state


@pytest.mark.parametrize("cls, handler, message", [
    (ContactImportState, "receive_file", "Importing contacts needs the Operator or Admin role."),
    (ThreadState, "send_media", "Sending files needs the Operator or Admin role."),
    (MediaLibraryState, "receive_file", "Uploading needs the Operator or Admin role."),
    (KnowledgeBaseState, "receive_file", "Only an Admin can add documents."),
])
def test_a_viewers_upload_is_refused_before_it_is_read(cls, handler, message):
    state = _state(cls, "Viewer")
    upload = FakeUpload(b"name,phone\nA,+447700900123\n", size=26)
    result = asyncio.run(getattr(cls, handler).fn(state, [upload]))
    assert upload.reads == []
    assert message in str(result)
    assert not state._upload


@pytest.mark.parametrize("cls, handler, limit", [(ContactImportState, "receive_file", CSV_LIMIT),
                                                  (ThreadState, "send_media", MEDIA_LIMIT),
                                                  (MediaLibraryState, "receive_file", LIBRARY_LIMIT)])
def test_a_declared_size_over_the_limit_is_refused_unread(cls, handler, limit):
    state = _state(cls, "Operator")
    upload = FakeUpload(b"x", size=limit + 1)
    result = asyncio.run(getattr(cls, handler).fn(state, [upload]))
    assert upload.reads == []
    assert f"larger than {limit // (1024 * 1024)} MB" in str(result)
    assert not state._upload


def test_an_operators_csv_is_read_in_bounded_chunks_and_handed_on():
    state = _state(ContactImportState, "Operator")
    data = b"name,phone\n" + b"Ada,+447700900123\n" * 100_000  # about 1.9 MB: two chunks and a bit
    upload = FakeUpload(data, size=len(data))
    result = asyncio.run(ContactImportState.receive_file.fn(state, [upload]))
    assert result == ContactImportState.read_file
    assert state._upload == data and state.stage == "reading" and state.file_name == "people.csv"
    assert all(0 < n <= CHUNK_BYTES for n in upload.reads)


@pytest.mark.parametrize("cls", [MediaLibraryState, KnowledgeBaseState])
def test_a_dropped_file_is_read_and_handed_on_to_its_own_states_store_upload(cls):
    state = _state(cls, "Admin")
    if cls is KnowledgeBaseState:
        state.can_manage = True  # as the knowledge base's list said
    upload = FakeUpload(b"# Notes\n", size=8, name="notes.md", content_type="text/markdown")
    result = asyncio.run(cls.receive_file.fn(state, [upload]))
    assert result[-1] == cls.store_upload and state._upload == ("notes.md", b"# Notes\n", "text/markdown")
    assert (state.uploading, state.upload_stage) == (True, "Checking and storing notes.md")


def test_a_refused_drop_says_why_and_its_empty_upload_leaves_the_zone_idle():
    state = _state(MediaLibraryState, "Operator")
    state.refuse_dropped([{"file": {"name": "clip.mov"}, "errors": [{"code": "file-invalid-type"}]}])
    # the zone still sends an empty upload: its last progress report and the empty files come after the refusal
    state.upload_progress({"loaded": 44, "total": 44, "progress": 1})
    assert asyncio.run(MediaLibraryState.receive_file.fn(state, [])) is None  # no second toast
    assert (state.uploading, state.upload_error) == (False, "clip.mov: not a type WhatsApp takes")
    state.upload_progress({"progress": 0.5})  # the next file travels
    assert (state.uploading, state.upload_percent, state.upload_error) == (True, 50, "")


def test_the_drop_zone_sends_a_refused_files_name_not_the_file():
    zone = drop_zone(KnowledgeBaseState, "file-up", "Drop a document here", accept={}, zone_id="kb-drop-zone", padding="20px")
    assert all(part in str(zone.render()) for part in ('id:"kb-drop-zone"', "kb-upload-progress", "kb-upload-error"))
    hooks = str(zone._get_all_hooks())
    assert '["rejected"] : _ev_0.map(' in hooks and '["file"] : ({ ["name"] : ' in hooks  # {file: {name}, errors} each


def test_a_file_larger_than_it_claims_stops_one_byte_past_the_limit():
    limit = 3 * CHUNK_BYTES // 2
    upload = FakeUpload(b"y" * (10 * CHUNK_BYTES), size=None)
    with pytest.raises(ValidationError, match="larger than 1.5 MB"):
        asyncio.run(read_upload(upload, limit))
    assert upload.position == limit + 1  # never more than the limit and one byte
    lying = FakeUpload(b"y" * (10 * CHUNK_BYTES), size=10)
    with pytest.raises(ValidationError, match="larger than"):
        asyncio.run(read_upload(lying, limit))
    assert lying.position == limit + 1
    exact = FakeUpload(b"z" * limit, size=None)
    assert asyncio.run(read_upload(exact, limit)) == b"z" * limit
