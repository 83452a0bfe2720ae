""""Suggest reply" in /inbox/[contact_id] without a browser (issue 14): the suggestion answers the customer's
newest message with text, fills the reply box and lists its sources; sent as is it is recorded "approved" with
the message that went out, sent after an edit "edited" with what was sent, rejected "rejected" with the reason;
a send the rules refuse records nothing and keeps the suggestion; a Viewer gets no suggestion; when the
knowledge base has no answer the reply box is left as it was, and an AI error is a toast."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
import reflex as rx

from backend.adapters.channels import providers
from backend.errors import Unavailable
from backend.models.assistant import AIInteractionModel
from backend.services.ai import answers, knowledge_base
from backend.services.ai.interactions import get_interaction
from backend.services.messaging import messages
from backend.settings import reset_settings_cache
from tests.unit.people import contact, customer_writes
from tests.unit.state_double import StateDouble
from wecare_app.pages.inbox.thread_page import ThreadState, thread_page

HANDBOOK = b"""# Shop handbook

## Opening hours

The shop is open Monday to Saturday from 9am to 5pm. On Sundays the shop is open from 10am to 4pm.

## Delivery

We deliver across Bristol and Bath every Tuesday and Friday. Delivery is free on orders over 50 pounds.
"""


class Thread(StateDouble):
    """ThreadState's handlers outside Reflex (tests/unit/state_double.py), signed in with the actor's role."""

    state = ThreadState
    _fetch, _reload, _show_contact, _show, _update_window = (ThreadState._fetch, ThreadState._reload, ThreadState._show_contact,
                                                             ThreadState._show, ThreadState._update_window)
    _send, _drop_suggestion, _show_suggestion, _record_sent = (ThreadState._send, ThreadState._drop_suggestion,
                                                               ThreadState._show_suggestion, ThreadState._record_sent)
    suggest_reply = ThreadState.event_handlers["suggest_reply"].fn
    send_text = ThreadState.event_handlers["send_text"].fn
    reject_suggestion = ThreadState.event_handlers["reject_suggestion"].fn
    set_draft = ThreadState.event_handlers["set_draft"].fn
    set_ai_reject_reason = ThreadState.event_handlers["set_ai_reject_reason"].fn
    use_suggestion = ThreadState.event_handlers["use_suggestion"].fn
    load, _mark_read_if_new = ThreadState.event_handlers["load"].fn, ThreadState._mark_read_if_new

    def __init__(self, actor, contact_id: str):
        super().__init__(actor, user_role=actor.role.value if actor.role else "", contact_id=contact_id)
        asyncio.run(self._reload(contact_id))

    @property
    def can_write(self) -> bool:
        return self.user_role in ("Operator", "Admin")

    @property
    def actor(self):
        """`await self.actor()` as the page calls it (StateDouble keeps the actor under this name)."""
        async def resolved():
            return self.signed_in_as
        return resolved

    @actor.setter
    def actor(self, value) -> None:
        self.signed_in_as = value

    async def run(self, service, *args, **kwargs):
        return await asyncio.to_thread(service, self.signed_in_as, *args, **kwargs)

    async def _load_template_options(self) -> None:
        return None  # the picker is not what these tests are about

    async def _load_canned(self) -> None:
        return None

    def do(self, handler, *args):
        return asyncio.run(handler(self, *args)) if asyncio.iscoroutinefunction(handler) else handler(self, *args)


@pytest.fixture
def kb(admin, messaging, tmp_path, monkeypatch):
    """A one-document knowledge base, indexed, in a data directory of the test's own; answers from the local
    index (the unit tables run as `aws`, where answers would come from Bedrock)."""
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WECARE_ENV", "local")
    reset_settings_cache()
    providers.reset_providers()  # the media store, under the new data directory
    knowledge_base.upload_document(admin, "handbook.md", HANDBOOK, "text/markdown", title="Shop handbook")
    knowledge_base.wait_idle()
    yield
    reset_settings_cache()
    providers.reset_providers()


@pytest.fixture
def customer(operator, kb):
    """A WhatsApp contact whose newest message asks about opening hours."""
    person = contact(operator, "Dana Fields", optInWhatsApp=True)
    customer_writes(person.phone, "When is the shop open on Sundays?")
    return person


def text_of(events) -> str:
    """What the events say: a toast's message is in its JavaScript."""
    events = events if isinstance(events, list) else [events]
    return " ".join(str(arg) for event in events if event is not None for pair in getattr(event, "args", ()) for arg in pair)


def outbound(actor, contact_id: str):
    return [m for m in messages.conversation(actor, contact_id).items if getattr(m, "direction", "") == "outbound"]


def test_the_handlers_that_call_services_are_background_events():
    assert all(ThreadState.event_handlers[name].is_background for name in ("suggest_reply", "reject_suggestion", "send_text"))


def test_a_suggestion_fills_the_reply_box_and_lists_its_sources(operator, customer):
    page = Thread(operator, customer.contact_id)
    assert page.suggest_message_id and page.reply_channel == "whatsapp"
    assert page.do(Thread.suggest_reply) is None and not page.suggesting
    assert page.draft.startswith("Hi Dana,") and "10am to 4pm" in page.draft and "[1]" not in page.draft
    assert page.draft == page.ai_text and page.ai_interaction_id and not page.ai_note
    assert page.ai_citations and page.ai_citations[0]["number"] == "1"
    assert page.ai_citations[0]["title"] == "Shop handbook" and "Sundays" in page.ai_citations[0]["content"]
    assert page.ai_confidence.endswith("%")
    assert get_interaction(operator, page.ai_interaction_id).status == "suggested"


def test_a_half_written_reply_is_kept_and_the_suggestion_waits_until_asked_for(operator, customer):
    page = Thread(operator, customer.contact_id)
    page.do(Thread.set_draft, "Hello Dana, let me check that for")
    page.do(Thread.suggest_reply)
    assert page.draft == "Hello Dana, let me check that for"  # the operator's words are not overwritten
    assert page.ai_draft_kept and page.ai_interaction_id and "10am to 4pm" in page.ai_text
    page.do(Thread.use_suggestion)
    assert page.draft == page.ai_text and not page.ai_draft_kept
    page.do(Thread.suggest_reply)  # the box holds the last suggestion: a new one may replace it
    assert page.draft == page.ai_text and not page.ai_draft_kept


def test_sent_as_is_the_suggestion_is_approved_with_the_message_that_went_out(operator, customer):
    page = Thread(operator, customer.contact_id)
    page.do(Thread.suggest_reply)
    interaction_id, suggested = page.ai_interaction_id, page.ai_text
    done = page.do(Thread.send_text)
    assert "Queued" in text_of(done)
    [sent] = outbound(operator, customer.contact_id)
    assert sent.body == suggested.strip()
    recorded = get_interaction(operator, interaction_id)
    assert (recorded.status, recorded.sent_message_id, recorded.sent_text) == ("approved", sent.message_id, None)
    assert page.draft == "" and page.ai_interaction_id == "" and page.ai_citations == []


def test_sent_after_an_edit_it_is_recorded_edited_with_what_was_sent(operator, customer):
    page = Thread(operator, customer.contact_id)
    page.do(Thread.suggest_reply)
    interaction_id = page.ai_interaction_id
    page.do(Thread.set_draft, page.draft.replace("Is there anything else I can help with?", "See you on Sunday!"))
    page.do(Thread.send_text)
    [sent] = outbound(operator, customer.contact_id)
    recorded = get_interaction(operator, interaction_id)
    assert (recorded.status, recorded.sent_message_id) == ("edited", sent.message_id)
    assert recorded.sent_text == sent.body and recorded.sent_text.endswith("See you on Sunday!")
    assert page.ai_interaction_id == "" and page.draft == ""


def test_a_send_the_rules_refuse_records_nothing_and_keeps_the_suggestion(operator, customer):
    page = Thread(operator, customer.contact_id)
    page.do(Thread.suggest_reply)
    interaction_id, suggested = page.ai_interaction_id, page.ai_text
    page.reply_channel = "sms"  # the contact never agreed to texts: the send path refuses
    refused = page.do(Thread.send_text)
    assert "error" in text_of(refused)
    assert outbound(operator, customer.contact_id) == []
    assert get_interaction(operator, interaction_id).status == "suggested"
    assert (page.ai_interaction_id, page.draft) == (interaction_id, suggested)


def test_a_rejected_suggestion_is_recorded_with_the_reason_and_put_away(operator, customer):
    page = Thread(operator, customer.contact_id)
    page.do(Thread.suggest_reply)
    interaction_id = page.ai_interaction_id
    page.do(Thread.set_ai_reject_reason, "  Sunday hours changed last week  ")
    assert "Suggestion rejected" in text_of(page.do(Thread.reject_suggestion))
    recorded = get_interaction(operator, interaction_id)
    assert (recorded.status, recorded.feedback, recorded.sent_message_id) == ("rejected", "Sunday hours changed last week", None)
    assert page.ai_interaction_id == "" and page.ai_citations == [] and page.draft == ""
    assert outbound(operator, customer.contact_id) == []


def test_emptying_the_reply_box_or_switching_conversation_drops_it_unrecorded(operator, customer):
    page = Thread(operator, customer.contact_id)
    page.do(Thread.suggest_reply)
    emptied = page.ai_interaction_id
    page.do(Thread.set_draft, "   ")
    assert page.ai_interaction_id == "" and page.ai_citations == []
    page.do(Thread.set_draft, "Hello, we open at 10am.")
    page.do(Thread.send_text)
    assert get_interaction(operator, emptied).status == "suggested"  # dropped: nothing recorded
    page.do(Thread.suggest_reply)
    switched = page.ai_interaction_id
    other = contact(operator, "Omar Other", optInWhatsApp=True)
    page.router = SimpleNamespace(page=SimpleNamespace(params={"contact_id": other.contact_id}))
    page.do(Thread.load)
    assert page.contact_id == other.contact_id and page.ai_interaction_id == "" and page.draft == ""
    assert page.suggest_message_id == ""  # Omar has not written
    assert get_interaction(operator, switched).status == "suggested"


def test_a_viewer_gets_no_suggestion(viewer, customer):
    page = Thread(viewer, customer.contact_id)
    refused = page.do(Thread.suggest_reply)
    assert "Operator or Admin" in text_of(refused) and page.ai_interaction_id == "" and page.draft == ""
    assert not page.suggesting
    assert AIInteractionModel.count() == 0  # not even asked


def test_no_answer_shows_the_note_and_leaves_the_reply_box(operator, kb):
    person = contact(operator, "Nia North", optInWhatsApp=True)
    customer_writes(person.phone, "Can I bring my dog to the quantum physics lecture?")
    page = Thread(operator, person.contact_id)
    page.draft = "Let me check that for you"
    page.do(Thread.suggest_reply)
    assert page.draft == "Let me check that for you"
    assert page.ai_interaction_id == "" and "no answer" in page.ai_note and page.ai_citations == []


def test_an_ai_error_is_a_toast_and_the_reply_box_is_left_as_it_was(operator, customer, monkeypatch):
    def unavailable(actor, request):
        raise Unavailable("The AI model did not answer: timed out")

    monkeypatch.setattr(answers, "generate", unavailable)
    page = Thread(operator, customer.contact_id)
    page.draft = "Typing…"
    refused = page.do(Thread.suggest_reply)
    assert "The AI model did not answer: timed out" in text_of(refused)
    assert page.draft == "Typing…" and page.ai_interaction_id == "" and not page.suggesting


def test_without_a_customer_message_with_text_there_is_nothing_to_suggest(operator, kb):
    person = contact(operator, "Quiet Quinn", optInWhatsApp=True)
    page = Thread(operator, person.contact_id)
    assert page.suggest_message_id == ""
    assert "no message from the customer" in text_of(page.do(Thread.suggest_reply)).lower()


def test_the_page_shows_the_panel_and_the_button():
    rendered = str(thread_page())
    for piece in ("ai-suggest", "ai-suggestion", "AI suggestion \\u2014 review before sending", "ai-citations", "ai-reject", "Sparkles"):
        assert piece in rendered
    assert isinstance(ThreadState.ai_panel, rx.Var)
