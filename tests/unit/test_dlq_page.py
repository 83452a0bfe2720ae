"""The dead-letter page's words for an entry that may already have been delivered, from the service's view
alone: its row carries the warning and the risk, a bulk replay says beforehand and afterwards how many it
skips and why, and the page's only way to send one is a confirmed "Send anyway" (sendAnyway, one entry).
Each row names its recipient; after a replay the page says per entry what happened, and follows the messages
it queued again: one that fails again is reported on its line and on its row, with the message's error."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from backend.models.messaging import DLQMessageModel, MessageModel
from backend.runtime.change_feed import MessageChange
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
    _report, _remember, _ended, _show = DeadLetterState._report, DeadLetterState._remember, DeadLetterState._ended, DeadLetterState._show
    _follow_replays = DeadLetterState._follow_replays
    send_anyway = DeadLetterState.event_handlers["send_anyway"].fn
    replay_selected = DeadLetterState.event_handlers["replay_selected"].fn
    replay_one = DeadLetterState.event_handlers["replay_one"].fn

    def __init__(self, actor, selected: list[str]):
        self.actor, self.selected, self.busy, self.busy_label = actor, selected, False, ""
        self.outcome_title, self.outcome_lines, self._known, self._notes, self._watch = "", [], {}, {}, {}
        self.rows, self._payloads, self.denied, self.loading = [], {}, "", False

    def listed(self) -> None:
        """The page's load: what it lists (every state), as `_reload` shows it."""
        self._show(dlq.list_dead_letters(self.actor, state=None), {})

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


# ---------------------------------------------------------------- whom each entry was for, and what a replay did


def test_the_table_has_a_recipient_column_linking_to_the_conversation():
    rendered = str(table.entries().render())
    assert '"Recipient"' in rendered and "dlq-recipient-link" in rendered
    live = entry("sms#1", "THROTTLED").model_copy(update={"contact_id": "c-1", "recipient_name": "Ann Lee", "recipient_address": "+447700900123"})
    row = dead_letter_row(live, NOW)
    assert (row["recipient_name"], row["recipient_address"], row["recipient_href"]) == ("Ann Lee", "+447700900123", "/inbox/c-1")
    gone = live.model_copy(update={"recipient_name": "Deleted contact", "recipient_deleted": True})
    assert (dead_letter_row(gone, NOW)["recipient_name"], dead_letter_row(gone, NOW)["recipient_href"]) == ("Deleted contact", "")


def lines(page) -> dict[str, tuple[str, str]]:
    return {line["dlq_id"]: (line["text"], line["color"]) for line in page.outcome_lines}


def notices(page) -> dict[str, str]:
    return {row["dlq_id"]: row["notice"] for row in page.rows}


def test_a_replay_says_per_entry_what_happened_and_a_refusal_s_reason_stays_on_its_row(admin, messaging, crashy, lost, throttled):
    page = PageDouble(admin, [lost, throttled])
    page.listed()
    asyncio.run(page.replay_selected())
    assert page.outcome_title == "Last replay"
    assert lines(page) == {
        lost: (f"Dlq lost: skipped, not sent ({dlq.SEND_ANYWAY_REASON})", "amber"),
        throttled: ("Dlq throttled: queued again", "blue"),
    }
    page.listed()
    assert notices(page)[lost] == f"Skipped, not sent ({dlq.SEND_ANYWAY_REASON})" and notices(page)[throttled] == ""

    asyncio.run(page.replay_one(throttled))  # already replayed: refused, and the page says why
    assert lines(page) == {throttled: ("Dlq throttled: refused (already replayed)", "red")}
    page.listed()
    assert notices(page)[throttled] == "Refused (already replayed)"


def fails_again(crashy, dlq_id: str) -> str:
    """The provider throttles the dead letter's number again; its message id."""
    message = MessageModel.get(DLQMessageModel.get(dlq_id).messageId)
    crashy.throttled.add(message.address.lstrip("+"))
    return message.messageId


def changed(message_id: str, status: str) -> list[MessageChange]:
    return [MessageChange(event="MODIFY", message_id=message_id, contact_id=None, channel="whatsapp", direction="outbound", status=status)]


def test_a_replay_that_fails_again_is_reported_live_on_its_line_and_its_row(admin, messaging, crashy, throttled):
    message_id = fails_again(crashy, throttled)
    page = PageDouble(admin, [])
    page.listed()
    asyncio.run(page.replay_one(throttled))
    assert lines(page) == {throttled: ("Dlq throttled: queued again", "blue")}
    messaging.drain()  # the worker sends it: throttled again, every attempt, so it is dead-lettered anew

    again = dlq.get_dead_letter(admin, throttled)
    assert (again.state, again.replay_count, again.failed_again) == ("waiting", 1, True)
    asyncio.run(page._follow_replays(changed(message_id, "PENDING")))  # on its way: nothing to say yet
    assert lines(page)[throttled][1] == "blue"
    asyncio.run(page._follow_replays(changed(message_id, "DEAD")))
    expected = f"Replay of Dlq throttled failed again: {again.error}"
    assert again.error.startswith("Rate exceeded") and lines(page) == {throttled: (expected, "red")}
    page.listed()
    assert notices(page)[throttled] == expected and page._watch == {}


def test_a_replay_back_in_the_queue_before_the_feed_tells_is_reported_by_the_next_load(admin, messaging, crashy, throttled):
    fails_again(crashy, throttled)
    page = PageDouble(admin, [])
    page.listed()
    asyncio.run(page.replay_one(throttled))
    messaging.drain()
    page.listed()
    assert lines(page)[throttled] == (f"Replay of Dlq throttled failed again: {DLQMessageModel.get(throttled).error}", "red")


def test_a_replay_that_went_out_says_sent(admin, messaging, crashy, throttled):
    message_id = DLQMessageModel.get(throttled).messageId
    page = PageDouble(admin, [])
    page.listed()
    asyncio.run(page.replay_one(throttled))
    messaging.drain()
    asyncio.run(page._follow_replays(changed(message_id, "ACCEPTED")))
    assert lines(page) == {throttled: ("Dlq throttled: sent", "green")} and page._watch == {}
