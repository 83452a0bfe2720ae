"""AI answers from the knowledge base (issue 14), through the services and the REST doors, on moto:

- the knowledge base: an upload is stored and indexed in the background (queued → indexing → indexed), a bad
  file is refused naming `file` with nothing stored, a file that cannot be read ends `failed` with the reason,
  re-index and delete work, a Viewer reads but cannot change it, the sample loads once, a restarted process
  resumes what was left, and an old indexing run never overwrites a newer version;
- `query` and `generate`: answers cite their passages and every call writes an AIInteraction; an empty or
  oversize question is a 422; an unanswerable one is declined; a suggestion greets the contact by first name,
  carries no [n] marks and always needs approval;
- outcomes (once, by the asker or an Admin) and the interaction log's rates;
- Bedrock: the Retrieve and Converse requests the service makes are pinned with botocore's Stubber, a model
  answer is cited, NO_ANSWER is declined, throttling is a 503 with an error row; in AWS without a knowledge base
  id nothing is made up.
"""
from __future__ import annotations

import json
import shutil
import sys
from datetime import timedelta
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from backend.adapters import bedrock_ai
from backend.adapters.channels import providers
from backend.api import media_api
from backend.api.http import ApiRequest, invoke
from backend.api.routes import ROUTES
from backend.errors import Conflict, NotFound, PermissionDenied, Unavailable, ValidationError
from backend.models.assistant import AIInteractionModel
from backend.models.base import utcnow
from backend.models.messaging import MediaFileModel
from backend.services.ai import answers, interactions, knowledge_base
from backend.services.ai.sample import FOLDER as SAMPLE_FOLDER
from backend.services.channels import reply
from backend.services.messaging import messages
from backend.services.platform.access import Actor, Role
from backend.settings import get_settings, reset_settings_cache
from tests.unit.people import contact, customer_writes

HANDBOOK = b"""# Shop handbook

## Opening hours

The shop is open Monday to Saturday from 9am to 5pm. On Sundays the shop is open from 10am to 4pm.

## Delivery

We deliver across Bristol and Bath every Tuesday and Friday. Delivery is free on orders over 50 pounds.

## Returns

Bring an item back within 30 days with its receipt for a full refund.
"""
ANSWERABLE = "When is the shop open on Sundays?"
UNANSWERABLE = "Do you deliver to France?"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch, messaging):
    """Local answers (no Bedrock) over a data directory and media store of the test's own."""
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WECARE_ENV", "local")
    for name in ("WECARE_AI_KNOWLEDGE_BASE_ID", "WECARE_AI_GUARDRAIL_ID", "WECARE_MEDIA_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    providers.reset_providers()
    yield tmp_path
    knowledge_base.wait_idle()  # no indexing outlives the test's tables
    monkeypatch.undo()
    reset_settings_cache()
    providers.reset_providers()


def upload(admin, filename: str = "handbook.md", data: bytes = HANDBOOK, mime: str | None = "text/markdown", **kw):
    document = knowledge_base.upload_document(admin, filename, data, mime, **kw)
    knowledge_base.wait_idle()
    return knowledge_base.get_document(admin, document.document_id)


def stored_files(root) -> list:
    media = root / "media"
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def interaction(interaction_id: str) -> AIInteractionModel:
    return AIInteractionModel.get(interaction_id, consistent_read=True)


# ---------------------------------------------------------------- the knowledge base


def test_an_uploaded_markdown_document_is_indexed_and_answers(admin, viewer, data_dir):
    queued = knowledge_base.upload_document(admin, "shop-handbook.md", HANDBOOK, "text/markdown")
    assert queued.status == "queued" and queued.passages == 0 and queued.title == "Shop handbook"
    assert queued.mime_type == "text/markdown" and queued.size_bytes == len(HANDBOOK) and queued.uploaded_by == "u-admin"
    knowledge_base.wait_idle()
    document = knowledge_base.get_document(viewer, queued.document_id)
    assert document.status == "indexed" and document.error is None and document.indexed_at is not None
    assert document.passages == 3  # one per section
    assert not document.can_manage and knowledge_base.get_document(admin, queued.document_id).can_manage
    listed = knowledge_base.list_documents(admin)
    assert [d.document_id for d in listed.documents] == [queued.document_id]
    assert listed.counts == {"queued": 0, "indexing": 0, "indexed": 1, "failed": 0}
    assert listed.passages == 3 and listed.retrieval.startswith("Local index")
    assert listed.can_manage and not listed.can_load_sample  # not empty any more
    assert len(stored_files(data_dir)) == 1
    assert knowledge_base.local_index().document_ids() == {queued.document_id}
    answer = answers.query(viewer, {"query": ANSWERABLE})
    assert answer.answered and "10am to 4pm" in answer.answer
    assert answer.citations[0].source.document_id == queued.document_id
    assert answer.citations[0].source.location == "Shop handbook › Opening hours"


@pytest.mark.parametrize("filename, data, why", [
    ("handbook.pdf", b"This is plain text, not a PDF", "named .pdf but is not a PDF"),
    ("handbook.docx", b"plain text", "named .docx but is not a Word document"),
    ("tool.exe", b"MZ\x90\x00", "is not a PDF, DOCX, TXT, Markdown or HTML document"),
    ("sheet.csv", b"a,b\n1,2\n", "is not a PDF, DOCX, TXT, Markdown or HTML document"),
    ("notes.txt", b"text\x00\x01\x02binary", "holds binary data"),
    ("empty.md", b"", "the document is empty"),
    ("huge.txt", b"x" * (knowledge_base.MAX_DOCUMENT_BYTES + 1), "at most 10 MB"),
])
def test_a_bad_file_is_refused_naming_file_and_nothing_is_stored(admin, data_dir, filename, data, why):
    with pytest.raises(ValidationError) as raised:
        knowledge_base.upload_document(admin, filename, data, None)
    assert raised.value.field == "file" and why in raised.value.message
    assert knowledge_base.list_documents(admin).documents == []
    assert stored_files(data_dir) == []


def test_a_bad_file_name_or_title_is_refused(admin, data_dir):
    with pytest.raises(ValidationError) as raised:
        knowledge_base.upload_document(admin, "  ", HANDBOOK, "text/markdown")
    assert raised.value.field == "filename"
    with pytest.raises(ValidationError) as raised:
        knowledge_base.upload_document(admin, "a.md", HANDBOOK, "text/markdown", title="t" * 201)
    assert raised.value.field == "title"
    assert knowledge_base.list_documents(admin).documents == []


def test_a_document_whose_text_cannot_be_read_ends_failed_with_the_reason(admin, data_dir):
    document = upload(admin, "broken.docx", b"PK\x03\x04 a zip header and nothing else", DOCX)
    assert document.status == "failed" and document.passages == 0
    assert document.error.startswith("The DOCX could not be read")
    assert knowledge_base.list_documents(admin).counts["failed"] == 1
    assert document.document_id not in knowledge_base.local_index().document_ids()
    again = knowledge_base.reindex_document(admin, document.document_id)
    knowledge_base.wait_idle()
    assert knowledge_base.get_document(admin, again.document_id).status == "failed"  # the same bytes fail again


def test_a_pdf_with_no_text_fails_with_the_ocr_reason(admin, data_dir):
    from tests.unit.test_kb_text import pdf_bytes

    document = upload(admin, "scan.pdf", pdf_bytes([]), None)
    assert (document.status, document.error) == ("failed", "No text found in the document (a scanned PDF needs OCR first)")


def test_reindex_indexes_again(admin, operator, data_dir):
    document = upload(admin)
    first = MediaFileModel.get(document.document_id, consistent_read=True)
    queued = knowledge_base.reindex_document(admin, document.document_id)
    assert queued.status in ("queued", "indexing", "indexed")  # the worker may already have started
    knowledge_base.wait_idle()
    row = MediaFileModel.get(document.document_id, consistent_read=True)
    assert (row.kbStatus, row.kbVersion, row.kbPassages) == ("indexed", first.kbVersion + 1, 3)
    assert row.kbIndexedAt >= first.kbIndexedAt
    with pytest.raises(PermissionDenied):
        knowledge_base.reindex_document(operator, document.document_id)
    with pytest.raises(NotFound) as raised:
        knowledge_base.reindex_document(admin, "no-such-document")
    assert raised.value.field == "documentId"
    with pytest.raises(NotFound):
        knowledge_base.reindex_document(admin, "../../etc/passwd")


def test_delete_removes_the_document_its_file_and_its_passages(admin, viewer, data_dir):
    document = upload(admin)
    assert answers.query(viewer, {"query": ANSWERABLE}).answered
    knowledge_base.delete_document(admin, document.document_id)
    assert knowledge_base.list_documents(admin).documents == []
    assert stored_files(data_dir) == []
    assert knowledge_base.local_index().document_ids() == set()
    after = answers.query(viewer, {"query": ANSWERABLE})
    assert not after.answered and after.results == [] and after.citations == []
    with pytest.raises(NotFound):
        knowledge_base.delete_document(admin, document.document_id)


def test_a_viewer_reads_the_knowledge_base_and_asks_but_cannot_change_it(admin, operator, viewer, data_dir):
    for actor in (viewer, operator):
        with pytest.raises(PermissionDenied):
            knowledge_base.upload_document(actor, "handbook.md", HANDBOOK, "text/markdown")
    assert stored_files(data_dir) == []
    document = upload(admin)
    listed = knowledge_base.list_documents(viewer)
    assert [d.document_id for d in listed.documents] == [document.document_id]
    assert not listed.can_manage and "Viewer" in listed.manage_reason and not listed.can_load_sample
    assert not listed.documents[0].can_manage
    for refused in (knowledge_base.load_sample, lambda actor: knowledge_base.delete_document(actor, document.document_id)):
        with pytest.raises(PermissionDenied):
            refused(viewer)
    assert answers.query(viewer, {"query": ANSWERABLE}).answered


def test_the_sample_loads_once(admin, viewer, data_dir):
    if not list(SAMPLE_FOLDER.glob("*.md")):
        pytest.skip(f"the sample knowledge base ({SAMPLE_FOLDER}) has no .md files yet")
    count = len(list(SAMPLE_FOLDER.glob("*.md")))
    assert knowledge_base.list_documents(admin).can_load_sample
    first = knowledge_base.load_sample(admin)
    assert (first.added, first.already) == (count, 0)
    assert all(d.sample and d.document_id.startswith("sample-") for d in first.documents)
    knowledge_base.wait_idle()
    second = knowledge_base.load_sample(admin)
    assert (second.added, second.already) == (0, count)
    listed = knowledge_base.list_documents(admin)
    assert len(listed.documents) == count and listed.counts["indexed"] == count and not listed.can_load_sample
    answer = answers.query(viewer, {"query": "When are the shops open on Sundays?"})
    assert answer.answered and answer.citations[0].source.document_id == "sample-opening-hours"


def test_resume_indexing_picks_up_what_a_stopped_process_left(admin, viewer, data_dir, monkeypatch):
    indexed = upload(admin)
    with monkeypatch.context() as stopped:  # a process that stopped before its worker ran
        stopped.setattr(knowledge_base, "_queue", lambda document_id, version: None)
        left = knowledge_base.upload_document(admin, "notes.txt", b"Gift cards never expire.", "text/plain")
    assert knowledge_base.get_document(admin, left.document_id).status == "queued"
    shutil.rmtree(data_dir / "knowledge")  # a wiped data directory: the index is gone
    assert not answers.query(viewer, {"query": ANSWERABLE}).answered
    assert knowledge_base.resume_indexing() == 2
    knowledge_base.wait_idle()
    assert {d.status for d in knowledge_base.list_documents(admin).documents} == {"indexed"}
    assert knowledge_base.local_index().document_ids() == {indexed.document_id, left.document_id}
    assert answers.query(viewer, {"query": ANSWERABLE}).answered
    assert answers.query(viewer, {"query": "Do gift cards expire?"}).answered
    assert knowledge_base.resume_indexing() == 0  # nothing left to do


@pytest.fixture
def queued_by_hand(monkeypatch):
    """Indexing runs only when the test calls index_document: the queue records what it was given."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(knowledge_base, "_queue", lambda document_id, version: calls.append((document_id, version)))
    return calls


def test_an_old_version_never_overwrites_a_newer_one(admin, queued_by_hand):
    document = knowledge_base.upload_document(admin, "handbook.md", HANDBOOK, "text/markdown")
    knowledge_base.reindex_document(admin, document.document_id)
    assert queued_by_hand == [(document.document_id, 1), (document.document_id, 2)]
    assert knowledge_base.index_document(document.document_id, 1) == "superseded"
    row = MediaFileModel.get(document.document_id, consistent_read=True)
    assert (row.kbStatus, row.kbVersion) == ("queued", 2)
    assert knowledge_base.index_document(document.document_id, 2) == "indexed"
    assert knowledge_base.index_document(document.document_id, 2) == "superseded"  # once
    assert knowledge_base.get_document(admin, document.document_id).status == "indexed"


def test_a_reindex_while_indexing_wins(admin, viewer, queued_by_hand, monkeypatch):
    document = knowledge_base.upload_document(admin, "handbook.md", HANDBOOK, "text/markdown")
    real = knowledge_base.passages_of
    runs = []

    def extracted(filename, data, mime):
        runs.append(filename)
        if len(runs) == 1:  # while version 1 is indexing, an Admin asks again
            assert MediaFileModel.get(document.document_id, consistent_read=True).kbStatus == "indexing"
            knowledge_base.reindex_document(admin, document.document_id)
            return [{"heading": "Old", "location": "Old", "text": "The stale zebra passage."}]
        return real(filename, data, mime)

    monkeypatch.setattr(knowledge_base, "passages_of", extracted)
    assert knowledge_base.index_document(document.document_id, 1) == "superseded"
    assert MediaFileModel.get(document.document_id, consistent_read=True).kbStatus == "queued"
    assert queued_by_hand[-1] == (document.document_id, 2)
    assert knowledge_base.index_document(document.document_id, 2) == "indexed"
    assert knowledge_base.local_index().search("zebra") == []  # the newest version's passages only
    row = MediaFileModel.get(document.document_id, consistent_read=True)
    assert (row.kbStatus, row.kbVersion, row.kbPassages) == ("indexed", 2, 3)


def test_a_delete_while_indexing_leaves_no_passages(admin, queued_by_hand, monkeypatch):
    document = knowledge_base.upload_document(admin, "handbook.md", HANDBOOK, "text/markdown")
    real = knowledge_base.passages_of

    def extracted(filename, data, mime):
        passages = real(filename, data, mime)
        knowledge_base.delete_document(admin, document.document_id)
        return passages

    monkeypatch.setattr(knowledge_base, "passages_of", extracted)
    assert knowledge_base.index_document(document.document_id, 1) == "superseded"
    assert knowledge_base.local_index().document_ids() == set()
    assert knowledge_base.local_index().search("Sundays") == []
    with pytest.raises(MediaFileModel.DoesNotExist):
        MediaFileModel.get(document.document_id, consistent_read=True)


# ---------------------------------------------------------------- query


@pytest.fixture
def handbook(admin):
    return upload(admin)


def test_a_question_is_answered_with_its_passages_and_recorded(viewer, operator, handbook):
    about = contact(operator, "Ida Asks", optInWhatsApp=True).contact_id
    answer = answers.query(viewer, {"query": "  When is the shop   open on Sundays? ", "contactId": about})
    assert answer.answered and answer.confidence >= 0.5 and answer.reason == ""
    assert "On Sundays the shop is open from 10am to 4pm. [1]" in answer.answer
    assert answer.results and answer.results[0].source.location == "Shop handbook › Opening hours"
    assert answer.results[0].source.title == handbook.title == "Handbook" and answer.results[0].score > 0
    assert [c.number for c in answer.citations] == [1] and "10am to 4pm" in answer.citations[0].content
    assert answer.model == "local-extractive"
    row = interaction(answer.interaction_id)
    assert (row.kind, row.status, row.model, row.userId) == ("query", "answered", "local-extractive", "u-viewer")
    assert row.question == ANSWERABLE  # whitespace folded
    assert row.answered is True and row.suggestion == answer.answer and row.contactId == about
    assert row.latencyMs is not None and row.latencyMs >= 0 and row.day == f"{utcnow():%Y-%m-%d}"
    assert row.passages[0]["source"]["documentId"] == handbook.document_id and row.passages[0]["chunkId"]
    api = answer.to_api()
    assert set(api) >= {"interactionId", "answer", "results"} and set(api["results"][0]) == {"content", "source", "score"}
    assert set(api["results"][0]["source"]) == {"documentId", "title", "location"}


@pytest.mark.parametrize("text", ["", "   ", "x" * (answers.MAX_QUERY_CHARS + 1)])
def test_an_empty_or_oversize_question_is_refused(viewer, handbook, text):
    with pytest.raises(ValidationError) as raised:
        answers.query(viewer, {"query": text})
    assert raised.value.field == "query"
    assert list(AIInteractionModel.scan()) == []  # nothing recorded


def test_a_question_the_knowledge_base_cannot_answer_is_declined(viewer, handbook):
    answer = answers.query(viewer, {"query": UNANSWERABLE})
    assert not answer.answered and answer.citations == []
    assert answer.answer == "The knowledge base has no answer to this question." and answer.reason
    row = interaction(answer.interaction_id)
    assert (row.status, row.answered, row.suggestion) == ("declined", False, None)
    nothing = answers.query(viewer, {"query": "xylophone quokka"})
    assert not nothing.answered and nothing.results == [] and "shares a word" in nothing.reason


# ---------------------------------------------------------------- generate


@pytest.fixture
def customer(operator, handbook):
    """A WhatsApp contact whose message asks about Sunday hours; returns (contact, the inbound message id)."""
    person = contact(operator, "Dana Fields", optInWhatsApp=True)
    customer_writes(person.phone, "Hello! When is the shop open on Sundays?")
    [inbound] = [m for m in messages.conversation(operator, person.contact_id).items if getattr(m, "direction", "") == "inbound"]
    return person, inbound.message_id


def test_a_suggestion_from_text_is_cited_and_needs_approval(operator, handbook):
    suggestion = answers.generate(operator, {"messageContent": ANSWERABLE})
    assert suggestion.answered and suggestion.requires_approval is True
    assert suggestion.suggested_response.startswith("Hello,\n\n")
    assert "10am to 4pm" in suggestion.suggested_response and "[1]" not in suggestion.suggested_response
    assert suggestion.suggested_response.endswith("Is there anything else I can help with?")
    assert suggestion.citations and suggestion.citations[0].source.document_id == handbook.document_id
    assert suggestion.contact_id is None and suggestion.message_id is None
    row = interaction(suggestion.interaction_id)
    assert (row.kind, row.status, row.userId) == ("suggest", "suggested", "u-operator")
    assert row.suggestion == suggestion.suggested_response  # what the customer would read is what is logged
    assert suggestion.to_api()["requiresApproval"] is True and "suggestedResponse" in suggestion.to_api()


def test_a_suggestion_for_a_customers_message_greets_them_by_first_name(operator, customer):
    person, message_id = customer
    suggestion = answers.generate(operator, {"messageId": message_id})
    assert suggestion.answered and suggestion.suggested_response.startswith("Hi Dana,\n\n")
    assert "10am to 4pm" in suggestion.suggested_response and "[1]" not in suggestion.suggested_response
    assert (suggestion.contact_id, suggestion.message_id) == (person.contact_id, message_id)
    row = interaction(suggestion.interaction_id)
    assert (row.contactId, row.messageId) == (person.contact_id, message_id)
    assert row.question == "Hello! When is the shop open on Sundays?"
    someone_else = contact(operator, "Otto Other", optInWhatsApp=True).contact_id
    with pytest.raises(ValidationError) as raised:
        answers.generate(operator, {"messageId": message_id, "contactId": someone_else})
    assert raised.value.field == "contactId"


def test_only_a_customers_message_can_be_answered(operator, handbook):
    person = contact(operator, "Sam Sms", optInSms=True)
    sent = reply.send_reply(operator, person.contact_id, {"channel": "sms", "text": "Your order is on its way."})
    with pytest.raises(ValidationError) as raised:
        answers.generate(operator, {"messageId": sent.message_id})
    assert raised.value.field == "messageId"
    with pytest.raises(NotFound):
        answers.generate(operator, {"messageId": "no-such-message"})
    with pytest.raises(ValidationError):
        answers.generate(operator, {})  # neither a message nor its text
    with pytest.raises(ValidationError) as raised:
        answers.generate(operator, {"messageContent": "x" * (answers.MAX_QUERY_CHARS + 1)})
    assert raised.value.field == "messageContent"
    assert list(AIInteractionModel.scan()) == []


def test_a_viewer_gets_no_suggestion(viewer, customer):
    _person, message_id = customer
    for request in ({"messageId": message_id}, {"messageContent": ANSWERABLE}):
        with pytest.raises(PermissionDenied):
            answers.generate(viewer, request)
    assert list(AIInteractionModel.scan()) == []


def test_a_message_the_knowledge_base_cannot_answer_gets_no_suggestion(operator, handbook):
    suggestion = answers.generate(operator, {"messageContent": UNANSWERABLE})
    assert not suggestion.answered and suggestion.suggested_response == "" and suggestion.citations == []
    assert "no answer" in suggestion.note and suggestion.requires_approval
    row = interaction(suggestion.interaction_id)
    assert (row.status, row.answered, row.suggestion) == ("declined", False, None)


# ---------------------------------------------------------------- outcomes and the log


def suggest(actor, text: str = ANSWERABLE) -> str:
    return answers.generate(actor, {"messageContent": text}).interaction_id


def test_an_outcome_is_recorded_once_with_what_went_out(admin, operator, handbook):
    approved = suggest(operator)
    with pytest.raises(ValidationError) as raised:
        interactions.record_outcome(operator, approved, {"outcome": "approved"})
    assert raised.value.field == "sentMessageId"
    done = interactions.record_outcome(operator, approved, {"outcome": "approved", "sentMessageId": "m-1",
                                                            "rating": "helpful", "feedback": "  spot on "})
    assert (done.status, done.sent_message_id, done.outcome_by, done.feedback, done.rating) == (
        "approved", "m-1", "u-operator", "spot on", "helpful")
    assert done.outcome_at is not None and interaction(approved).status == "approved"
    with pytest.raises(Conflict):
        interactions.record_outcome(operator, approved, {"outcome": "rejected"})
    assert interaction(approved).status == "approved"

    edited = suggest(operator)
    with pytest.raises(ValidationError) as raised:
        interactions.record_outcome(operator, edited, {"outcome": "edited", "sentMessageId": "m-2", "sentText": "  "})
    assert raised.value.field == "sentText"
    done = interactions.record_outcome(operator, edited, {"outcome": "edited", "sentMessageId": "m-2",
                                                          "sentText": " Open 10 till 4 on Sundays. "})
    assert (done.status, done.sent_text) == ("edited", "Open 10 till 4 on Sundays.")

    other = Actor(user_id="u-operator-2", email="operator2@example.com", role=Role.OPERATOR)
    theirs = suggest(operator)
    with pytest.raises(PermissionDenied):
        interactions.record_outcome(other, theirs, {"outcome": "rejected"})
    assert interaction(theirs).status == "suggested"
    done = interactions.record_outcome(admin, theirs, {"outcome": "rejected", "feedback": "Out of date"})
    assert (done.status, done.outcome_by, done.feedback, done.sent_message_id) == ("rejected", "u-admin", "Out of date", None)

    query_id = answers.query(operator, {"query": ANSWERABLE}).interaction_id
    with pytest.raises(ValidationError) as raised:
        interactions.record_outcome(operator, query_id, {"outcome": "rejected"})
    assert raised.value.field == "interactionId"
    with pytest.raises(NotFound):
        interactions.record_outcome(operator, "no-such-interaction", {"outcome": "rejected"})
    with pytest.raises(ValidationError):
        interactions.record_outcome(operator, suggest(operator), {"outcome": "sent-by-robot"})


def test_the_log_computes_the_rates_over_its_rows(operator, viewer, handbook):
    approved = [suggest(operator) for _ in range(2)]
    edited, rejected, pending = suggest(operator), suggest(operator), suggest(operator)
    suggest(operator, UNANSWERABLE)  # declined: not a suggestion anyone acts on
    for interaction_id in approved:
        interactions.record_outcome(operator, interaction_id, {"outcome": "approved", "sentMessageId": "m-a"})
    interactions.record_outcome(operator, edited, {"outcome": "edited", "sentMessageId": "m-e", "sentText": "Changed."})
    interactions.record_outcome(operator, rejected, {"outcome": "rejected"})
    asked = answers.query(viewer, {"query": ANSWERABLE}).interaction_id
    answers.query(viewer, {"query": UNANSWERABLE})
    interactions.rate(viewer, asked, "helpful", "clear")

    log = interactions.list_interactions(viewer)
    rates = log.rates
    assert (rates.total, rates.declined, rates.errors, rates.suggestions) == (8, 2, 0, 5)
    assert (rates.approved, rates.edited, rates.rejected, rates.pending) == (2, 1, 1, 1)
    assert (rates.approval_rate, rates.edit_rate, rates.rejection_rate) == (0.5, 0.25, 0.25)
    assert (rates.helpful, rates.not_helpful) == (1, 0)
    assert len(log.items) == 8 and not log.truncated
    assert [i.created_at for i in log.items] == sorted((i.created_at for i in log.items), reverse=True)
    assert pending in {i.interaction_id for i in log.items if i.status == "suggested"}

    queries = interactions.list_interactions(viewer, kind="query")
    assert sorted(i.status for i in queries.items) == ["answered", "declined"]
    assert queries.rates.total == 8  # the rates are over the rows read, before the filter
    assert {i.interaction_id for i in interactions.list_interactions(viewer, status="approved").items} == set(approved)

    today = utcnow().date()
    with pytest.raises(ValidationError) as raised:
        interactions.list_interactions(viewer, start=today - timedelta(days=40), end=today)
    assert raised.value.field == "start"
    with pytest.raises(ValidationError) as raised:
        interactions.list_interactions(viewer, kind="poem")
    assert raised.value.field == "kind"
    yesterday = interactions.list_interactions(viewer, start=today - timedelta(days=3), end=today - timedelta(days=1))
    assert yesterday.items == [] and yesterday.rates.approval_rate is None


# ---------------------------------------------------------------- REST


def call(method: str, path: str, actor, body: dict | None = None, *, path_params=None, query=None):
    [route] = [r for r in ROUTES if (r.method, r.path) == (method, path)]
    raw = json.dumps(body).encode() if body is not None else b""
    request = ApiRequest(method=method, path_params=path_params or {}, query=query or {}, raw_body=raw,
                         headers={"content-type": "application/json"}, route_key=f"{method} {path}")
    return invoke(route.endpoint, actor, request, route.requires, route.idempotent)


def test_the_rest_doors(admin, operator, viewer, handbook):
    asked = call("POST", "/ai/query", viewer, {"query": ANSWERABLE})
    assert asked.status == 200 and asked.body["answered"] is True and asked.body["results"][0]["source"]["documentId"]
    empty = call("POST", "/ai/query", viewer, {"query": "  "})
    assert empty.status == 422 and empty.body["error"]["field"] == "query"
    oversize = call("POST", "/ai/query", viewer, {"query": "q" * 1001})
    assert oversize.status == 422 and oversize.body["error"]["field"] == "query"

    assert call("POST", "/ai/generate", viewer, {"messageContent": ANSWERABLE}).status == 403
    made = call("POST", "/ai/generate", operator, {"messageContent": ANSWERABLE})
    assert made.status == 200 and made.body["requiresApproval"] is True and made.body["suggestedResponse"]
    assert made.body["citations"] and made.body["interactionId"]

    outcome = call("POST", "/ai/interactions/{interactionId}/outcome", operator, {"outcome": "rejected"},
                   path_params={"interactionId": made.body["interactionId"]})
    assert outcome.status == 200 and outcome.body["status"] == "rejected"
    again = call("POST", "/ai/interactions/{interactionId}/outcome", operator, {"outcome": "rejected"},
                 path_params={"interactionId": made.body["interactionId"]})
    assert again.status == 409

    read = call("GET", "/ai/interactions/{interactionId}", viewer, path_params={"interactionId": asked.body["interactionId"]})
    assert read.status == 200 and read.body["kind"] == "query"

    docs = call("GET", "/ai/documents", viewer)
    assert docs.status == 200 and docs.body["documents"][0]["documentId"] == handbook.document_id
    assert call("POST", "/ai/documents/{documentId}/reindex", viewer, path_params={"documentId": handbook.document_id}).status == 403
    assert call("POST", "/ai/documents/{documentId}/reindex", admin, path_params={"documentId": handbook.document_id}).status == 202
    knowledge_base.wait_idle()
    assert call("DELETE", "/ai/documents/{documentId}", admin, path_params={"documentId": handbook.document_id}).status == 204


def test_the_interaction_log_door_rejects_a_bad_day(viewer):
    assert call("GET", "/ai/interactions", viewer, query={"start": "yesterday"}).status == 422


def test_the_interaction_log_door_serves_a_viewer(operator, viewer, handbook):
    made = call("POST", "/ai/generate", operator, {"messageContent": ANSWERABLE})
    call("POST", "/ai/interactions/{interactionId}/outcome", operator, {"outcome": "rejected"},
         path_params={"interactionId": made.body["interactionId"]})
    call("POST", "/ai/query", viewer, {"query": ANSWERABLE})
    served = call("GET", "/ai/interactions", viewer)
    assert served.status == 200 and served.body["rates"]["rejected"] == 1 and len(served.body["items"]) == 2
    assert call("GET", "/ai/interactions", viewer, query={"kind": "suggest"}).body["items"][0]["status"] == "rejected"


# ---------------------------------------------------------------- Bedrock

KB_ID = "KBTEST0001"
GUARDRAIL_ID = "gr0test0001"
PASSAGES = [
    {"content": {"type": "TEXT", "text": "Our shops open from 10am to 4pm on Sundays."},
     "location": {"type": "S3", "s3Location": {"uri": "s3://kb-docs/knowledge/doc-hours.md"}},
     "metadata": {"title": "Opening hours", "x-amz-bedrock-kb-chunk-id": "c-1"}, "score": 0.82},
    {"content": {"type": "TEXT", "text": "Delivery is free over 50 pounds."},
     "location": {"type": "S3", "s3Location": {"uri": "s3://kb-docs/knowledge/doc-delivery.md"}},
     "metadata": {"title": "Delivery", "x-amz-bedrock-kb-chunk-id": "c-2"}, "score": 0.31},
]


@pytest.fixture
def bedrock(monkeypatch):
    """Bedrock configured by settings; the service's boto3 clients are real ones under Stubber."""
    monkeypatch.setenv("WECARE_ENV", "aws")
    monkeypatch.setenv("WECARE_AI_KNOWLEDGE_BASE_ID", KB_ID)
    monkeypatch.setenv("WECARE_AI_GUARDRAIL_ID", GUARDRAIL_ID)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_settings_cache()
    clients = {"bedrock-agent-runtime": boto3.client("bedrock-agent-runtime", region_name="us-east-1"),
               "bedrock-runtime": boto3.client("bedrock-runtime", region_name="us-east-1")}
    built = []

    def client(service, region_name=None, config=None):
        built.append((service, region_name, config.read_timeout))
        return clients[service]

    monkeypatch.setattr(bedrock_ai, "boto3", SimpleNamespace(client=client))
    with Stubber(clients["bedrock-agent-runtime"]) as kb, Stubber(clients["bedrock-runtime"]) as model:
        yield SimpleNamespace(kb=kb, model=model, built=built)
        kb.assert_no_pending_responses()
        model.assert_no_pending_responses()
    reset_settings_cache()


def retrieve_params(question: str) -> dict:
    return {"knowledgeBaseId": KB_ID, "retrievalQuery": {"text": question},
            "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": answers.RESULTS}}}


def converse_params(question: str) -> dict:
    user = ("Passages:\n[1] Opening hours — Our shops open from 10am to 4pm on Sundays.\n\n"
            "[2] Delivery — Delivery is free over 50 pounds.\n\n"
            f"Question: {question}")
    return {"modelId": get_settings().ai_model_id, "system": [{"text": answers.SYSTEM_PROMPT}],
            "messages": [{"role": "user", "content": [{"text": user}]}],
            "inferenceConfig": {"maxTokens": 400, "temperature": 0.2},
            "guardrailConfig": {"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "DRAFT"}}


def converse_response(text: str) -> dict:
    return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn",
            "usage": {"inputTokens": 300, "outputTokens": 20, "totalTokens": 320}, "metrics": {"latencyMs": 800}}


def test_bedrock_answers_with_its_citation(viewer, operator, bedrock):
    bedrock.kb.add_response("retrieve", {"retrievalResults": PASSAGES}, retrieve_params(ANSWERABLE))
    bedrock.model.add_response("converse", converse_response("We open from 10am to 4pm on Sundays [1]."),
                               converse_params(ANSWERABLE))
    answer = answers.query(viewer, {"query": ANSWERABLE})
    assert answer.answered and answer.answer == "We open from 10am to 4pm on Sundays [1]."
    assert [(c.number, c.source.document_id, c.source.title) for c in answer.citations] == [(1, "doc-hours", "Opening hours")]
    assert [r.source.document_id for r in answer.results] == ["doc-hours", "doc-delivery"]
    assert answer.model == get_settings().ai_model_id and answer.confidence == pytest.approx(0.82)
    assert {service for service, _region, _timeout in bedrock.built} == {"bedrock-agent-runtime", "bedrock-runtime"}
    assert all(timeout == get_settings().ai_timeout_seconds for _s, _r, timeout in bedrock.built)
    row = interaction(answer.interaction_id)
    assert (row.status, row.model, row.answered) == ("answered", get_settings().ai_model_id, True)

    bedrock.kb.add_response("retrieve", {"retrievalResults": PASSAGES}, retrieve_params(ANSWERABLE))
    bedrock.model.add_response("converse", converse_response("We open from 10am to 4pm on Sundays [1]."),
                               converse_params(ANSWERABLE))
    suggestion = answers.generate(operator, {"messageContent": ANSWERABLE})
    assert suggestion.suggested_response == ("Hello,\n\nWe open from 10am to 4pm on Sundays.\n\n"
                                             "Is there anything else I can help with?")
    assert suggestion.requires_approval and [c.number for c in suggestion.citations] == [1]


def test_bedrock_no_answer_is_declined(viewer, bedrock):
    bedrock.kb.add_response("retrieve", {"retrievalResults": PASSAGES}, retrieve_params(UNANSWERABLE))
    bedrock.model.add_response("converse", converse_response("NO_ANSWER"), converse_params(UNANSWERABLE))
    answer = answers.query(viewer, {"query": UNANSWERABLE})
    assert not answer.answered and answer.citations == []
    assert answer.answer == answers.NO_ANSWER_TEXT and answer.reason == "The passages do not hold the answer."
    assert interaction(answer.interaction_id).status == "declined"


@pytest.mark.parametrize("reply, reason", [
    ("Sorry — **NO_ANSWER**", "The passages do not hold the answer."),  # the mark anywhere, not only first
    ("We open at 9am every day.", "The model's answer cited none of the passages."),  # nothing cited: not ours
])
def test_bedrock_an_answer_without_the_passages_is_declined(viewer, bedrock, reply, reason):
    bedrock.kb.add_response("retrieve", {"retrievalResults": PASSAGES}, retrieve_params(UNANSWERABLE))
    bedrock.model.add_response("converse", converse_response(reply), converse_params(UNANSWERABLE))
    answer = answers.query(viewer, {"query": UNANSWERABLE})
    assert not answer.answered and answer.reason == reason and answer.answer == answers.NO_ANSWER_TEXT


def test_a_conversation_that_is_not_a_contact_is_refused(viewer):
    for contact_id in ("nobody-here", "x" * 3000):
        with pytest.raises(NotFound):
            answers.query(viewer, {"query": "When are you open?", "contactId": contact_id})


def test_bedrock_with_no_passages_does_not_ask_the_model(viewer, bedrock):
    bedrock.kb.add_response("retrieve", {"retrievalResults": []}, retrieve_params(UNANSWERABLE))
    answer = answers.query(viewer, {"query": UNANSWERABLE})  # no converse response queued: a call would fail
    assert not answer.answered and answer.results == []


def test_bedrock_throttling_is_unavailable_and_recorded_as_an_error(viewer, operator, bedrock):
    bedrock.kb.add_response("retrieve", {"retrievalResults": PASSAGES}, retrieve_params(ANSWERABLE))
    bedrock.model.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429,
                                   service_message="Rate exceeded for arn:aws:bedrock:us-east-1:123456789012:x",
                                   expected_params=converse_params(ANSWERABLE))
    with pytest.raises(Unavailable) as raised:
        answers.generate(operator, {"messageContent": ANSWERABLE})
    assert raised.value.http_status == 503 and "busy" in raised.value.message
    assert "123456789012" not in raised.value.message
    [row] = list(AIInteractionModel.scan())
    assert (row.status, row.kind, row.suggestion, row.model) == ("error", "suggest", None, get_settings().ai_model_id)
    assert row.error == raised.value.message and len(row.passages) == 2

    bedrock.kb.add_client_error("retrieve", service_error_code="ThrottlingException", http_status_code=429,
                                expected_params=retrieve_params(ANSWERABLE))
    refused = call("POST", "/ai/query", viewer, {"query": ANSWERABLE})
    assert refused.status == 503 and refused.body["error"]["code"] == "UNAVAILABLE"
    assert sorted(r.status for r in AIInteractionModel.scan()) == ["error", "error"]


def test_without_a_knowledge_base_id_or_a_local_index_nothing_is_made_up(viewer, operator, monkeypatch):
    """The functions' layer in AWS carries no local index (bm25s): without ai_knowledge_base_id a question is a 503,
    recorded as an error, never an invented answer."""
    monkeypatch.setenv("WECARE_ENV", "aws")
    monkeypatch.delenv("WECARE_AI_KNOWLEDGE_BASE_ID", raising=False)
    monkeypatch.setitem(sys.modules, "backend.adapters.knowledge_index", None)  # importing it fails, as in the layer
    knowledge_base._index_at.cache_clear()
    reset_settings_cache()
    try:
        with pytest.raises(Unavailable) as raised:
            answers.query(viewer, {"query": ANSWERABLE})
        assert "No knowledge base is configured" in raised.value.message and raised.value.http_status == 503
        with pytest.raises(Unavailable):
            answers.generate(operator, {"messageContent": ANSWERABLE})
        rows = list(AIInteractionModel.scan())
        assert sorted((r.kind, r.status) for r in rows) == [("query", "error"), ("suggest", "error")]
        assert all(r.suggestion is None and "No knowledge base is configured" in r.error for r in rows)
    finally:
        knowledge_base._index_at.cache_clear()
        reset_settings_cache()


def upload_call(actor, data: bytes, *, filename: str = "handbook.md", mime: str = "text/markdown", **query):
    [route] = [r for r in ROUTES if (r.method, r.path) == ("POST", "/ai/documents")]
    request = ApiRequest(method="POST", path_params={}, query={"filename": filename, **query}, raw_body=data,
                         headers={"content-type": mime, "content-length": str(len(data))}, route_key="POST /ai/documents")
    return invoke(route.endpoint, actor, request, route.requires, route.idempotent)


def test_a_document_is_uploaded_through_the_rest_door(admin, operator, viewer, data_dir):
    assert upload_call(operator, HANDBOOK).status == 403 and stored_files(data_dir) == []
    too_big = upload_call(admin, b"x" * (media_api.MAX_API_UPLOAD_BYTES + 1))
    assert too_big.status == 413 and "knowledge-base page" in too_big.body["error"]["message"]
    wrong = upload_call(admin, b"MZ\x90\x00", filename="tool.exe", mime="application/octet-stream")
    assert wrong.status == 422 and wrong.body["error"]["field"] == "file" and stored_files(data_dir) == []
    added = upload_call(admin, HANDBOOK, title="Shop handbook")
    assert added.status == 202 and added.body["status"] == "queued" and added.body["title"] == "Shop handbook"
    knowledge_base.wait_idle()
    assert answers.query(viewer, {"query": ANSWERABLE}).citations[0].source.document_id == added.body["documentId"]
