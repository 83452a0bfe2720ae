"""The dead-letter page's words for an entry that may already have been delivered, from the service's view
alone: its row carries the warning and the risk, a bulk replay says beforehand and afterwards how many it
skips and why, and the page's only way to send one is a confirmed "Send anyway" (sendAnyway, one entry)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from backend.services.messaging import dlq
from backend.services.messaging.dlq import DeadLetter, DlqResult
from backend.services.platform.audit import resource_history
from wecare_app.pages.admin_dlq import dialogs, table
from wecare_app.pages.admin_dlq.display import bulk_preview, dead_letter_row, outcome_summary, summary_toast
from wecare_app.pages.admin_dlq.state import DeadLetterState

pytest.register_assert_rewrite("tests.unit.dlq_crash")
pytest_plugins = ["tests.unit.dlq_crash"]  # the fixtures crashy, lost and throttled
from tests.unit.dlq_crash import sends, waiting_untouched  # noqa: E402

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def entry(dlq_id: str, error_code: str, state_: str = "waiting", replays: int = 0) -> DeadLetter:
    return DeadLetter(dlq_id=dlq_id, queue="sms", error="boom", error_code=error_code, state=state_, replay_count=replays, failed_at=NOW, payload={})


def test_a_row_that_may_have_gone_out_carries_the_warning_and_the_risk():
    risky = dead_letter_row(entry("sms#1", "OUTCOME_UNKNOWN"), NOW)
    assert (risky["needs_send_anyway"], risky["can_replay"], risky["replay_risk"]) == ("yes", "", dlq.SEND_ANYWAY_RISK)
    assert risky["replay_blocked"] == "May already have been delivered; replay it by hand with send anyway"
    assert "twice" in risky["replay_risk"] and risky["selectable"] == "yes"  # still selectable: to discard it
    plain = dead_letter_row(entry("sms#2", "THROTTLED"), NOW)
    assert (plain["needs_send_anyway"], plain["can_replay"], plain["replay_risk"]) == ("", "yes", "")
    spent = dead_letter_row(entry("sms#3", "OUTCOME_UNKNOWN", "discarded"), NOW)
    assert (spent["needs_send_anyway"], spent["replay_risk"]) == ("", "")


def test_replay_all_says_beforehand_how_many_it_skips_and_why():
    entries = [
        entry("sms#1", "OUTCOME_UNKNOWN"),
        entry("sms#2", "OUTCOME_UNKNOWN"),
        entry("sms#3", "THROTTLED", replays=dlq.MAX_REPLAYS),
        entry("sms#4", "THROTTLED"),
    ]
    refused, refused_why, skipped, skipped_why = bulk_preview(entries)
    assert (refused, skipped, skipped_why) == (1, 2, dlq.SEND_ANYWAY_REASON)
    assert refused_why == f"replayed {dlq.MAX_REPLAYS} times already; discard it"


def test_a_replay_says_afterwards_how_many_it_skipped_and_why():
    results = [
        DlqResult(dlq_id="sms#1", outcome="replayed"),
        DlqResult(dlq_id="sms#2", outcome="skipped", reason=dlq.SEND_ANYWAY_REASON),
        DlqResult(dlq_id="sms#3", outcome="skipped", reason=dlq.SEND_ANYWAY_REASON),
    ]
    assert outcome_summary(results) == f"1 replayed, 2 skipped: {dlq.SEND_ANYWAY_REASON}"
    assert toast(summary_toast(results)) == ("warning", outcome_summary(results))
    assert toast(summary_toast(results[1:2])) == ("error", f"1 skipped: {dlq.SEND_ANYWAY_REASON}")


def test_the_page_draws_the_badge_the_send_anyway_confirmation_and_the_skip_warning():
    rendered = str(table.entries().render()) + str(dialogs.replay_all_dialog().render())
    assert "dlq-maybe-sent" in rendered and "dlq-send-anyway" in rendered and "dlq-send-anyway-confirm" in rendered
    assert "may receive this message twice" in rendered and "will be skipped, not sent" in rendered


# ---------------------------------------------------------------- the page's own handlers, without a browser


def toast(spec) -> tuple[str, str]:
    """(level, text) of an rx.toast event."""
    js = str(spec.args[0][1])
    level = next(name for name in ("success", "warning", "error", "info") if f'["{name}"]' in js)
    return level, js.split(f'["{level}"]("', 1)[1].split('", ', 1)[0].split('")', 1)[0]


class PageDouble:
    """DeadLetterState's own handlers and helpers, run outside Reflex: the vars are attributes, the lock is a
    no-op and `run` calls the service as `actor`, the way SessionState.run does (on a worker thread)."""

    _act, _claim, _release = DeadLetterState._act, DeadLetterState._claim, DeadLetterState._release
    send_anyway = DeadLetterState.event_handlers["send_anyway"].fn
    replay_selected = DeadLetterState.event_handlers["replay_selected"].fn

    def __init__(self, actor, selected: list[str]):
        self.actor, self.selected, self.busy, self.busy_label = actor, selected, False, ""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def run(self, service, *args, **kwargs):
        return await asyncio.to_thread(service, self.actor, *args, **kwargs)

    async def _reload(self, *, restart: bool = False):
        return None


def test_send_anyway_handlers_are_background_events():
    assert DeadLetterState.event_handlers["send_anyway"].is_background


def test_replay_selected_skips_what_may_have_gone_out_and_says_how_many_and_why(admin, messaging, crashy, lost, throttled):
    page = PageDouble(admin, [lost, throttled])
    [summary] = asyncio.run(page.replay_selected())
    messaging.drain()
    assert toast(summary) == ("warning", f"1 replayed, 1 skipped: {dlq.SEND_ANYWAY_REASON}")
    assert sends(crashy, lost) == 1 and waiting_untouched(lost) and sends(crashy, throttled) == 1
    assert page.selected == [] and not page.busy


def test_send_anyway_from_the_page_sends_that_one_entry_and_is_audited(admin, messaging, crashy, lost, throttled):
    page = PageDouble(admin, [])
    [summary] = asyncio.run(page.send_anyway(lost))
    messaging.drain()
    assert toast(summary) == ("success", "1 replayed")
    assert sends(crashy, lost) == 2 and waiting_untouched(throttled) and sends(crashy, throttled) == 0
    [audit] = resource_history("dlq", lost)
    assert (audit.action, audit.actor_email, audit.details["via"]) == ("dlq.replay.send_anyway", admin.email, "ui")
