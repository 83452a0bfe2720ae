"""The page's dialogs: inspecting one entry (error, details, payload), confirming a discard, confirming a
replay of everything the filters show, and confirming a "Send anyway" of an entry that may already have been
delivered (its risk in the service's words)."""
from __future__ import annotations

import reflex as rx

from wecare_app.components.controls import confirm_dialog
from wecare_app.pages.admin_dlq.state import DeadLetterState


def discard_dialog(trigger: rx.Component, title: str, description: str, on_confirm, confirm_id: str = "") -> rx.Component:
    return confirm_dialog(
        title,
        description,
        rx.button("Discard", color_scheme="red", on_click=on_confirm, **({"id": confirm_id} if confirm_id else {})),
        trigger=trigger,
    )


def send_anyway_dialog(trigger: rx.Component, row: rx.Var) -> rx.Component:
    """Confirm sending one entry that may already have been delivered: the risk is spelled out first."""
    return confirm_dialog(
        "Send this message anyway?",
        row["replay_risk"],
        rx.button(
            rx.icon("send", size=16),
            "Send anyway",
            color_scheme="amber",
            disabled=DeadLetterState.busy,
            on_click=DeadLetterState.send_anyway(row["dlq_id"]),
            class_name="dlq-send-anyway-confirm",
        ),
        rx.callout(
            "The customer may receive this message twice. Only send it if you have checked that they did not get "
            "it (e.g. in the provider's console, or with the customer). The audit trail records that you sent it anyway.",
            icon="triangle-alert",
            color_scheme="amber",
            size="1",
            margin_top="12px",
        ),
        trigger=trigger,
    )


def _bulk_warning(count: rx.Var, what: str, why: rx.Var, then: str, color: str) -> rx.Component:
    """'<count> of them <what> (<the service's reason>)<then>', shown only when count > 0."""
    return rx.cond(
        count > 0,
        rx.callout(count.to(str) + what + " (" + why + ")" + then, icon="triangle-alert", color_scheme=color, size="1", margin_top="12px"),
        rx.fragment(),
    )


def replay_all_dialog() -> rx.Component:
    return confirm_dialog(
        ("Replay ", DeadLetterState.replay_all_count, " waiting entries?"),
        (
            "Every waiting entry in ",
            DeadLetterState.filter_label,
            " is sent again: ",
            DeadLetterState.replay_all_count,
            " in all. Entries the provider already took are closed as delivered without re-sending.",
        ),
        rx.button(
            "Replay ",
            DeadLetterState.replay_all_count,
            disabled=DeadLetterState.busy,
            on_click=DeadLetterState.confirm_replay_all,
            id="dlq-replay-all-confirm",
        ),
        _bulk_warning(
            DeadLetterState.replay_all_blocked,
            " of them will be refused",
            DeadLetterState.replay_all_blocked_why,
            "; discard those instead.",
            "amber",
        ),
        _bulk_warning(
            DeadLetterState.replay_all_skipped,
            " of them will be skipped, not sent",
            DeadLetterState.replay_all_skipped_why,
            ": the customer may already have them.",
            "red",
        ),
        open=DeadLetterState.replay_all_open,
        on_open_change=DeadLetterState.set_replay_all_open,
    )


def _detail(label: str, value) -> rx.Component:
    return rx.fragment(
        rx.text(label, size="2", color=rx.color("gray", 10)),
        rx.text(value, size="2", font_family="monospace", word_break="break-all"),
    )


def inspect_dialog() -> rx.Component:
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
                    _detail("Recipient", item["recipient_name"] + " " + item["recipient_address"]),
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
