"""The filters, the bar of bulk actions, the outcome of the last replay or discard, and the table of entries
(with whom each was for) and their own actions."""
from __future__ import annotations

import reflex as rx

from wecare_app.components.controls import (
    clear_filters_button,
    data_table,
    filter_bar,
    labelled,
    no_matches,
    results,
    search_input,
)
from wecare_app.components.shell import empty_state
from wecare_app.pages.admin_dlq.dialogs import discard_dialog, send_anyway_dialog
from wecare_app.pages.admin_dlq.display import AGE_CHOICES, LIST_LIMIT, QUEUE_CHOICES, STATE_CHOICES
from wecare_app.pages.admin_dlq.state import DeadLetterState

# A disabled button gets no pointer events: let its wrapper take the hover, so the tooltip tells why.
_HOVER_THROUGH = {"&:disabled": {"pointer_events": "none"}}


def filters() -> rx.Component:
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


def _status() -> rx.Component:
    """What the bulk bar is about: the work running, or the selection."""
    return rx.cond(
        DeadLetterState.busy,
        rx.hstack(
            rx.spinner(size="1"),
            rx.text(DeadLetterState.busy_label, size="2", weight="medium"),
            align="center",
            spacing="2",
            id="dlq-busy",
        ),
        rx.text(
            rx.cond(
                DeadLetterState.selected_count == 0,
                "Select waiting entries to act on them together",
                DeadLetterState.selected_count.to(str) + " selected",
            ),
            size="2",
            color=rx.color("gray", 10),
        ),
    )


def bulk_bar() -> rx.Component:
    nothing_selected = DeadLetterState.selected_count == 0
    return rx.hstack(
        _status(),
        rx.spacer(),
        rx.button(
            rx.icon("rotate-ccw", size=16),
            "Replay selected",
            disabled=nothing_selected | DeadLetterState.busy,
            on_click=DeadLetterState.replay_selected,
            id="dlq-replay-selected",
        ),
        discard_dialog(
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


def _explained(control: rx.Component, allowed: rx.Var, why_not: rx.Var, what: str) -> rx.Component:
    """`control` with a tooltip: what it does, or (from the service's view) why it may not be done."""
    return rx.tooltip(rx.box(control, display="inline-flex"), content=rx.cond(allowed, what, why_not))


def _replay_action(row: rx.Var) -> rx.Component:
    """Replay; or, for an entry that may already have been delivered, "Send anyway" behind its confirmation."""
    can_replay = row["can_replay"] != ""
    send_anyway = rx.button(
        rx.icon("send", size=14),
        "Send anyway",
        size="1",
        variant="soft",
        color_scheme="amber",
        disabled=DeadLetterState.busy,
        class_name="dlq-send-anyway",
    )
    replay = rx.button(
        rx.icon("rotate-ccw", size=14),
        "Replay",
        size="1",
        variant="soft",
        disabled=~can_replay | DeadLetterState.busy,
        on_click=DeadLetterState.replay_one(row["dlq_id"]),
        class_name="dlq-replay",
        style=_HOVER_THROUGH,
    )
    return rx.cond(
        row["needs_send_anyway"] != "",
        rx.tooltip(rx.box(send_anyway_dialog(send_anyway, row), display="inline-flex"), content="It may already have been delivered: read the risk first"),
        _explained(replay, can_replay, row["replay_blocked"], "Send it again"),
    )


def _row_actions(row: rx.Var) -> rx.Component:
    can_discard = row["can_discard"] != ""
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
        _replay_action(row),
        _explained(
            discard_dialog(
                rx.button(
                    rx.icon("trash-2", size=14),
                    "Discard",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    disabled=~can_discard | DeadLetterState.busy,
                    class_name="dlq-discard",
                    style=_HOVER_THROUGH,
                ),
                "Discard this entry?",
                "It is closed without sending; the message stays failed. The audit trail records who discarded it.",
                DeadLetterState.discard_one(row["dlq_id"]),
            ),
            can_discard,
            row["discard_blocked"],
            "Close it without sending",
        ),
        spacing="2",
    )


def _replay_refused(row: rx.Var) -> rx.Var:
    """Neither a replay nor a "Send anyway" would send it (spent, or closed)."""
    return (row["can_replay"] == "") & (row["needs_send_anyway"] == "")


def _may_have_gone_out(row: rx.Var) -> rx.Component:
    """The warning badge of an entry that may already have been delivered (replays in bulk skip it)."""
    return rx.cond(
        row["needs_send_anyway"] != "",
        rx.tooltip(
            rx.badge(rx.icon("triangle-alert", size=12), "May already be delivered", color_scheme="amber", variant="surface", class_name="dlq-maybe-sent"),
            content=row["replay_risk"],
        ),
        rx.fragment(),
    )


def _outcome_line(item: rx.Var) -> rx.Component:
    return rx.text(item["text"], size="2", color=rx.color(item["color"].to(str), 11), class_name="dlq-outcome-line")


def outcome_panel() -> rx.Component:
    """What the last replay or discard did to each entry; a followed replay's line turns red if it fails again."""
    return rx.cond(
        DeadLetterState.outcome_title != "",
        rx.callout.root(
            rx.vstack(
                rx.hstack(
                    rx.text(DeadLetterState.outcome_title, size="2", weight="medium"),
                    rx.spacer(),
                    rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                                   on_click=DeadLetterState.dismiss_outcome, aria_label="Dismiss", id="dlq-outcome-dismiss"),
                    width="100%",
                    align="center",
                ),
                rx.scroll_area(rx.vstack(rx.foreach(DeadLetterState.outcome_lines, _outcome_line), spacing="1"), type="auto", max_height="180px"),
                spacing="2",
                width="100%",
            ),
            color_scheme="gray",
            variant="surface",
            width="100%",
            id="dlq-outcome",
        ),
        rx.fragment(),
    )


def _recipient(row: rx.Var) -> rx.Component:
    """The contact's name (a link to their conversation; plain for a deleted contact) over the address."""
    name = rx.cond(
        row["recipient_href"] != "",
        rx.link(row["recipient_name"], href=row["recipient_href"], size="2", weight="medium", class_name="dlq-recipient-link"),
        rx.text(row["recipient_name"], size="2", color=rx.color("gray", 10)),
    )
    return rx.vstack(
        name,
        rx.text(row["recipient_address"], size="1", color=rx.color("gray", 11), font_family="monospace"),
        spacing="0",
        align="start",
        class_name="dlq-recipient",
    )


def _notice(row: rx.Var) -> rx.Component:
    """The row's notice: a replay that failed again, or why the last replay refused or skipped it."""
    return rx.cond(
        row["notice"] != "",
        rx.callout(row["notice"], icon="info", color_scheme=row["notice_color"].to(str), size="1", class_name="dlq-notice"),
        rx.fragment(),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=DeadLetterState.selected.contains(row["dlq_id"]),
                on_change=lambda checked: DeadLetterState.toggle(row["dlq_id"], checked),
                disabled=row["selectable"] == "",
                class_name="dlq-select",
            )
        ),
        rx.table.cell(
            rx.tooltip(rx.text(row["failed_rel"], size="2", white_space="nowrap"), content=row["failed_abs"]),
        ),
        rx.table.cell(_recipient(row)),
        rx.table.cell(rx.badge(row["queue"], color_scheme=row["queue_color"].to(str), variant="soft")),
        rx.table.cell(
            rx.vstack(
                rx.cond(row["error_code"] != "", rx.code(row["error_code"], color_scheme="red", size="1"), rx.fragment()),
                _may_have_gone_out(row),
                rx.text(row["error"], size="1", color=rx.color("gray", 11), title=row["error_full"]),
                _notice(row),
                spacing="1",
                align="start",
            ),
            max_width="360px",
        ),
        rx.table.cell(rx.text(row["attempts"], size="2")),
        rx.table.cell(
            rx.text(row["replays"], size="2", color=rx.cond(_replay_refused(row), rx.color("red", 11), rx.color("gray", 12))),
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
    headers = ("Failed", "Recipient", "Queue", "Error", "Attempts", "Replays", "State", "")
    return data_table([select_all, *headers], DeadLetterState.rows, _row, size="1")


def entries() -> rx.Component:
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
