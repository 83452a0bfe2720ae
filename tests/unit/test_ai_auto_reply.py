"""AI auto-reply: off by default and off means nothing is sent; on, a customer's message is answered from the
knowledge base only above the confidence threshold, only where a reply may go out (consent, window), at most the
daily number per contact, once per message however often it is seen; the reply goes through the send path as
the AI, is marked as AI in the thread, and is audited; every decision is an interaction row with its reason."""
from __future__ import annotations

from datetime import timedelta

import pytest

from backend.models.assistant import AIInteractionModel
from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.services.ai import answers, auto_reply, knowledge_base
from backend.services.platform import system_config
from backend.services.platform.audit import resource_history
from backend.services.platform.settings_catalog import (
    AI_AUTO_REPLY_KEY, AI_CONFIDENCE_KEY, AI_PER_CONTACT_KEY, update_setting,
)
from tests.unit.people import contact, customer_writes

HANDBOOK = b"""# Opening hours
## Shops
Our shops open Monday to Saturday from 9am to 6pm. On Sundays our shops open from 10am to 4pm.
## Deliveries
Van deliveries to Bristol postcodes go out on Mondays and Thursdays. Standard delivery costs 4.95 pounds.
"""


@pytest.fixture
def handbook(admin):
    knowledge_base.upload_document(admin, "hours.md", HANDBOOK, "text/markdown")
    knowledge_base.wait_idle()
    yield
    for document in knowledge_base.list_documents(admin).documents:
        knowledge_base.delete_document(admin, document.document_id)


def _switch(admin, on: bool) -> None:
    update_setting(admin, AI_AUTO_REPLY_KEY, on)
    system_config.forget()


def _inbound(contact_id: str, text: str) -> MessageModel:
    """The customer's message with this text (inbound times are whole seconds: "the latest" can tie)."""
    return next(row for row in MessageModel.by_contact.query(contact_id)
                if row.direction == "inbound" and row.body == text)


def _writes(person, text: str) -> MessageModel:
    customer_writes(person.phone, text)
    return _inbound(person.contact_id, text)


def _outbound(contact_id: str) -> list[MessageModel]:
    return [row for row in MessageModel.by_contact.query(contact_id) if row.direction == "outbound"]


def test_off_by_default_nothing_is_sent_and_nothing_recorded(operator, messaging, handbook):
    person = contact(operator, "Ava Off", optInWhatsApp=True)
    message = _writes(person, "When do your shops open on Sundays?")
    outcome = auto_reply.consider(message.messageId)
    assert outcome.status == "off"
    assert _outbound(person.contact_id) == []
    with pytest.raises(AIInteractionModel.DoesNotExist):
        AIInteractionModel.get(auto_reply.interaction_id_for(message.messageId))


def test_on_a_confident_answer_goes_out_once_marked_as_ai_and_audited(admin, operator, messaging, handbook):
    _switch(admin, True)
    person = contact(operator, "Ben Sunday", optInWhatsApp=True)
    message = _writes(person, "When do your shops open on Sundays?")
    outcome = auto_reply.consider(message.messageId)
    assert outcome.status == auto_reply.SENT, outcome.reason
    assert auto_reply.consider(message.messageId).status == "duplicate"  # seen again: not answered again
    (sent,) = _outbound(person.contact_id)
    assert sent.createdBy == auto_reply.ACTOR.user_id
    assert "10am to 4pm" in sent.body and sent.body.startswith("Hi Ben,") and "[1]" not in sent.body
    row = AIInteractionModel.get(outcome.interaction_id)
    assert (row.status, row.sentMessageId, row.kind) == (auto_reply.SENT, sent.messageId, "auto-reply")
    from backend.services.messaging.schemas import to_message
    assert to_message(sent).sent_by_ai is True
    assert [entry.action for entry in resource_history("message", sent.messageId)].count("ai.auto_reply") == 1


def test_without_an_answer_or_below_the_threshold_it_waits_for_a_person(admin, operator, messaging, handbook):
    _switch(admin, True)
    person = contact(operator, "Cal Unknown", optInWhatsApp=True)
    outcome = auto_reply.consider(_writes(person, "Do you sell car parts?").messageId)
    assert outcome.status == auto_reply.SKIPPED and ("car" in outcome.reason.lower() or "passage" in outcome.reason)
    question = "Do your shops open on Sundays for deliveries?"
    answer = answers.query(operator, {"query": question})
    assert answer.answered and answer.confidence < 1.0  # the premise: an answer short of certain
    update_setting(admin, AI_CONFIDENCE_KEY, 1.0)
    outcome = auto_reply.consider(_writes(person, question).messageId)
    assert outcome.status == auto_reply.SKIPPED and "below the threshold 1" in outcome.reason
    assert _outbound(person.contact_id) == []
    assert AIInteractionModel.get(outcome.interaction_id).status == auto_reply.SKIPPED


def test_no_reply_to_a_customer_who_opted_out(admin, operator, messaging, handbook):
    _switch(admin, True)
    person = contact(operator, "Dee Stopped", optInWhatsApp=True)
    customer_writes(person.phone, "STOP")
    messaging.drain()
    before = len(_outbound(person.contact_id))  # the opt-out's own confirmation, if the channel sends one
    outcome = auto_reply.consider(_writes(person, "When do your shops open on Sundays?").messageId)
    assert outcome.status == auto_reply.SKIPPED and "cannot go out" in outcome.reason
    assert len(_outbound(person.contact_id)) == before


def test_at_most_the_daily_number_per_contact(admin, operator, messaging, handbook):
    _switch(admin, True)
    update_setting(admin, AI_PER_CONTACT_KEY, 1)
    person = contact(operator, "Eve Twice", optInWhatsApp=True)
    assert auto_reply.consider(_writes(person, "When do your shops open on Sundays?").messageId).status == auto_reply.SENT
    second = auto_reply.consider(_writes(person, "When do your shops open on Saturday?").messageId)
    assert second.status == auto_reply.SKIPPED and "24 hours" in second.reason
    assert len(_outbound(person.contact_id)) == 1


def test_an_old_message_is_left_for_a_person(admin, operator, messaging, handbook):
    _switch(admin, True)
    person = contact(operator, "Fay Late", optInWhatsApp=True)
    message = _writes(person, "When do your shops open on Sundays?")
    message.update(actions=[MessageModel.createdAt.set(utcnow() - timedelta(minutes=30))])
    assert auto_reply.consider(message.messageId).status == "not-eligible"
    assert _outbound(person.contact_id) == []


def test_the_kill_switch_stops_the_next_message(admin, operator, messaging, handbook):
    _switch(admin, True)
    person = contact(operator, "Gus Kill", optInWhatsApp=True)
    _switch(admin, False)
    assert auto_reply.consider(_writes(person, "When do your shops open on Sundays?").messageId).status == "off"
    assert _outbound(person.contact_id) == []
