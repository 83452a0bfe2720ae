"""/ai/settings without a browser: an Admin turns auto-reply on (after a confirmation) and off through the page,
each change stored and audited; a bad threshold or a prompt without NO_ANSWER is refused under its field and
changes nothing; the activity card counts today's auto-replies as auto_reply.consider decided them (sent, skipped
by reason, the latest with their conversation); anyone else gets the "Admins only" state. The service's
`activity` is tested here too: its counts, its reason groups and its role."""
from __future__ import annotations

import asyncio
import time

import pytest

from backend.errors import PermissionDenied, ValidationError
from backend.models.messaging import MessageModel
from backend.services.ai import auto_reply, knowledge_base
from backend.services.platform import settings_catalog, system_config
from backend.services.platform.settings_catalog import (
    AI_AUTO_REPLY_KEY, AI_CONFIDENCE_KEY, AI_PER_CONTACT_KEY, AI_PROMPT_KEY, update_setting,
)
from wecare_app.pages.ai import settings_page
from wecare_app.pages.ai.settings_page import AiSettingsState
from wecare_app.pages.admin_config import SettingsState
from tests.unit.people import contact, customer_writes
from tests.unit.state_double import StateDouble

HANDBOOK = b"""# Opening hours
## Shops
Our shops open Monday to Saturday from 9am to 6pm. On Sundays our shops open from 10am to 4pm.
## Deliveries
Van deliveries to Bristol postcodes go out on Mondays and Thursdays. Standard delivery costs 4.95 pounds.
"""
SUNDAY = "When do your shops open on Sundays?"


@pytest.fixture
def handbook(admin):
    knowledge_base.upload_document(admin, "hours.md", HANDBOOK, "text/markdown")
    knowledge_base.wait_idle()
    yield
    for document in knowledge_base.list_documents(admin).documents:
        knowledge_base.delete_document(admin, document.document_id)


class SettingsDouble(StateDouble):
    """SettingsState's handlers (the AI group's rows and the kill switch) outside Reflex."""

    state = SettingsState

    _replace, _change = SettingsState._replace, SettingsState._change
    load = SettingsState.event_handlers["load"].fn
    save = SettingsState.event_handlers["save"].fn
    set_switch = SettingsState.event_handlers["set_switch"].fn
    set_draft = SettingsState.event_handlers["set_draft"].fn

    def row(self, key: str) -> dict:
        return next(row for row in self.settings if row["key"] == key)


class PageDouble(StateDouble):
    """AiSettingsState's handlers outside Reflex."""

    state = AiSettingsState

    _show, _read_activity = AiSettingsState._show, AiSettingsState._read_activity
    open_page = AiSettingsState.event_handlers["open_page"].fn
    refresh = AiSettingsState.event_handlers["refresh"].fn
    toggle = AiSettingsState.event_handlers["toggle"].fn
    confirm_on = AiSettingsState.event_handlers["confirm_on"].fn

    async def offload(self, work, *args, **kwargs):
        return await asyncio.to_thread(work, *args, **kwargs)


def _ai_settings(admin) -> SettingsDouble:
    page = SettingsDouble(admin)
    asyncio.run(page.load(settings_catalog.AI))
    return page


def _inbound(contact_id: str, text: str) -> MessageModel:
    """The customer's message with this text (two written in the same second share a timestamp: not "the latest")."""
    return next(row for row in MessageModel.by_contact.query(contact_id) if row.direction == "inbound" and row.body == text)


_last_second = [0]


def _writes_and_considered(person, text: str) -> auto_reply.Outcome:
    """The customer writes (each message a second after the last: the inbound time is in whole seconds, and a
    message in the second of the previous auto-reply would read as answered already), then auto-reply considers it."""
    _last_second[0] = max(int(time.time()), _last_second[0] + 1)
    customer_writes(person.phone, text, ts=_last_second[0])
    return auto_reply.consider(_inbound(person.contact_id, text).messageId)


def test_the_handlers_that_call_services_are_background_events():
    assert all(AiSettingsState.event_handlers[name].is_background for name in ("open_page", "refresh"))
    assert SettingsState.event_handlers["set_switch"].is_background
    assert not any(AiSettingsState.event_handlers[name].is_background for name in ("toggle", "confirm_on"))


def test_the_page_loads_only_the_ai_group_and_admin_config_still_loads_every_group(admin):
    page = _ai_settings(admin)
    ai_keys = {key for key, setting in settings_catalog.CATALOG.items() if setting.group == settings_catalog.AI}
    assert {row["key"] for row in page.settings} == ai_keys and page.settings_group == settings_catalog.AI
    assert page.row(AI_PROMPT_KEY)["lines"] == "8" and page.row(settings_catalog.AI_CLOSING_KEY)["lines"] == "3"
    asyncio.run(page.load())  # /admin/config's loader
    assert {row["key"] for row in page.settings} == set(settings_catalog.CATALOG) and page.settings_group == ""


def test_turning_auto_reply_on_asks_first_then_writes_the_setting_audited_and_off_holds_at_once(admin):
    settings = _ai_settings(admin)
    page = PageDouble(admin)
    assert page.toggle(True) is None and page.confirm_open  # on: the confirmation, nothing written yet
    assert settings_catalog.get_setting(admin, AI_AUTO_REPLY_KEY).value is False
    follow_up = page.confirm_on()
    assert not page.confirm_open and follow_up is not None  # the confirmation hands on to set_switch
    asyncio.run(settings.set_switch(AI_AUTO_REPLY_KEY, True))
    row = settings.row(AI_AUTO_REPLY_KEY)
    assert (row["draft_on"], row["value_text"], row["error"]) == (True, "On", "")
    assert auto_reply.in_force(AI_AUTO_REPLY_KEY, fresh=True) is True
    assert page.toggle(False) is not None and not page.confirm_open  # off: no question asked
    asyncio.run(settings.set_switch(AI_AUTO_REPLY_KEY, False))
    assert settings.row(AI_AUTO_REPLY_KEY)["value_text"] == "Off"
    history = settings_catalog.setting_history(admin, AI_AUTO_REPLY_KEY)
    assert [(c.before, c.after, c.actor) for c in history] == [("On", "Off", admin.email), ("Off (the default)", "On", admin.email)]


def test_a_bad_threshold_shows_the_fields_error_and_changes_nothing(admin):
    page = _ai_settings(admin)
    page.set_draft(AI_CONFIDENCE_KEY, "draft_a", "1.5")
    asyncio.run(page.save(AI_CONFIDENCE_KEY))
    row = page.row(AI_CONFIDENCE_KEY)
    assert "1" in row["error"] and row["is_default"] and page.saving_key == ""
    assert settings_catalog.get_setting(admin, AI_CONFIDENCE_KEY).is_default
    assert settings_catalog.setting_history(admin, AI_CONFIDENCE_KEY) == []
    page.set_draft(AI_CONFIDENCE_KEY, "draft_a", "0.9")
    asyncio.run(page.save(AI_CONFIDENCE_KEY))
    assert page.row(AI_CONFIDENCE_KEY)["value_text"] == "0.9" and page.row(AI_CONFIDENCE_KEY)["error"] == ""


def test_a_prompt_without_no_answer_is_refused_and_one_with_it_is_kept(admin):
    page = _ai_settings(admin)
    page.set_draft(AI_PROMPT_KEY, "draft_a", "Answer politely from the passages.")
    asyncio.run(page.save(AI_PROMPT_KEY))
    assert "NO_ANSWER" in page.row(AI_PROMPT_KEY)["error"]
    assert settings_catalog.get_setting(admin, AI_PROMPT_KEY).is_default
    prompt = "Answer only from the passages, citing them like [1].\nIf they do not hold the answer, reply NO_ANSWER."
    page.set_draft(AI_PROMPT_KEY, "draft_a", prompt)
    asyncio.run(page.save(AI_PROMPT_KEY))
    row = page.row(AI_PROMPT_KEY)
    assert (row["error"], row["draft_a"], row["is_default"]) == ("", prompt, False)
    assert settings_catalog.get_setting(admin, AI_PROMPT_KEY).value == prompt


def test_the_activity_card_reflects_the_auto_reply_outcomes(admin, operator, messaging, handbook):
    page = PageDouble(admin)
    asyncio.run(page.open_page())
    assert (page.loading, page.denied, page.sent, page.skipped, page.latest) == (False, "", 0, 0, [])
    assert page.day_label.startswith("Today, ") and page.retrieval.startswith("Local index")
    update_setting(admin, AI_AUTO_REPLY_KEY, True)
    update_setting(admin, AI_PER_CONTACT_KEY, 1)
    system_config.forget()
    person = contact(operator, "Ben Sunday", optInWhatsApp=True)
    assert _writes_and_considered(person, SUNDAY).status == auto_reply.SENT
    assert _writes_and_considered(person, "When do your shops open on Saturday?").status == auto_reply.SKIPPED  # the daily most
    other = contact(operator, "Cal Unknown", optInWhatsApp=True)
    assert _writes_and_considered(other, "Do you sell car parts?").status == auto_reply.SKIPPED  # no answer
    asyncio.run(page.refresh())
    assert (page.sent, page.skipped, page.pending) == (1, 2, 0)
    assert len(page.reasons) == 2 and {r["count"] for r in page.reasons} == {"1"}
    assert "The contact had the most auto-replies a day" in {r["reason"] for r in page.reasons}
    newest, middle, oldest = page.latest
    assert (newest["contact"], newest["href"], newest["status_label"]) == ("Cal Unknown", f"/inbox/{other.contact_id}", "Skipped")
    assert "24 hours" in middle["reason"] and middle["status_label"] == "Skipped"
    assert (oldest["status_label"], oldest["reason"], oldest["question_full"]) == ("Sent", "", SUNDAY)
    assert oldest["sent_message_id"] and oldest["href"] == f"/inbox/{person.contact_id}"


def test_activity_groups_reasons_by_their_first_clause_and_reads_one_day(admin, operator, messaging, handbook):
    update_setting(admin, AI_AUTO_REPLY_KEY, True)
    update_setting(admin, AI_CONFIDENCE_KEY, 1.0)
    system_config.forget()
    for name in ("Dee One", "Eve Two"):
        outcome = _writes_and_considered(contact(operator, name, optInWhatsApp=True), "Do your shops open on Sundays for deliveries?")
        assert "below the threshold" in outcome.reason
    seen = auto_reply.activity(admin)
    assert (seen.sent, seen.skipped, seen.enabled) == (0, 2, True)
    (reason,) = seen.reasons
    assert (reason.reason, reason.count) == ("Confidence below the threshold", 2) and "below the threshold 1" in reason.example
    assert [item.contact_name for item in seen.latest] == ["Eve Two", "Dee One"]
    assert auto_reply.activity(admin, day="2001-01-01").latest == []
    assert auto_reply.reason_group("A reply cannot go out on whatsapp now: the customer opted out.") == \
        "A reply cannot go out on whatsapp now"
    assert auto_reply.reason_group("The assistant could not answer: the model timed out") == "The assistant could not answer"
    with pytest.raises(ValidationError):
        auto_reply.activity(admin, day="yesterday")
    with pytest.raises(PermissionDenied):
        auto_reply.activity(operator)


def test_other_roles_get_the_admins_only_state(operator):
    page = PageDouble(operator)
    assert asyncio.run(page.open_page()) is None
    assert page.denied == settings_page.DENIED and not page.loading and page.latest == []
    settings = SettingsDouble(operator)
    asyncio.run(settings.load(settings_catalog.AI))
    assert settings.settings == [] and not settings.settings_loading


def test_the_page_draws_the_switch_the_rules_the_settings_and_the_activity():
    rendered = str(settings_page.ai_settings_page().render())
    for part in ("auto-reply-switch", "auto-reply-confirm", "Only inside the reply window", "activity-card",
                 "answers-source-card", "Thresholds, limits and prompts", "Reset to default", "Admins only"):
        assert part in rendered, part
