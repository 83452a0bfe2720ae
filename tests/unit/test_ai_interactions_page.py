"""/ai/interactions without a browser (issue 14): interactions written through the real services (questions to the
knowledge base, suggested replies and what became of them) show as the page's rows, figures and detail, newest
first, with who asked by name; kind and status filter the list (not the figures); a custom range the service
refuses shows its message; feedback given in the detail is saved on the interaction; a range with more than the
service reads says so; an empty range invites a first question."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.adapters.channels import providers
from backend.models.base import utcnow
from backend.services.ai import answers, interactions, knowledge_base
from backend.services.platform import team, users
from backend.services.platform.access import Actor, Role
from backend.settings import reset_settings_cache
from tests.unit.state_double import StateDouble
from wecare_app.pages.ai import interactions_page
from wecare_app.pages.ai.interactions_page import DECLINED, EMPTY_TITLE, InteractionsState

HANDBOOK = b"""# Shop handbook

## Opening hours

The shop is open Monday to Saturday from 9am to 5pm. On Sundays the shop is open from 10am to 4pm.

## Delivery

We deliver across Bristol and Bath every Tuesday and Friday. Delivery is free on orders over 50 pounds.
"""
BACKGROUND = ("open_page", "reload", "set_range", "apply_custom", "set_kind", "set_status", "clear_filters", "open_interaction",
              "save_feedback")


class PageDouble(StateDouble):
    """InteractionsState's handlers outside Reflex (tests/unit/state_double.py)."""

    state = InteractionsState
    _search, _show, _failed, _show_detail = (InteractionsState._search, InteractionsState._show, InteractionsState._failed,
                                             InteractionsState._show_detail)
    open_page = InteractionsState.event_handlers["open_page"].fn
    reload = InteractionsState.event_handlers["reload"].fn
    set_range = InteractionsState.event_handlers["set_range"].fn
    apply_custom = InteractionsState.event_handlers["apply_custom"].fn
    set_kind = InteractionsState.event_handlers["set_kind"].fn
    set_status = InteractionsState.event_handlers["set_status"].fn
    clear_filters = InteractionsState.event_handlers["clear_filters"].fn
    show_more = InteractionsState.event_handlers["show_more"].fn
    open_interaction = InteractionsState.event_handlers["open_interaction"].fn
    toggle_passage = InteractionsState.event_handlers["toggle_passage"].fn
    choose_rating = InteractionsState.event_handlers["choose_rating"].fn
    set_feedback = InteractionsState.event_handlers["set_feedback"].fn
    save_feedback = InteractionsState.event_handlers["save_feedback"].fn

    @property
    def filtered(self) -> bool:
        return InteractionsState.computed_vars["filtered"].fget(self)

    @property
    def feedback_changed(self) -> bool:
        return InteractionsState.computed_vars["feedback_changed"].fget(self)


@pytest.fixture
def kb(admin, tmp_path, monkeypatch):
    """A one-document knowledge base, indexed, in a data directory of the test's own; answers from the local
    index (the unit tables run as `aws`, where answers would come from Bedrock)."""
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WECARE_ENV", "local")
    reset_settings_cache()
    providers.reset_providers()  # the media store, under the new data directory
    knowledge_base.upload_document(admin, "handbook.md", HANDBOOK, "text/markdown")
    knowledge_base.wait_idle()
    yield
    reset_settings_cache()
    providers.reset_providers()


@pytest.fixture
def ann(admin) -> Actor:
    """An Operator on the team, with a name."""
    made = users.create_user(admin, "ann@example.com", "Operator", "correct horse battery", display_name="Ann Lee")
    team.forget_team()
    yield Actor(user_id=made.user_id, email="ann@example.com", role=Role.OPERATOR)
    team.forget_team()


@pytest.fixture
def log(kb, ann):
    """Oldest first: an answered question, a declined one, and four suggestions: approved, edited, rejected, pending."""
    asked = answers.query(ann, {"query": "When is the shop open on Sundays?"})
    declined = answers.query(ann, {"query": "Do you sell gift vouchers for the zoo?"})
    made = [answers.generate(ann, {"messageContent": text}) for text in (
        "Do you deliver to Bath?", "When are you open on Sundays?", "Is delivery free?", "What are your opening hours?")]
    approved, edited, rejected, pending = (s.interaction_id for s in made)
    assert all(s.answered for s in made) and asked.answered and not declined.answered
    interactions.record_outcome(ann, approved, {"outcome": "approved", "sentMessageId": "m-approved"})
    interactions.record_outcome(ann, edited, {"outcome": "edited", "sentMessageId": "m-edited",
                                              "sentText": "Hi Dana, we open 10am to 4pm on Sundays. See you!"})
    interactions.record_outcome(ann, rejected, {"outcome": "rejected", "feedback": "Delivery is free only over 50 pounds"})
    return {"asked": asked.interaction_id, "declined": declined.interaction_id, "approved": approved, "edited": edited,
            "rejected": rejected, "pending": pending}


def tile(page, tile_id: str) -> dict:
    return next(t for t in page.tiles if t["id"] == tile_id)


def test_the_handlers_that_call_services_are_background_events():
    assert all(InteractionsState.event_handlers[name].is_background for name in BACKGROUND)


def test_the_week_shows_rows_newest_first_with_the_figures(viewer, ann, log):
    page = PageDouble(viewer)
    asyncio.run(page.open_page())
    assert not page.loading and page.load_error == "" and page.range_error == "" and not page.truncated
    ids = [r["interaction_id"] for r in page.rows]
    assert ids == [log["pending"], log["rejected"], log["edited"], log["approved"], log["declined"], log["asked"]]
    rows = {r["interaction_id"]: r for r in page.rows}
    asked, declined = rows[log["asked"]], rows[log["declined"]]
    assert (asked["who"], asked["kind_label"], asked["result_label"], asked["outcome_label"]) == ("Ann Lee", "Question", "Answered", "")
    assert asked["question"] == "When is the shop open on Sundays?" and asked["confidence"].endswith("%") and asked["latency"].endswith(" ms")
    assert (declined["result"], declined["result_label"]) == ("declined", "Declined")
    assert [rows[log[k]]["outcome_label"] for k in ("approved", "edited", "rejected", "pending")] == ["Approved", "Edited", "Rejected", "Pending"]
    assert rows[log["pending"]]["kind_label"] == "Suggested reply"

    assert tile(page, "ai-kpi-total")["value"] == "6" and tile(page, "ai-kpi-answered")["value"] == "5"
    assert tile(page, "ai-kpi-declined")["value"] == "1" and tile(page, "ai-kpi-suggestions")["value"] == "4"
    assert tile(page, "ai-kpi-pending")["value"] == "1" and tile(page, "ai-kpi-errors")["value"] == "0"
    assert (tile(page, "ai-kpi-approval")["value"], tile(page, "ai-kpi-edit")["value"], tile(page, "ai-kpi-rejection")["value"]) == (
        "33%", "33%", "33%")
    assert tile(page, "ai-kpi-approval")["hint"] == "1 of 3 sent as suggested"
    today = utcnow().date()
    assert page.range_label.endswith(today.strftime("%d %b %Y"))
    assert (page.start_day, page.end_day) == ((today - timedelta(days=6)).isoformat(), today.isoformat())


def test_the_detail_shows_the_question_answer_passages_and_outcome(operator, ann, log):
    page = PageDouble(operator)
    asyncio.run(page.open_page())

    asyncio.run(page.open_interaction(log["edited"]))
    detail = page.detail
    assert page.detail_open and not page.detail_loading
    assert detail["question_full"] == "When are you open on Sundays?" and detail["answer_title"] == "Suggested reply"
    assert "10am to 4pm" in detail["answer"] and detail["result"] == "answered"
    assert detail["outcome_label"] == "Edited" and detail["outcome_text"].startswith("Edited, then sent by Ann Lee on ")
    assert detail["sent_text"] == "Hi Dana, we open 10am to 4pm on Sundays. See you!" and detail["sent_message_id"] == "m-edited"
    assert page.detail_passages and page.detail_passages[0]["rank"] == "1"
    first = page.detail_passages[0]
    assert first["source"] == "Handbook · Shop handbook › Opening hours"  # the document's title · where in it
    assert first["score"].startswith("score ") and "Sundays" in first["content"] and first["open"] == ""
    others = page.detail_passages[1:]
    page.toggle_passage("1")  # a passage opens to its whole text (the others stay as they were), and closes again
    assert page.detail_passages[0]["open"] == "yes" and page.detail_passages[1:] == others
    page.toggle_passage("1")
    assert page.detail_passages[0]["open"] == ""

    asyncio.run(page.open_interaction(log["rejected"]))
    assert page.detail["outcome_text"].startswith("Rejected by Ann Lee") and page.feedback == "Delivery is free only over 50 pounds"

    asyncio.run(page.open_interaction(log["declined"]))
    assert page.detail["declined_reason"] == log_reason(log["declined"]) and page.detail["answer"] == ""
    assert page.detail["declined_reason"] not in ("", DECLINED)  # the service's own reason, not the stock line
    assert page.detail["outcome_text"].startswith("A question asked in the assistant")

    asyncio.run(page.open_interaction(log["pending"]))
    assert page.detail["outcome_text"] == "No one has acted on this suggestion yet." and page.detail["sent_text"] == ""


def test_kind_and_status_filter_the_list_not_the_figures(viewer, log):
    page = PageDouble(viewer)
    asyncio.run(page.open_page())
    asyncio.run(page.set_kind("query"))
    assert [r["interaction_id"] for r in page.rows] == [log["declined"], log["asked"]] and page.filtered
    assert page.in_range == 6 and tile(page, "ai-kpi-total")["value"] == "6"
    asyncio.run(page.set_kind("all"))
    asyncio.run(page.set_status("rejected"))
    assert [r["interaction_id"] for r in page.rows] == [log["rejected"]]
    asyncio.run(page.set_kind("query"))
    assert page.rows == [] and page.in_range == 6  # "No interactions match", with Clear filters
    asyncio.run(page.clear_filters())
    assert not page.filtered and len(page.rows) == 6


def test_show_more_draws_the_next_rows(viewer, log, monkeypatch):
    monkeypatch.setattr(interactions_page, "PAGE_SIZE", 4)
    page = PageDouble(viewer)
    asyncio.run(page.open_page())
    assert len(page.rows) == 4 and page.row_count == 6
    page.show_more()
    assert len(page.rows) == 6


def test_feedback_is_saved_on_the_interaction(viewer, log):
    page = PageDouble(viewer)
    asyncio.run(page.open_page())
    asyncio.run(page.open_interaction(log["asked"]))
    assert page.rating == "" and not page.feedback_changed
    page.choose_rating("not-helpful")
    page.set_feedback("  It left out the Saturday hours  ")
    assert page.feedback_changed
    assert asyncio.run(page.save_feedback()) is not None  # the "Feedback saved." toast
    saved = interactions.get_interaction(viewer, log["asked"])
    assert (saved.rating, saved.feedback) == ("not-helpful", "It left out the Saturday hours")
    assert page.saved_rating == "not-helpful" and not page.feedback_changed and not page.saving_feedback
    assert next(r for r in page.rows if r["interaction_id"] == log["asked"])["rating"] == "not-helpful"
    feedback = tile(page, "ai-kpi-feedback")
    assert (feedback["up"], feedback["down"], feedback["value"]) == ("0", "1", "0 helpful · 1 not")

    page.range_name, page.start_day = "custom", "2020-01-01"  # typed, not applied: the refresh after feedback keeps the range
    page.choose_rating("helpful")
    asyncio.run(page.save_feedback())
    assert page.range_error == "" and len(page.rows) == 6 and tile(page, "ai-kpi-feedback")["up"] == "1"

    page.set_feedback("x" * (interactions.MAX_FEEDBACK + 1))
    asyncio.run(page.save_feedback())
    assert page.feedback_error.startswith("feedback:") and interactions.get_interaction(viewer, log["asked"]).feedback == saved.feedback


def test_a_custom_range_the_service_refuses_shows_its_message(viewer, log):
    page = PageDouble(viewer)
    asyncio.run(page.open_page())
    asyncio.run(page.set_range("custom"))
    assert page.range_name == "custom" and len(page.rows) == 6  # Custom waits for Apply, from the range on screen
    today = utcnow().date()
    page.start_day, page.end_day = (today - timedelta(days=40)).isoformat(), today.isoformat()
    asyncio.run(page.apply_custom())
    assert page.range_error == "start: at most 31 days from start to end"
    assert page.rows == [] and page.tiles == [] and not page.loading and page.load_error == ""
    page.start_day, page.end_day = today.isoformat(), (today - timedelta(days=2)).isoformat()
    asyncio.run(page.apply_custom())
    assert page.range_error == "start: on or before end"
    page.start_day = "not a date"
    asyncio.run(page.apply_custom())
    assert page.range_error.startswith("start:")
    page.start_day, page.end_day = (today - timedelta(days=30)).isoformat(), today.isoformat()
    asyncio.run(page.apply_custom())
    assert page.range_error == "" and len(page.rows) == 6
    asyncio.run(page.set_range("30d"))
    assert page.start_day == (today - timedelta(days=29)).isoformat() and len(page.rows) == 6


def test_an_empty_range_and_a_truncated_one(viewer, log, monkeypatch):
    page = PageDouble(viewer)
    today = utcnow().date()
    asyncio.run(page.set_range("custom"))
    page.start_day, page.end_day = (today - timedelta(days=10)).isoformat(), (today - timedelta(days=5)).isoformat()
    asyncio.run(page.apply_custom())
    assert page.rows == [] and page.in_range == 0 and page.range_error == "" and tile(page, "ai-kpi-total")["value"] == "0"
    assert tile(page, "ai-kpi-approval")["value"] == "—"

    monkeypatch.setattr(interactions, "MAX_ROWS", 4)
    asyncio.run(page.set_range("7d"))
    assert page.truncated and len(page.rows) == 4 and page.in_range == 4


def test_the_page_draws_the_filters_figures_table_dialog_and_empty_state():
    rendered = str(interactions_page.ai_interactions_page().render())
    for element in ("ai-int-range", "ai-int-kind", "ai-int-status", "ai-int-table", "ai-int-kpis", "ai-int-detail",
                    "ai-int-feedback", "ai-int-save-feedback", "ai-int-rate-helpful", "ai-int-rate-not-helpful", "ai-int-truncated",
                    "ai-int-to-assistant", "ai-int-to-inbox", "ai-int-retry"):
        assert element in rendered, element
    assert EMPTY_TITLE in rendered and "/ai/assistant" in rendered and "/inbox" in rendered


def log_reason(interaction_id: str) -> str:
    from backend.models.assistant import AIInteractionModel

    return AIInteractionModel.get(interaction_id).reason
