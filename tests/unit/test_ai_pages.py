"""/ai/knowledge-base and /ai/assistant without a browser: the pages' own handlers against moto. An Admin's upload
is read, stored, listed and indexed; a document the service cannot read fails with its reason; the sample
handbook loads with one click on an empty base; a document is deleted after the confirmation; the live loop
follows indexing and stops when nothing is pending or the page is left; a Viewer gets no upload, re-index or
delete. On the assistant a question is answered with its citation cards (they open), a question the documents
cannot answer is declined with the reason, an empty one is refused, a failing model keeps the question with the
reason, and feedback is recorded on the interaction."""
from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

import pytest
import reflex as rx

from backend.errors import Unavailable
from backend.models.assistant import AIInteractionModel
from backend.models.messaging import MediaFileModel
from backend.services.ai import answers, knowledge_base
from backend.services.ai.knowledge_base import MAX_DOCUMENT_BYTES
from wecare_app.pages.ai import assistant_page, knowledge_base_page
from wecare_app.pages.ai.assistant_page import AssistantState
from wecare_app.pages.ai.display import answer_parts, upload_accept
from wecare_app.pages.ai.knowledge_base_page import ROUTE, KnowledgeBaseState
from tests.unit.state_double import StateDouble
from tests.unit.test_uploads_state import FakeUpload, file_drop

HANDBOOK = b"""# Shop handbook

## Opening hours

We are open Monday to Saturday from 9am to 6pm. On Sundays the shop opens from 10am to 4pm.

## Refunds

Refunds reach the customer's card within 5 working days of the returned item arriving at the warehouse.
"""


@pytest.fixture(autouse=True)
def knowledge_dir(local_run):
    """A local run (answers from the local index, which lives in the data dir) with each test its own data dir:
    the tables are fresh per test, and so must the index be."""
    yield local_run
    knowledge_base.wait_idle()  # no indexing thread outlives its test's tables


class Page(StateDouble):
    state: type = rx.State

    def __init__(self, actor, **values):
        super().__init__(actor, **{"user_role": actor.role.value if actor.role else "", **values})
        self.router = SimpleNamespace(url=SimpleNamespace(path=ROUTE), session=SimpleNamespace(client_token="tab-1"))


class KnowledgePage(Page, file_drop(KnowledgeBaseState)):
    state = KnowledgeBaseState
    _show, _reload, _start = KnowledgeBaseState._show, KnowledgeBaseState._reload, KnowledgeBaseState._start
    open_page = KnowledgeBaseState.event_handlers["open_page"].fn
    watch = KnowledgeBaseState.event_handlers["watch"].fn
    load_sample = KnowledgeBaseState.event_handlers["load_sample"].fn
    reindex = KnowledgeBaseState.event_handlers["reindex"].fn
    ask_delete = KnowledgeBaseState.event_handlers["ask_delete"].fn
    confirm_delete = KnowledgeBaseState.event_handlers["confirm_delete"].fn


class AssistantPage(Page):
    state = AssistantState
    _ask, _with_citation = AssistantState._ask, AssistantState._with_citation
    open_page = AssistantState.event_handlers["open_page"].fn
    ask = AssistantState.event_handlers["ask"].fn
    ask_example = AssistantState.event_handlers["ask_example"].fn
    retry = AssistantState.event_handlers["retry"].fn
    toggle_citation = AssistantState.event_handlers["toggle_citation"].fn
    open_citation = AssistantState.event_handlers["open_citation"].fn
    rate_answer = AssistantState.event_handlers["rate_answer"].fn


def events(result) -> list:
    """What a handler returned or yielded, as a flat list (a generator handler is run to its end)."""
    if inspect.isasyncgen(result):
        async def drain():
            return [item async for item in result]
        return asyncio.run(drain())
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    if result is None:
        return []
    return list(result) if isinstance(result, list) else [result]


def text_of(items) -> str:
    return " ".join(str(item) for item in items)


def upload(page: KnowledgePage, name: str, data: bytes, content_type: str = "text/markdown") -> list:
    handed_on = events(page.receive_file([FakeUpload(data, size=len(data), name=name, content_type=content_type)]))
    assert KnowledgePage.store_upload in handed_on
    return events(page.store_upload())


def kb_page(actor) -> KnowledgePage:
    page = KnowledgePage(actor)
    events(page.open_page())
    return page


# ---------------------------------------------------------------- the knowledge base


def test_the_handlers_that_call_services_are_background_events():
    assert all(KnowledgeBaseState.event_handlers[name].is_background
               for name in ("open_page", "retry", "watch", "store_upload", "load_sample", "reindex", "confirm_delete"))
    assert all(AssistantState.event_handlers[name].is_background
               for name in ("open_page", "ask", "ask_example", "retry", "rate_answer"))
    assert not KnowledgeBaseState.event_handlers["receive_file"].is_background  # it owns the request's files


def test_an_admins_upload_is_listed_queued_then_indexed(admin):
    page = kb_page(admin)
    assert (page.can_manage, page.can_load_sample, page.rows, page.loading) == (True, True, [], False)
    assert page.retrieval.startswith("Local index")
    page.upload_progress({"progress": 0.4})
    assert (page.uploading, page.upload_percent) == (True, 40)
    done = upload(page, "shop-handbook.md", HANDBOOK)
    assert "shop-handbook.md uploaded" in text_of(done) and not page.uploading and page._upload is None
    [row] = page.rows
    assert (row["title"], row["filename"], row["type"], row["can_manage"]) == ("Shop handbook", "shop-handbook.md", "Markdown", True)
    assert row["status"] in ("queued", "indexing", "indexed")
    knowledge_base.wait_idle()
    events(page._reload())
    [row] = page.rows
    assert (row["status"], row["status_label"], row["status_color"], row["pending"]) == ("indexed", "Indexed", "green", False)
    assert int(row["passages"]) >= 2 and page.passages == int(row["passages"])
    assert (page.documents, page.indexed, page.failed, page.pending, page.can_load_sample) == (1, 1, 0, 0, False)


def test_a_document_that_cannot_be_read_fails_with_its_reason_in_the_row(admin):
    page = kb_page(admin)
    upload(page, "scan.pdf", b"%PDF-1.4\nnot really a pdf\n%%EOF\n", "application/pdf")
    knowledge_base.wait_idle()
    events(page._reload())
    [row] = page.rows
    assert (row["status"], row["status_color"], row["failed"], row["passages"]) == ("failed", "red", True, "—")
    assert row["error"] and page.failed == 1
    refused = upload(page, "notes.txt", b"")
    assert page.upload_error == "notes.txt: the document is empty" and "the document is empty" in text_of(refused)


def test_the_drop_zone_refuses_the_wrong_type_and_size_unread(admin):
    page = kb_page(admin)
    big = FakeUpload(b"x", size=MAX_DOCUMENT_BYTES + 1, name="huge.pdf", content_type="application/pdf")
    events(page.receive_file([big]))
    assert big.reads == [] and page.upload_error == "huge.pdf: larger than 10 MB" and not page.uploading
    page.refuse_dropped([{"file": {"name": "photo.png"}, "errors": [{"code": "file-invalid-type"}]}])
    assert page.upload_error == "photo.png: not a PDF, DOCX, TXT, Markdown or HTML document"
    assert upload_accept()["text/markdown"] == [".md", ".markdown"] and upload_accept()["application/pdf"] == [".pdf"]
    assert MediaFileModel.count() == 0


def test_an_admin_loads_the_sample_handbook_with_one_click(admin):
    page = kb_page(admin)
    done = events(page.load_sample())
    assert "Sample handbook loaded" in text_of(done) and not page.loading_sample
    assert KnowledgeBaseState.watch in done or page.pending == 0  # the live loop starts while documents are pending
    knowledge_base.wait_idle()
    events(page._reload())
    titles = {row["title"] for row in page.rows}
    assert "Opening Hours" in titles and all(row["sample"] and row["status"] == "indexed" for row in page.rows)
    assert page.indexed == page.documents == len(page.rows) >= 5 and not page.can_load_sample
    again = events(page.load_sample())
    assert "already loaded" in text_of(again) and page.documents == len(page.rows)


def test_delete_after_the_confirmation_removes_the_document(admin):
    page = kb_page(admin)
    upload(page, "shop-handbook.md", HANDBOOK)
    knowledge_base.wait_idle()
    events(page._reload())
    [row] = page.rows
    page.ask_delete(row["document_id"], row["title"])
    assert (page.confirm_open, page.confirm_title) == (True, "Shop handbook")
    done = events(page.confirm_delete())
    assert "“Shop handbook” deleted" in text_of(done) and not page.confirm_open and page.busy == ""
    assert page.rows == [] and page.passages == 0 and page.can_load_sample
    assert MediaFileModel.count() == 0


def test_reindex_queues_the_document_again(admin):
    page = kb_page(admin)
    upload(page, "shop-handbook.md", HANDBOOK)
    knowledge_base.wait_idle()
    events(page._reload())
    done = events(page.reindex(page.rows[0]["document_id"]))
    assert "being indexed again" in text_of(done) and page.busy == ""
    knowledge_base.wait_idle()
    events(page._reload())
    assert page.rows[0]["status"] == "indexed"


def test_a_viewer_sees_the_documents_but_no_way_to_change_them(admin, viewer):
    knowledge_base.upload_document(admin, "shop-handbook.md", HANDBOOK, "text/markdown")
    knowledge_base.wait_idle()
    page = kb_page(viewer)
    assert (page.can_manage, page.can_load_sample) == (False, False)
    assert "Viewer" in page.manage_reason and "Admin" in page.manage_reason
    assert [row["can_manage"] for row in page.rows] == [False] and page.rows[0]["status"] == "indexed"
    attempt = FakeUpload(HANDBOOK, size=len(HANDBOOK), name="more.md", content_type="text/markdown")
    refused = events(page.receive_file([attempt]))
    assert attempt.reads == [] and "cannot change the knowledge base" in text_of(refused) and page._upload is None
    empty = kb_page(viewer)
    knowledge_base.delete_document(admin, page.rows[0]["document_id"])
    events(empty._reload())
    assert empty.rows == [] and not empty.can_load_sample  # the empty state says an Admin can add documents
    rendered = str(knowledge_base_page.ai_knowledge_base_page().render())
    assert "An Admin can add documents" in rendered and "Load the sample handbook" in rendered


def test_the_live_loop_follows_indexing_and_stops(admin, monkeypatch):
    monkeypatch.setattr(knowledge_base_page, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(knowledge_base_page, "client_connected", lambda token: True)
    page = kb_page(admin)
    upload(page, "shop-handbook.md", HANDBOOK)
    page.pending = 1  # as the page saw it before indexing finished
    asyncio.run(page.watch())
    assert page.pending == 0 and page.rows[0]["status"] == "indexed" and not page.watching
    knowledge_base.reindex_document(admin, page.rows[0]["document_id"])
    page.router.url.path = "/ai/assistant"  # the tab moved on: the loop ends without reading
    asyncio.run(page.watch())
    assert not page.watching


# ---------------------------------------------------------------- the assistant


def with_handbook(admin) -> None:
    knowledge_base.upload_document(admin, "shop-handbook.md", HANDBOOK, "text/markdown")
    knowledge_base.wait_idle()


def test_a_question_is_answered_with_its_citation_cards(admin, viewer):
    with_handbook(admin)
    page = AssistantPage(viewer)
    events(page.open_page())
    assert (page.kb_documents, page.kb_indexed, page.kb_pending, page.kb_loading) == (1, 1, 0, False)
    done = events(page.ask({"question": "When are you open on Sundays?"}))
    assert not page.asking and "scroll" in text_of(done).lower()
    [turn] = page.turns
    assert (turn["question"], turn["status"]) == ("When are you open on Sundays?", "answered")
    assert "10am to 4pm" in turn["answer"] and {"text": "", "cite": "1"} in turn["parts"]
    [cite] = turn["citations"]
    assert (cite["number"], cite["title"], cite["open"]) == ("1", "Shop handbook", False)
    assert "Opening hours" in cite["location"] and "10am to 4pm" in cite["content"]
    assert turn["confidence"].endswith("%") and turn["latency"].endswith(" ms") and turn["interaction_id"]
    page.toggle_citation(turn["turn_id"], "1")
    assert page.turns[0]["citations"][0]["open"] is True
    page.toggle_citation(turn["turn_id"], "1")
    opened = page.open_citation(turn["turn_id"], "1")
    assert page.turns[0]["citations"][0]["open"] is True and f"cite-{turn['turn_id']}-1" in str(opened)


def test_a_question_the_documents_cannot_answer_is_declined_with_the_reason(admin, viewer):
    with_handbook(admin)
    page = AssistantPage(viewer)
    events(page.ask_example("Do you sell second-hand tractors in Norway?"))
    [turn] = page.turns
    assert turn["status"] == "declined" and turn["citations"] == []
    assert turn["answer"] == answers.NO_ANSWER_TEXT and turn["reason"]
    rendered = str(assistant_page.ai_assistant_page().render())
    assert "The knowledge base has no answer to this question." in rendered


def test_an_empty_question_is_refused_and_nothing_is_asked(viewer):
    page = AssistantPage(viewer)
    refused = events(page.ask({"question": "   "}))
    assert "the question is empty" in text_of(refused) and page.turns == [] and not page.asking
    assert AIInteractionModel.count() == 0
    refused = events(page.ask({"question": "x" * 1001}))
    assert "at most 1,000" in text_of(refused) and page.turns == [] and not page.asking
    assert "x" * 1001 in text_of(refused)  # back in the box to shorten
    assert AIInteractionModel.count() == 0


def test_a_failing_model_keeps_the_question_with_the_reason(viewer, monkeypatch):
    def down(actor, request):
        raise Unavailable("The AI model did not answer: timed out")

    monkeypatch.setattr(answers, "query", down)
    page = AssistantPage(viewer)
    refused = events(page.ask({"question": "When are you open?"}))
    [turn] = page.turns
    assert (turn["status"], turn["error"]) == ("error", "The AI model did not answer: timed out")
    assert "timed out" in text_of(refused) and not page.asking


def test_feedback_is_recorded_on_the_interaction(admin, viewer):
    with_handbook(admin)
    page = AssistantPage(viewer)
    events(page.ask_example("How long do refunds take?"))
    [turn] = page.turns
    thanks = events(page.rate_answer(turn["turn_id"], "not-helpful"))
    assert "not helpful" in text_of(thanks) and page.turns[0]["rating"] == "not-helpful" and page.rating_busy == ""
    assert AIInteractionModel.get(turn["interaction_id"]).rating == "not-helpful"


def test_an_empty_knowledge_base_is_named_with_a_link(viewer):
    page = AssistantPage(viewer)
    events(page.open_page())
    assert (page.kb_documents, page.kb_loading) == (0, False)
    rendered = str(assistant_page.ai_assistant_page().render())
    assert "assistant-kb-empty" in rendered and "/ai/knowledge-base" in rendered
    assert all(example in rendered for example in assistant_page.EXAMPLES)


def test_the_answer_is_cut_at_its_marks():
    assert answer_parts("Open 10am to 4pm. [1] Closed at Christmas. [2]") == [
        {"text": "Open 10am to 4pm. ", "cite": ""}, {"text": "", "cite": "1"},
        {"text": " Closed at Christmas. ", "cite": ""}, {"text": "", "cite": "2"}]


def test_the_upload_limit_is_the_guards():
    from reflex.utils.format import format_event_handler

    from wecare_app.wecare_app import UPLOAD_LIMITS

    assert UPLOAD_LIMITS[format_event_handler(KnowledgeBaseState.receive_file)] == MAX_DOCUMENT_BYTES
