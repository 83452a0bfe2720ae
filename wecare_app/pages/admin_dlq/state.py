"""The dead-letter page's state: the filters, the listed entries and the selection; replay and discard.

Every service call runs off the event loop (`await self.run(...)` from a background event, outside the state
lock). Loads are numbered and only the newest one's answer is shown, so a slow load started by an older filter
never overwrites a newer one. Replaying hundreds of entries takes a while: `busy` is set (under the lock, so a
second click finds it set and does nothing) for as long as a replay or discard runs, and the page shows it.

After a replay or discard the outcome panel says, per entry, what happened (queued again, refused and why, ...).
The messages a replay queued again are followed live: one that fails again turns its line red with the
message's error, and its entry, back in the queue, says so on its row."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import reflex as rx

from backend.errors import DomainError, PermissionDenied
from backend.services.messaging import dlq, messages
from backend.services.messaging.dlq import FAILED_AGAIN, DeadLetter, DlqResult
from backend.services.messaging.statuses import WENT_OUT
from wecare_app.pages.admin_dlq.display import (
    AGE_CHOICES,
    ALL,
    BULK_LIMIT,
    DEFAULT_FILTERS,
    LIST_LIMIT,
    bulk_preview,
    dead_letter_row,
    failed_again_text,
    outcome_line,
    outcome_note,
    payload_json,
    recipient_label,
    summary_toast,
)
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

# Plain words for a refusal by role (the service's own message names the internal operation).
DENIED_VIEW = "Only administrators can open the dead-letter queue."
DENIED_ACTION = "Only administrators can replay or discard dead letters."


def _problem(error: DomainError, denied: str = DENIED_ACTION):
    """The toast for an error from the service."""
    return rx.toast.error(denied, close_button=True) if isinstance(error, PermissionDenied) else error_toast(error)


class DeadLetterState(SessionState):
    queue: str = ALL
    error_code: str = ""
    age: str = "any"
    state_filter: str = "waiting"
    rows: list[dict[str, str]] = []
    follow_generation: int = 0
    selected: list[str] = []
    loading: bool = True
    busy: bool = False  # a replay or discard (or the count before "replay all") is running
    busy_label: str = ""  # what it is doing, e.g. "Replaying 120 entries…"
    denied: str = ""
    inspect_open: bool = False
    inspected: dict[str, str] = {}
    replay_all_open: bool = False
    replay_all_count: int = 0
    replay_all_blocked: int = 0  # of those, entries the service will refuse to replay
    replay_all_blocked_why: str = ""  # and why
    replay_all_skipped: int = 0  # of those, entries that may already have been delivered: skipped, not sent
    replay_all_skipped_why: str = ""
    outcome_title: str = ""  # "Last replay" / "Last discard": the outcome panel, shown when set
    outcome_lines: list[dict[str, str]] = []  # per entry: dlq_id, text, color
    _payloads: dict[str, str] = {}
    _known: dict[str, dict[str, str]] = {}  # dlq_id -> {recipient (in words), message_id}, of every entry listed
    _notes: dict[str, dict[str, str]] = {}  # dlq_id -> its row's notice from the last action (refused, skipped, failed again)
    _watch: dict[str, dict[str, str]] = {}  # message_id -> {dlq_id, recipient}: replays followed until they end
    _replay_all_ids: list[str] = []
    _load_request: int = 0  # the newest load's number: older answers are dropped

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def selectable_count(self) -> int:
        return sum(1 for row in self.rows if row["selectable"])

    @rx.var
    def all_selected(self) -> bool:
        selectable = {row["dlq_id"] for row in self.rows if row["selectable"]}
        return bool(selectable) and selectable <= set(self.selected)

    @rx.var
    def filtered(self) -> bool:
        return (self.queue, self.error_code.strip(), self.age, self.state_filter) != DEFAULT_FILTERS

    @rx.var
    def filter_label(self) -> str:
        parts = [f"queue {self.queue}" if self.queue != ALL else "every queue"]
        if self.error_code.strip():
            parts.append(f"error {self.error_code.strip()}")
        if AGE_CHOICES.get(self.age, ("", None))[1]:
            parts.append(AGE_CHOICES[self.age][0].lower())
        return ", ".join(parts)

    # -- loading

    @rx.event(background=True)
    async def load(self):
        """on_load: the live loop, then the entries."""
        if not await self.signed_in():
            return  # require_session is already redirecting to /login
        yield DeadLetterState.follow
        problem = await self._reload(restart=True)
        if problem is not None:
            yield problem

    @rx.event(background=True)
    async def follow(self):
        """Live: a message dead-lettered or replayed anywhere shows up here without a reload."""

        async def refresh(batch):
            await self._follow_replays(batch)
            # While a replay runs, its own changes stream in: the replay reloads once when it is done.
            if not self.busy and any(change.status in ("DEAD", "PENDING", "ACCEPTED") for change in batch):
                await self._reload()  # a failing live reload stays quiet: the next one or a click tells

        await follow_changes(self, "/admin/dlq", refresh, tick=60)

    @rx.event(background=True)
    async def refresh(self):
        """Reload with the current filters, keeping the selection of entries still listed."""
        return await self._reload()

    @rx.event(background=True)
    async def set_queue(self, value: str):
        async with self:
            self.queue = value
        return await self._reload(restart=True)

    @rx.event(background=True)
    async def set_error_code(self, value: str):
        async with self:
            self.error_code = value
        return await self._reload(restart=True)

    @rx.event(background=True)
    async def set_age(self, value: str):
        async with self:
            self.age = value
        return await self._reload(restart=True)

    @rx.event(background=True)
    async def set_state_filter(self, value: str):
        async with self:
            self.state_filter = value
        return await self._reload(restart=True)

    @rx.event(background=True)
    async def clear_filters(self):
        async with self:
            self.queue, self.error_code, self.age, self.state_filter = DEFAULT_FILTERS
        return await self._reload(restart=True)

    def _filters(self) -> dict[str, Any]:
        """Under the lock: the filters as `list_dead_letters` takes them (all but the state)."""
        return {
            "queue": None if self.queue == ALL else self.queue,
            "error_code": self.error_code.strip() or None,
            "older_than_minutes": AGE_CHOICES.get(self.age, ("", None))[1],
        }

    async def _reload(self, *, restart: bool = False):
        """List the entries the filters choose and show them (`restart`: a new filter, so drop the selection
        and close the dialogs); the event to send, if any. Only the newest load's answer is shown."""
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        async with self:
            if restart:
                self.selected = []
                self.inspect_open = self.replay_all_open = False
            self._load_request += 1
            ticket = self._load_request
            filters = self._filters()
            state = None if self.state_filter == ALL else self.state_filter
            self.loading = True
        try:
            entries = await self.run(dlq.list_dead_letters, **filters, state=state, limit=LIST_LIMIT)
        except DomainError as error:
            async with self:
                if ticket == self._load_request:
                    self.loading = False
                    self.rows, self.selected, self._payloads = [], [], {}
                    self.denied = DENIED_VIEW if isinstance(error, PermissionDenied) else ""
            return None if isinstance(error, PermissionDenied) else error_toast(error)
        payloads = {entry.dlq_id: payload_json(entry) for entry in entries}
        async with self:
            if ticket != self._load_request:
                return None  # a newer load is on its way
            self._show(entries, payloads)
        return None

    def _show(self, entries: list[DeadLetter], payloads: dict[str, str]) -> None:
        """Under the lock: the loaded entries as rows (with their notices), keeping the selection of those still
        selectable. A followed replay found back in the queue ends here if the live feed has not told yet."""
        self._remember(entries)
        for entry in entries:
            if entry.failed_again and entry.message_id in self._watch:
                self._ended(entry.message_id, failed_again_text(recipient_label(entry), entry.error), "red")
        now = datetime.now(timezone.utc)
        rows = [dead_letter_row(entry, now, self._notes.get(entry.dlq_id)) for entry in entries]
        self.denied = ""
        self.rows, self._payloads = rows, payloads
        selectable = {row["dlq_id"] for row in rows if row["selectable"]}
        self.selected = [dlq_id for dlq_id in self.selected if dlq_id in selectable]
        self.loading = False

    # -- selection and inspection (no service call: plain handlers)

    @rx.event
    def toggle(self, dlq_id: str, checked: bool):
        if checked and dlq_id not in self.selected:
            self.selected = [*self.selected, dlq_id]
        elif not checked:
            self.selected = [d for d in self.selected if d != dlq_id]

    @rx.event
    def toggle_all(self, checked: bool):
        self.selected = [row["dlq_id"] for row in self.rows if row["selectable"]] if checked else []

    @rx.event
    def inspect(self, dlq_id: str):
        row = next((r for r in self.rows if r["dlq_id"] == dlq_id), None)
        if row is None:
            return rx.toast.error("That entry is no longer listed; reload.")
        self.inspected = {**row, "payload": self._payloads.get(dlq_id, "{}")}
        self.inspect_open = True
        return None

    @rx.event
    def set_inspect_open(self, value: bool):
        self.inspect_open = value

    @rx.event
    def set_replay_all_open(self, value: bool):
        self.replay_all_open = value

    @rx.event
    def dismiss_outcome(self):
        self.outcome_title, self.outcome_lines = "", []

    # -- what became of the replays

    def _remember(self, entries: list[DeadLetter]) -> None:
        """Under the lock: whom each entry was for and its message, to word and follow what a replay does."""
        self._known = {
            **self._known,
            **{entry.dlq_id: {"recipient": recipient_label(entry), "message_id": entry.message_id or ""} for entry in entries},
        }

    def _report(self, title: str, results: list[DlqResult]) -> None:
        """Under the lock: the outcome panel and the rows' notices for `results`; follow what was queued again."""
        self.outcome_title = title
        known = {r.dlq_id: self._known.get(r.dlq_id, {"recipient": r.dlq_id, "message_id": ""}) for r in results}
        self.outcome_lines = [outcome_line(r, known[r.dlq_id]["recipient"]) for r in results]
        notes = {**self._notes, **{r.dlq_id: outcome_note(r) for r in results}}
        self._notes = {dlq_id: note for dlq_id, note in notes.items() if note is not None}
        queued = [r.dlq_id for r in results if r.outcome == "replayed" and known[r.dlq_id]["message_id"]]
        self._watch = {
            **self._watch,
            **{known[dlq_id]["message_id"]: {"dlq_id": dlq_id, "recipient": known[dlq_id]["recipient"]} for dlq_id in queued},
        }

    def _ended(self, message_id: str, text: str, color: str) -> None:
        """Under the lock: a followed replay ended; its line (and, when it failed, its row) says how."""
        item = self._watch[message_id]
        self._watch = {key: value for key, value in self._watch.items() if key != message_id}
        line = {"dlq_id": item["dlq_id"], "text": text, "color": color}
        if any(old["dlq_id"] == item["dlq_id"] for old in self.outcome_lines):
            self.outcome_lines = [line if old["dlq_id"] == item["dlq_id"] else old for old in self.outcome_lines]
        else:
            self.outcome_lines = [*self.outcome_lines, line]
        if color == "red":
            self._notes = {**self._notes, item["dlq_id"]: {"text": text, "color": color}}

    async def _follow_replays(self, batch) -> None:
        """From the live feed: a followed message that went out is followed no more; one that failed again
        (dead-lettered anew, failed for good or expired) turns its line red, with the message's own error."""
        async with self:
            ended = {c.message_id: c.status for c in batch if c.message_id in self._watch and c.status in FAILED_AGAIN | WENT_OUT}
            recipients = {message_id: self._watch[message_id]["recipient"] for message_id in ended}
        for message_id, status in ended.items():
            if status in WENT_OUT:
                async with self:
                    self._ended(message_id, f"{recipients[message_id]}: sent", "green")
                continue
            try:
                error = (await self.run(messages.get_message, message_id)).error_message or status
            except DomainError:
                error = status  # deleted meanwhile: its status is all there is to say
            async with self:
                if message_id in self._watch:
                    self._ended(message_id, failed_again_text(recipients[message_id], error), "red")

    # -- actions

    async def _claim(self, label: str) -> bool:
        """Mark the page busy with `label`; False when something is running already (a second click)."""
        async with self:
            if self.busy:
                return False
            self.busy, self.busy_label = True, label
        return True

    async def _release(self) -> None:
        async with self:
            self.busy, self.busy_label = False, ""

    async def _act(self, action: Callable[..., list[DlqResult]], ids: list[str], label: str, **options: bool):
        """Replay or discard `ids` off the loop (with the request's `options`, e.g. sendAnyway), say what
        happened to each, then reload; the events to send."""
        if not await self._claim(label):
            return None
        try:
            results = await self.run(action, {"dlqIds": ids, **options}, via="ui")
        except DomainError as error:
            return _problem(error)
        finally:
            await self._release()
        done = {r.dlq_id for r in results}
        async with self:
            self.selected = [d for d in self.selected if d not in done]
            self._report("Last discard" if action is dlq.discard else "Last replay", results)
        reload = await self._reload()
        return [summary_toast(results), *([reload] if reload is not None else [])]

    @rx.event(background=True)
    async def replay_one(self, dlq_id: str):
        return await self._act(dlq.replay, [dlq_id], "Replaying 1 entry…")

    @rx.event(background=True)
    async def send_anyway(self, dlq_id: str):
        """The confirmed "Send anyway" of one entry that may already have been delivered (audited as such)."""
        return await self._act(dlq.replay, [dlq_id], "Sending 1 entry anyway…", sendAnyway=True)

    @rx.event(background=True)
    async def discard_one(self, dlq_id: str):
        return await self._act(dlq.discard, [dlq_id], "Discarding 1 entry…")

    @rx.event(background=True)
    async def replay_selected(self):
        async with self:
            ids = list(self.selected)
        if not ids:
            return rx.toast.info("Select entries first.")
        return await self._act(dlq.replay, ids, _counted("Replaying", ids))

    @rx.event(background=True)
    async def discard_selected(self):
        async with self:
            ids = list(self.selected)
        if not ids:
            return rx.toast.info("Select entries first.")
        return await self._act(dlq.discard, ids, _counted("Discarding", ids))

    @rx.event(background=True)
    async def open_replay_all(self):
        """Count what 'replay all' would touch (waiting entries matching the filters), then ask to confirm."""
        if not await self._claim("Counting the waiting entries…"):
            return None
        try:
            async with self:
                filters = self._filters()
            entries = await self.run(dlq.list_dead_letters, **filters, state="waiting", limit=BULK_LIMIT)
        except DomainError as error:
            return _problem(error)
        finally:
            await self._release()
        if not entries:
            return rx.toast.info("Nothing is waiting in this filter.")
        blocked, blocked_why, skipped, skipped_why = bulk_preview(entries)
        async with self:
            self._remember(entries)
            self._replay_all_ids = [entry.dlq_id for entry in entries]
            self.replay_all_count = len(entries)
            self.replay_all_blocked, self.replay_all_blocked_why = blocked, blocked_why
            self.replay_all_skipped, self.replay_all_skipped_why = skipped, skipped_why
            self.replay_all_open = True
        return None

    @rx.event(background=True)
    async def confirm_replay_all(self):
        # Exactly the entries counted in the dialog (not whatever arrived since), by id.
        async with self:
            ids, self._replay_all_ids = self._replay_all_ids, []
            self.replay_all_open = False
        if not ids:
            return None
        return await self._act(dlq.replay, ids, _counted("Replaying", ids))


def _counted(doing: str, ids: list[str]) -> str:
    return f"{doing} {len(ids)} entr{'y' if len(ids) == 1 else 'ies'}…"
