"""/admin/dlq (Admins): messages that failed every retry. Inspect the payload and the error, replay (at most
MAX_REPLAYS times) or discard them one by one, as a selection, or everything the filter shows."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

import reflex as rx

from backend.errors import DomainError, PermissionDenied, Unauthenticated
from backend.services.messaging import dlq
from backend.services.messaging.dlq import MAX_REPLAYS, QUEUES, DeadLetter, DlqResult
from wecare_app.components.controls import (
    clear_filters_button,
    confirm_dialog,
    data_table,
    filter_bar,
    labelled,
    no_matches,
    results,
    search_input,
)
from wecare_app.components.formatting import CHANNEL_COLORS, as_utc, shorten, utc_stamp, within_a_day
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

ALL = "all"
LIST_LIMIT = 200
BULK_LIMIT = 500  # the most ids one replay or discard request takes
ERROR_PREVIEW = 120  # characters of the error shown in the table (the dialog shows all of it)
QUEUE_CHOICES = [ALL, *QUEUES]
STATE_CHOICES = ["waiting", "replayed", "delivered", "discarded", ALL]
AGE_CHOICES = {"any": ("Any age", None), "5m": ("Older than 5 min", 5), "1h": ("Older than 1 hour", 60), "1d": ("Older than 1 day", 1440)}

_STATE_COLORS = {"waiting": "amber", "replayed": "blue", "delivered": "green", "discarded": "gray"}
_OUTCOME_LABELS = (("replayed", "replayed"), ("already_delivered", "already delivered"), ("discarded", "discarded"), ("refused", "refused"))


# ---------------------------------------------------------------- how dead letters read on screen


def relative(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((as_utc(now) - as_utc(moment)).total_seconds()))
    days = seconds // 86400
    return within_a_day(seconds) or f"{days} day{'s' if days != 1 else ''} ago"


def dead_letter_row(entry: DeadLetter, now: datetime) -> dict[str, str]:
    can_replay = entry.state == "waiting" and entry.replay_count < MAX_REPLAYS
    return {
        "dlq_id": entry.dlq_id,
        "queue": entry.queue,
        "queue_color": CHANNEL_COLORS.get(entry.queue, "gray"),
        "message_id": entry.message_id or "",
        "contact_id": entry.contact_id or "",
        "error": shorten(entry.error, ERROR_PREVIEW),
        "error_full": entry.error,
        "error_code": entry.error_code or "",
        "attempts": str(entry.attempts),
        "replays": f"{entry.replay_count}/{MAX_REPLAYS}",
        "can_replay": "yes" if can_replay else "",
        "replay_blocked": ""
        if can_replay
        else (f"Replayed {MAX_REPLAYS} times already; discard it" if entry.state == "waiting" else f"Already {entry.state}"),
        "state": entry.state,
        "state_color": _STATE_COLORS.get(entry.state, "gray"),
        "failed_rel": relative(entry.failed_at, now),
        "failed_abs": utc_stamp(entry.failed_at),
        "last_replay": f"{utc_stamp(entry.last_replay_at)} by {entry.last_replay_by or 'system'}" if entry.last_replay_at else "never",
    }


def payload_json(entry: DeadLetter) -> str:
    return json.dumps(entry.payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def outcome_summary(results: list[DlqResult]) -> str:
    """'3 replayed, 1 already delivered, 1 refused: replayed 5 times already'."""
    if not results:
        return "Nothing to do: no entry was chosen or none is waiting."
    counts = Counter(r.outcome for r in results)
    parts = [f"{counts[key]} {label}" for key, label in _OUTCOME_LABELS if counts.get(key)]
    text = ", ".join(parts)
    reasons = list(dict.fromkeys(r.reason for r in results if r.outcome == "refused" and r.reason))
    return text + (": " + "; ".join(reasons) if reasons else "")


def _summary_toast(results: list[DlqResult]):
    text = outcome_summary(results)
    if not results or all(r.outcome == "refused" for r in results):
        return rx.toast.error(text, close_button=True)
    if any(r.outcome == "refused" for r in results):
        return rx.toast.warning(text, close_button=True)
    return rx.toast.success(text)


# ---------------------------------------------------------------- state


class DeadLetterState(SessionState):
    queue: str = ALL
    error_code: str = ""
    age: str = "any"
    state_filter: str = "waiting"
    rows: list[dict[str, str]] = []
    follow_generation: int = 0
    selected: list[str] = []
    loading: bool = True
    busy: bool = False
    denied: str = ""
    inspect_open: bool = False
    inspected: dict[str, str] = {}
    replay_all_open: bool = False
    replay_all_count: int = 0
    replay_all_blocked: int = 0  # of those, entries at the replay limit (the service will refuse them)
    _payloads: dict[str, str] = {}
    _replay_all_ids: list[str] = []

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def selectable_count(self) -> int:
        return sum(1 for row in self.rows if row["state"] == "waiting")

    @rx.var
    def all_selected(self) -> bool:
        waiting = {row["dlq_id"] for row in self.rows if row["state"] == "waiting"}
        return bool(waiting) and waiting <= set(self.selected)

    @rx.var
    def filtered(self) -> bool:
        return (self.queue, self.error_code.strip(), self.age, self.state_filter) != (ALL, "", "any", "waiting")

    @rx.var
    def filter_label(self) -> str:
        parts = [f"queue {self.queue}" if self.queue != ALL else "every queue"]
        if self.error_code.strip():
            parts.append(f"error {self.error_code.strip()}")
        if AGE_CHOICES.get(self.age, ("", None))[1]:
            parts.append(AGE_CHOICES[self.age][0].lower())
        return ", ".join(parts)

    # -- loading

    @rx.event
    def load(self):
        result = self._restart()
        return [result, DeadLetterState.follow] if result is not None else DeadLetterState.follow

    @rx.event(background=True)
    async def follow(self):
        """Live: a message dead-lettered or replayed anywhere shows up here without a reload."""

        async def refresh(batch):
            if any(change.status in ("DEAD", "PENDING", "ACCEPTED") for change in batch):
                async with self:
                    self._fetch()

        await follow_changes(self, "/admin/dlq", refresh, tick=60)

    @rx.event
    def refresh(self):
        """Reload with the current filters, keeping the selection of entries still listed (for the live feed)."""
        return self._fetch()

    @rx.event
    def set_queue(self, value: str):
        self.queue = value
        return self._restart()

    @rx.event
    def set_error_code(self, value: str):
        self.error_code = value
        return self._restart()

    @rx.event
    def set_age(self, value: str):
        self.age = value
        return self._restart()

    @rx.event
    def set_state_filter(self, value: str):
        self.state_filter = value
        return self._restart()

    @rx.event
    def clear_filters(self):
        self.queue, self.error_code, self.age, self.state_filter = ALL, "", "any", "waiting"
        return self._restart()

    def _restart(self):
        self.selected = []
        self.inspect_open = self.replay_all_open = False
        return self._fetch()

    def _query(self, *, state: str | None, limit: int) -> list[DeadLetter]:
        return dlq.list_dead_letters(
            self.actor(),
            queue=None if self.queue == ALL else self.queue,
            error_code=self.error_code.strip() or None,
            older_than_minutes=AGE_CHOICES.get(self.age, ("", None))[1],
            state=state,
            limit=limit,
        )

    def _fetch(self):
        if not self.actor().is_authenticated:
            return None  # require_session is already redirecting to /login
        self.loading = True
        try:
            entries = self._query(state=None if self.state_filter == ALL else self.state_filter, limit=LIST_LIMIT)
        except (PermissionDenied, Unauthenticated) as error:
            self.loading = False
            self.rows, self.selected, self._payloads = [], [], {}
            self.denied = error.message
            return None
        except DomainError as error:
            self.loading = False
            self.rows = []
            return error_toast(error)
        now = datetime.now(timezone.utc)
        self.denied = ""
        self.rows = [dead_letter_row(entry, now) for entry in entries]
        self._payloads = {entry.dlq_id: payload_json(entry) for entry in entries}
        waiting = {row["dlq_id"] for row in self.rows if row["state"] == "waiting"}
        self.selected = [dlq_id for dlq_id in self.selected if dlq_id in waiting]
        self.loading = False
        return None

    # -- selection and inspection

    @rx.event
    def toggle(self, dlq_id: str, checked: bool):
        if checked and dlq_id not in self.selected:
            self.selected = [*self.selected, dlq_id]
        elif not checked:
            self.selected = [d for d in self.selected if d != dlq_id]

    @rx.event
    def toggle_all(self, checked: bool):
        self.selected = [row["dlq_id"] for row in self.rows if row["state"] == "waiting"] if checked else []

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

    # -- actions

    def _act(self, action, request: dict):
        """Run replay or discard, then reload; yields the events to send (a generator handler's body)."""
        if self.busy:
            return
        self.busy = True
        yield
        try:
            results = action(self.actor(), request, via="ui")
        except DomainError as error:
            self.busy = False
            yield error_toast(error)
            return
        self.busy = False
        done = {r.dlq_id for r in results}
        self.selected = [d for d in self.selected if d not in done]
        reload = self._fetch()
        yield _summary_toast(results)
        if reload is not None:
            yield reload

    @rx.event
    def replay_one(self, dlq_id: str):
        yield from self._act(dlq.replay, {"dlqIds": [dlq_id]})

    @rx.event
    def discard_one(self, dlq_id: str):
        yield from self._act(dlq.discard, {"dlqIds": [dlq_id]})

    @rx.event
    def replay_selected(self):
        if not self.selected:
            yield rx.toast.info("Select entries first.")
            return
        yield from self._act(dlq.replay, {"dlqIds": list(self.selected)})

    @rx.event
    def discard_selected(self):
        if not self.selected:
            yield rx.toast.info("Select entries first.")
            return
        yield from self._act(dlq.discard, {"dlqIds": list(self.selected)})

    @rx.event
    def open_replay_all(self):
        """Count what 'replay all' would touch (waiting entries matching the filters), then ask to confirm."""
        try:
            entries = self._query(state="waiting", limit=BULK_LIMIT)
        except DomainError as error:
            return error_toast(error)
        if not entries:
            return rx.toast.info("Nothing is waiting in this filter.")
        self._replay_all_ids = [entry.dlq_id for entry in entries]
        self.replay_all_count = len(entries)
        self.replay_all_blocked = sum(1 for entry in entries if entry.replay_count >= MAX_REPLAYS)
        self.replay_all_open = True
        return None

    @rx.event
    def set_replay_all_open(self, value: bool):
        self.replay_all_open = value

    @rx.event
    def confirm_replay_all(self):
        # Exactly the entries counted in the dialog (not whatever arrived since), by id.
        ids, self._replay_all_ids = self._replay_all_ids, []
        self.replay_all_open = False
        if not ids:
            return
        yield from self._act(dlq.replay, {"dlqIds": ids})


# ---------------------------------------------------------------- components


def _filters() -> rx.Component:
    return filter_bar(
        labelled("Queue", rx.select(QUEUE_CHOICES, value=DeadLetterState.queue, on_change=DeadLetterState.set_queue, id="dlq-queue")),
        labelled(
            "Error code",
            search_input(
                DeadLetterState.error_code,
                DeadLetterState.set_error_code,
                "Exact code, e.g. THROTTLED",
                icon_size=14,
                debounce_timeout=400,
                id="dlq-error-code",
            ),
        ),
        labelled(
            "Age",
            rx.select.root(
                rx.select.trigger(),
                rx.select.content(*[rx.select.item(label, value=key) for key, (label, _) in AGE_CHOICES.items()]),
                value=DeadLetterState.age,
                on_change=DeadLetterState.set_age,
                id="dlq-age",
            ),
        ),
        labelled(
            "State",
            rx.select(STATE_CHOICES, value=DeadLetterState.state_filter, on_change=DeadLetterState.set_state_filter, id="dlq-state"),
        ),
        clear_filters_button(DeadLetterState.filtered, DeadLetterState.clear_filters),
    )


def _discard_dialog(trigger: rx.Component, title: str, description: str, on_confirm, confirm_id: str = "") -> rx.Component:
    return confirm_dialog(
        title,
        description,
        rx.button("Discard", color_scheme="red", on_click=on_confirm, **({"id": confirm_id} if confirm_id else {})),
        trigger=trigger,
    )


def _bulk_bar() -> rx.Component:
    nothing_selected = DeadLetterState.selected_count == 0
    return rx.hstack(
        rx.text(
            rx.cond(nothing_selected, "Select waiting entries to act on them together", DeadLetterState.selected_count.to(str) + " selected"),
            size="2",
            color=rx.color("gray", 10),
        ),
        rx.spacer(),
        rx.button(
            rx.icon("rotate-ccw", size=16),
            "Replay selected",
            disabled=nothing_selected | DeadLetterState.busy,
            loading=DeadLetterState.busy,
            on_click=DeadLetterState.replay_selected,
            id="dlq-replay-selected",
        ),
        _discard_dialog(
            rx.button(
                rx.icon("trash-2", size=16),
                "Discard selected",
                variant="soft",
                color_scheme="red",
                disabled=nothing_selected | DeadLetterState.busy,
                id="dlq-discard-selected",
            ),
            "Discard the selected entries?",
            "They are closed without sending; the messages stay failed. The audit trail records who discarded them.",
            DeadLetterState.discard_selected,
            confirm_id="dlq-discard-selected-confirm",
        ),
        rx.button(
            rx.icon("list-restart", size=16),
            "Replay all in filter",
            variant="soft",
            disabled=DeadLetterState.busy,
            on_click=DeadLetterState.open_replay_all,
            id="dlq-replay-all",
        ),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def _replay_all_dialog() -> rx.Component:
    return confirm_dialog(
        ("Replay ", DeadLetterState.replay_all_count, " waiting entries?"),
        (
            "Every waiting entry in ",
            DeadLetterState.filter_label,
            " is sent again: ",
            DeadLetterState.replay_all_count,
            " in all. Entries the provider already took are closed as delivered without re-sending.",
        ),
        rx.button("Replay ", DeadLetterState.replay_all_count, on_click=DeadLetterState.confirm_replay_all, id="dlq-replay-all-confirm"),
        rx.cond(
            DeadLetterState.replay_all_blocked > 0,
            rx.callout(
                DeadLetterState.replay_all_blocked.to(str)
                + f" of them were replayed {MAX_REPLAYS} times already and will be refused; discard those instead.",
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
                margin_top="12px",
            ),
            rx.fragment(),
        ),
        open=DeadLetterState.replay_all_open,
        on_open_change=DeadLetterState.set_replay_all_open,
    )


def _detail(label: str, value) -> rx.Component:
    return rx.fragment(
        rx.text(label, size="2", color=rx.color("gray", 10)),
        rx.text(value, size="2", font_family="monospace", word_break="break-all"),
    )


def _inspect_dialog() -> rx.Component:
    item = DeadLetterState.inspected
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Dead letter"),
            rx.dialog.description(item["queue"], " queue · failed ", item["failed_abs"], size="2", color=rx.color("gray", 10)),
            rx.vstack(
                rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert", size=16)),
                    rx.vstack(
                        rx.cond(item["error_code"] != "", rx.code(item["error_code"], color_scheme="red"), rx.fragment()),
                        rx.text(item["error_full"], size="2"),
                        spacing="1",
                    ),
                    color_scheme="red",
                    width="100%",
                ),
                rx.grid(
                    _detail("Entry", item["dlq_id"]),
                    _detail("Message", item["message_id"]),
                    _detail("Contact", item["contact_id"]),
                    _detail("State", item["state"]),
                    _detail("Attempts", item["attempts"]),
                    _detail("Replays", item["replays"]),
                    _detail("Last replay", item["last_replay"]),
                    columns="120px 1fr",
                    spacing="2",
                    width="100%",
                ),
                rx.text("Payload", size="2", weight="medium"),
                rx.scroll_area(
                    rx.el.pre(
                        item["payload"],
                        style={"margin": "0", "font_size": "12px", "line_height": "1.5", "white_space": "pre"},
                        id="dlq-payload",
                    ),
                    type="auto",
                    scrollbars="both",
                    max_height="360px",
                    padding="12px",
                    border_radius="8px",
                    background=rx.color("gray", 3),
                    border=f"1px solid {rx.color('gray', 5)}",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                margin_top="12px",
            ),
            max_width="760px",
        ),
        open=DeadLetterState.inspect_open,
        on_open_change=DeadLetterState.set_inspect_open,
    )


def _row_actions(row: rx.Var) -> rx.Component:
    waiting = row["state"] == "waiting"
    return rx.hstack(
        rx.button(
            rx.icon("eye", size=14),
            "Inspect",
            size="1",
            variant="soft",
            color_scheme="gray",
            on_click=DeadLetterState.inspect(row["dlq_id"]),
            class_name="dlq-inspect",
        ),
        rx.tooltip(
            rx.button(
                rx.icon("rotate-ccw", size=14),
                "Replay",
                size="1",
                variant="soft",
                disabled=(row["can_replay"] == "") | DeadLetterState.busy,
                on_click=DeadLetterState.replay_one(row["dlq_id"]),
                class_name="dlq-replay",
            ),
            content=rx.cond(row["can_replay"] == "", row["replay_blocked"], "Send it again"),
        ),
        _discard_dialog(
            rx.button(
                rx.icon("trash-2", size=14),
                "Discard",
                size="1",
                variant="soft",
                color_scheme="red",
                disabled=~waiting | DeadLetterState.busy,
                class_name="dlq-discard",
            ),
            "Discard this entry?",
            "It is closed without sending; the message stays failed. The audit trail records who discarded it.",
            DeadLetterState.discard_one(row["dlq_id"]),
        ),
        spacing="2",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=DeadLetterState.selected.contains(row["dlq_id"]),
                on_change=lambda checked: DeadLetterState.toggle(row["dlq_id"], checked),
                disabled=row["state"] != "waiting",
                class_name="dlq-select",
            )
        ),
        rx.table.cell(
            rx.tooltip(rx.text(row["failed_rel"], size="2", white_space="nowrap"), content=row["failed_abs"]),
        ),
        rx.table.cell(rx.badge(row["queue"], color_scheme=row["queue_color"].to(str), variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.cond(row["error_code"] != "", rx.code(row["error_code"], color_scheme="red", size="1"), rx.fragment()),
                rx.text(row["error"], size="1", color=rx.color("gray", 11), title=row["error_full"]),
                spacing="1",
                align="start",
            ),
            max_width="360px",
        ),
        rx.table.cell(rx.text(row["attempts"], size="2")),
        rx.table.cell(
            rx.text(row["replays"], size="2", color=rx.cond(row["can_replay"] == "", rx.color("red", 11), rx.color("gray", 12))),
        ),
        rx.table.cell(rx.badge(row["state"], color_scheme=row["state_color"].to(str), variant="outline")),
        rx.table.cell(_row_actions(row)),
        class_name="dlq-row",
        align="center",
    )


def _table() -> rx.Component:
    select_all = rx.table.column_header_cell(
        rx.checkbox(
            checked=DeadLetterState.all_selected,
            on_change=DeadLetterState.toggle_all,
            disabled=DeadLetterState.selectable_count == 0,
            id="dlq-select-all",
        ),
        width="36px",
    )
    headers = ("Failed", "Queue", "Error", "Attempts", "Replays", "State", "")
    return data_table([select_all, *headers], DeadLetterState.rows, _row, size="1")


def _results() -> rx.Component:
    nothing = rx.cond(
        DeadLetterState.filtered,
        no_matches(
            "Nothing matches these filters",
            "No dead letter in this queue, state, error code and age. Error codes match exactly; try another state or clear the filters.",
            DeadLetterState.clear_filters,
        ),
        empty_state(
            "circle-check",
            "The dead-letter queue is empty",
            "A message lands here when its channel refused it or failed every retry (throttling, provider outages, "
            "invalid numbers). Nothing is waiting for a decision. Entries are kept for 7 days.",
        ),
    )
    return results(
        DeadLetterState.loading,
        DeadLetterState.rows,
        rx.vstack(
            _table(),
            rx.text(
                DeadLetterState.rows.length(),
                " entries shown, newest first",
                rx.cond(DeadLetterState.rows.length() >= LIST_LIMIT, f" (the first {LIST_LIMIT}; narrow the filters to see others)", ""),
                size="2",
                color=rx.color("gray", 10),
            ),
            spacing="3",
            width="100%",
        ),
        nothing,
    )


def _admins_only() -> rx.Component:
    return empty_state(
        "shield-alert",
        "Admins only",
        DeadLetterState.denied
        + " The dead-letter queue holds messages that failed every retry; replaying or discarding them is an administrator's decision.",
    )


def admin_dlq_page() -> rx.Component:
    return signed_in_page(
        "Dead-letter queue",
        rx.cond(
            DeadLetterState.denied != "",
            _admins_only(),
            rx.fragment(
                _filters(),
                _bulk_bar(),
                _results(),
                _inspect_dialog(),
                _replay_all_dialog(),
            ),
        ),
        actions=rx.cond(
            DeadLetterState.denied != "",
            rx.fragment(),
            rx.button(rx.icon("refresh-cw", size=16), "Reload", variant="soft", on_click=DeadLetterState.refresh, id="dlq-reload"),
        ),
        subtitle=f"Messages that failed every retry: inspect, replay (up to {MAX_REPLAYS} times) or discard",
    )


def register(app: rx.App) -> None:
    app.add_page(
        admin_dlq_page,
        route="/admin/dlq",
        title="Dead-letter queue · WECARE",
        on_load=[SessionState.require_session, DeadLetterState.load],
    )
