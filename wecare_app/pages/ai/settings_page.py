"""/ai/settings (Admins): AI auto-reply and the AI settings.

- Auto-reply: whether the assistant answers customers on its own, in large type, with the kill switch. Turning it
  off holds at once (the next message is not answered); turning it on first lists the rules it runs under (only
  inside the reply window, only consenting contacts, only above the confidence threshold, at most the daily
  number per contact, marked as AI in the thread, audited) and asks for a confirmation.
- Settings: the AI group of the typed settings (the confidence threshold, the daily number per contact, the
  reply's closing line, the system prompt), edited, checked, reset and audited as on /admin/config (its state and
  cards, `SettingsState.load("AI")`): a refused value shows under its field and nothing changes.
- Today's activity: how many auto-replies went out and how many were skipped, the commonest reasons, and the last
  ten with a link to the conversation (backend/services/ai/auto_reply.activity).
- Where answers come from: the retrieval in force (the local index or the Bedrock knowledge base).

A non-Admin gets the "Admins only" state, as on the admin pages (the services refuse them). Every service call
runs off the event loop."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import reflex as rx

from backend.errors import DomainError, PermissionDenied
from backend.services.ai import auto_reply, knowledge_base
from backend.services.ai.auto_reply import AutoReplyActivity, AutoReplyItem
from backend.services.platform.settings_catalog import (
    AI, AI_AUTO_REPLY_KEY, AI_CONFIDENCE_KEY, AI_PER_CONTACT_KEY,
)
from wecare_app.components.formatting import as_utc, shorten, utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.admin_config import SettingsState, group_card, history_dialog
from wecare_app.pages.layout import field_error, signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

__all__ = ["AiSettingsState", "ON_LOAD", "ROUTE", "ai_settings_page"]

ROUTE = "/ai/settings"
DENIED = "Only administrators can see or change the AI settings and auto-reply."
QUESTION_CHARS = 80
STATUS_BADGES = {auto_reply.SENT: ("Sent", "green"), auto_reply.SKIPPED: ("Skipped", "amber"),
                 "auto-pending": ("Considering", "gray")}


def _day_label(day: date) -> str:
    today = datetime.now(timezone.utc).date()
    return ("Today, " if day == today else "") + day.strftime("%d %b %Y") + " (UTC)"


def activity_row(item: AutoReplyItem) -> dict[str, str]:
    """One auto-reply as the card lists it: plain strings only."""
    label, color = STATUS_BADGES.get(item.status, (item.status, "gray"))
    created = as_utc(item.created_at)
    return {
        "interaction_id": item.interaction_id,
        "time": created.strftime("%H:%M"),
        "time_full": utc_stamp(created),
        "contact": item.contact_name or item.contact_id or "No contact",
        "href": f"/inbox/{item.contact_id}" if item.contact_id else "",
        "question": shorten(item.question, QUESTION_CHARS),
        "question_full": item.question,
        "status_label": label,
        "status_color": color,
        "reason": item.reason,
        "confidence": f"{item.confidence:.2f}" if item.confidence is not None else "—",
        "sent_message_id": item.sent_message_id or "",
    }


class AiSettingsState(SessionState):
    loading: bool = True
    denied: str = ""
    activity_loading: bool = False
    activity_error: str = ""
    day_label: str = ""
    sent: int = 0
    skipped: int = 0
    pending: int = 0
    truncated: bool = False
    reasons: list[dict[str, str]] = []
    latest: list[dict[str, str]] = []
    retrieval: str = ""
    confirm_open: bool = False  # the "turn auto-reply on?" confirmation

    def _show(self, seen: AutoReplyActivity) -> None:
        """Under the lock: the service's view of the day."""
        self.loading = self.activity_loading = False
        self.denied = self.activity_error = ""
        self.day_label = _day_label(seen.day)
        self.sent, self.skipped, self.pending, self.truncated = seen.sent, seen.skipped, seen.pending, seen.truncated
        self.reasons = [{"reason": r.reason, "count": f"{r.count:,}", "example": r.example} for r in seen.reasons]
        self.latest = [activity_row(item) for item in seen.latest]

    async def _read_activity(self):
        try:
            seen = await self.run(auto_reply.activity)
        except DomainError as error:
            async with self:
                self.loading = self.activity_loading = False
                if isinstance(error, PermissionDenied):
                    self.denied = DENIED
                else:
                    self.activity_error = error.message
            return None if isinstance(error, PermissionDenied) else error_toast(error)
        async with self:
            self._show(seen)
        return None

    @rx.event(background=True)
    async def open_page(self):
        async with self:
            self.loading, self.confirm_open, self.activity_error = True, False, ""
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        outcome = await self._read_activity()
        async with self:
            denied = self.denied != ""
        if denied:
            return outcome
        retrieval = await self.offload(knowledge_base.retrieval_source_text)
        async with self:
            self.retrieval = retrieval
        return outcome

    @rx.event(background=True)
    async def refresh(self):
        async with self:
            if self.activity_loading:
                return None
            self.activity_loading = True
        return await self._read_activity()

    @rx.event
    def toggle(self, on: bool):
        """The kill switch: off holds at once; on asks first."""
        if on:
            self.confirm_open = True
            return None
        return SettingsState.set_switch(AI_AUTO_REPLY_KEY, False)

    @rx.event
    def confirm_on(self):
        self.confirm_open = False
        return SettingsState.set_switch(AI_AUTO_REPLY_KEY, True)

    @rx.event
    def set_confirm_open(self, value: bool):
        self.confirm_open = value


ON_LOAD = [AiSettingsState.open_page, SettingsState.load(AI)]  # what the route runs after require_session


# ---------------------------------------------------------------- the auto-reply card


def _arrow_link(text: str, href: str) -> rx.Component:
    return rx.link(rx.hstack(rx.text(text), rx.icon("arrow-right", size=14), spacing="1", align="center"), href=href, size="2",
                   white_space="nowrap")


def _in_force(key: str, fallback: str) -> rx.Component:
    """A setting's value in force, as the settings list holds it (live as it is changed on the page)."""
    return rx.fragment(
        rx.foreach(SettingsState.settings, lambda row: rx.cond(row["key"] == key, rx.text.strong(row["value_text"]), rx.fragment())),
        rx.cond(SettingsState.settings.length() == 0, rx.text.strong(fallback), rx.fragment()),
    )


def _rule(icon: str, *words: Any) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=16, color=rx.color("accent", 10), flex_shrink="0", margin_top="2px"),
        rx.text(*words, size="2"),
        align="start",
        spacing="2",
    )


def rules_list() -> rx.Component:
    return rx.vstack(
        _rule("clock", "Only inside the reply window: a free reply must be allowed on the customer's channel now "
                       "(on WhatsApp, within 24 hours of their last message), and only to a message under 10 minutes old."),
        _rule("shield-check", "Only to contacts who consent to the channel: an opted-out customer never gets one."),
        _rule("gauge", "Only answers from the knowledge base at or above the confidence threshold (",
              _in_force(AI_CONFIDENCE_KEY, "the threshold"), "); anything less waits for a person."),
        _rule("repeat", "At most ", _in_force(AI_PER_CONTACT_KEY, "the daily number"), " per contact; past it their "
                        "messages wait for a person."),
        _rule("bot", "Marked as AI in the conversation, sent through the normal send path and its rules."),
        _rule("scroll-text", "Every auto-reply is audited, and every decision (sent, or skipped with the reason) is in the "
                             "AI interaction log."),
        spacing="2",
        width="100%",
        id="auto-reply-rules",
    )


def _confirm_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Turn AI auto-reply on?"),
            rx.alert_dialog.description(
                "The assistant will answer customers' messages on its own, without a person approving them, "
                "within these rules:", size="2"),
            rx.box(rules_list(), margin_y="16px"),
            rx.text("You can turn it off here at any time: the next message is then left for a person.", size="2",
                    color=rx.color("gray", 11)),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it off", variant="soft", color_scheme="gray", id="auto-reply-keep-off")),
                rx.button(rx.icon("bot", size=16), "Turn auto-reply on", color_scheme="green", on_click=AiSettingsState.confirm_on,
                          id="auto-reply-confirm-on"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
            max_width="560px",
            id="auto-reply-confirm",
        ),
        open=AiSettingsState.confirm_open,
        on_open_change=AiSettingsState.set_confirm_open,
    )


def _kill_switch(row: rx.Var) -> rx.Component:
    on = row["draft_on"].to(bool)
    busy = SettingsState.saving_key == AI_AUTO_REPLY_KEY
    return rx.vstack(
        rx.hstack(
            rx.center(
                rx.icon("bot", size=28, color=rx.cond(on, rx.color("green", 11), rx.color("gray", 10))),
                width="56px", height="56px", border_radius="12px", flex_shrink="0",
                background=rx.cond(on, rx.color("green", 3), rx.color("gray", 3)),
            ),
            rx.vstack(
                rx.heading(rx.cond(on, "Auto-reply is ON", "Auto-reply is OFF"), size="6",
                           color=rx.cond(on, rx.color("green", 11), rx.color("gray", 12)), id="auto-reply-state"),
                rx.text(
                    rx.cond(on,
                            "The assistant answers customers on its own, within the rules below. Turn it off to stop "
                            "the next auto-reply at once.",
                            "Nothing is sent by AI. Operators get suggested replies in the conversation and send them "
                            "after they approve."),
                    size="2", color=rx.color("gray", 11)),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.hstack(
                rx.cond(busy, rx.spinner(size="2"), rx.fragment()),
                rx.text(rx.cond(on, "On", "Off"), size="3", weight="bold"),
                rx.switch(checked=on, on_change=AiSettingsState.toggle, disabled=busy, size="3", color_scheme="green",
                          id="auto-reply-switch", aria_label="AI auto-reply", transform="scale(1.5)", margin_x="10px"),
                align="center",
                spacing="3",
                flex_shrink="0",
            ),
            align="center",
            spacing="4",
            width="100%",
        ),
        field_error(row["error"].to(str)),
        rx.cond(row["changed"].to(str) != "", rx.text(row["changed"], size="1", color=rx.color("gray", 10)), rx.fragment()),
        rx.cond(on, rx.box(rx.divider(margin_y="8px"), rules_list(), width="100%"), rx.fragment()),
        spacing="2",
        width="100%",
        padding_left="16px",
        border_left=rx.cond(on, f"5px solid {rx.color('green', 9)}", f"5px solid {rx.color('gray', 7)}"),
    )


def auto_reply_card() -> rx.Component:
    return rx.card(
        loading_block(
            SettingsState.settings_loading,
            rx.foreach(SettingsState.settings,
                       lambda row: rx.cond(row["key"] == AI_AUTO_REPLY_KEY, _kill_switch(row), rx.fragment())),
        ),
        _confirm_dialog(),
        width="100%",
        size="3",
        id="auto-reply-card",
    )


# ---------------------------------------------------------------- today's activity


def _figure(label: str, value: rx.Var, color: str, element_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color=rx.color("gray", 10), weight="medium", text_transform="uppercase"),
        rx.heading(value, size="7", color=rx.color(color, 11), id=element_id),
        spacing="0",
        min_width="110px",
    )


def _reasons() -> rx.Component:
    return rx.vstack(
        rx.text("Why they were skipped", size="2", weight="bold"),
        rx.cond(
            AiSettingsState.reasons.length() > 0,
            rx.vstack(
                rx.foreach(AiSettingsState.reasons, lambda r: rx.hstack(
                    rx.badge(r["count"], color_scheme="amber", variant="soft", size="2", min_width="36px", justify_content="center"),
                    rx.tooltip(rx.text(r["reason"], size="2"), content=r["example"]),
                    align="center",
                    spacing="2",
                    class_name="skip-reason",
                )),
                spacing="2",
                width="100%",
            ),
            rx.text("None skipped.", size="2", color=rx.color("gray", 10)),
        ),
        spacing="2",
        flex="1",
        min_width="260px",
        id="activity-reasons",
    )


def _latest_row(item: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(item["time"], size="2", title=item["time_full"], white_space="nowrap")),
        rx.table.cell(rx.cond(item["href"] != "", rx.link(item["contact"], href=item["href"], size="2", white_space="nowrap"),
                              rx.text(item["contact"], size="2", white_space="nowrap"))),
        rx.table.cell(rx.text(item["question"], size="2", title=item["question_full"])),
        rx.table.cell(rx.badge(item["status_label"], color_scheme=item["status_color"], variant="soft")),
        rx.table.cell(rx.text(rx.cond(item["reason"] != "", item["reason"], "Confidence " + item["confidence"].to(str)),
                              size="1", color=rx.color("gray", 11))),
        class_name="activity-row",
    )


def _latest() -> rx.Component:
    return rx.vstack(
        rx.text("The last ten", size="2", weight="bold"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in ("Time", "Contact", "Message", "Result", "Why")])),
            rx.table.body(rx.foreach(AiSettingsState.latest, _latest_row)),
            width="100%",
            variant="surface",
            size="1",
        ),
        spacing="2",
        width="100%",
    )


def _activity_body() -> rx.Component:
    return rx.cond(
        AiSettingsState.activity_error != "",
        rx.callout(AiSettingsState.activity_error, icon="triangle-alert", color_scheme="red", id="activity-error"),
        rx.cond(
            AiSettingsState.latest.length() > 0,
            rx.vstack(
                rx.flex(
                    rx.hstack(
                        _figure("Sent", AiSettingsState.sent, "green", "activity-sent"),
                        _figure("Skipped", AiSettingsState.skipped, "amber", "activity-skipped"),
                        rx.cond(AiSettingsState.pending > 0, _figure("Considering", AiSettingsState.pending, "gray", "activity-pending"),
                                rx.fragment()),
                        spacing="5",
                    ),
                    _reasons(),
                    gap="32px",
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(AiSettingsState.truncated,
                        rx.text("A busy day: the figures count the newest 2,000 auto-replies.", size="1", color=rx.color("gray", 10)),
                        rx.fragment()),
                _latest(),
                spacing="4",
                width="100%",
            ),
            rx.vstack(
                rx.icon("message-square-dashed", size=28, color=rx.color("gray", 8)),
                rx.text("No auto-replies today", weight="bold", size="2"),
                rx.text("Each customer message the assistant considers shows up here, sent or skipped with the reason. "
                        "While auto-reply is off, none is considered.", size="2", color=rx.color("gray", 10), text_align="center"),
                align="center",
                spacing="1",
                padding="24px",
                width="100%",
                id="activity-empty",
            ),
        ),
    )


def activity_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.heading("Auto-reply activity", size="3"),
                    rx.text(AiSettingsState.day_label, size="1", color=rx.color("gray", 10)),
                    spacing="0",
                ),
                rx.spacer(),
                _arrow_link("All AI interactions", "/ai/interactions"),
                rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="soft", on_click=AiSettingsState.refresh,
                          loading=AiSettingsState.activity_loading, id="activity-refresh"),
                align="center",
                spacing="3",
                width="100%",
            ),
            _activity_body(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="activity-card",
    )


# ---------------------------------------------------------------- where answers come from


def _fact(label: str, *value: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(label, weight="medium", size="2", width="150px", flex_shrink="0"), *value, align="start", width="100%")


def source_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Where answers come from", size="3"),
            _fact("Retrieval", rx.text(AiSettingsState.retrieval, size="2", id="answers-retrieval")),
            _fact("Answers", rx.text("Drawn only from the passages retrieved, each citing its passage; when they do not hold "
                                     "the answer, none is given: nothing is guessed.", size="2")),
            _fact("Documents", _arrow_link("The knowledge base", "/ai/knowledge-base")),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="answers-source-card",
    )


# ---------------------------------------------------------------- the page


def ai_settings_page() -> rx.Component:
    return signed_in_page(
        "AI settings",
        rx.cond(
            AiSettingsState.denied != "",
            empty_state("shield-alert", "Admins only", AiSettingsState.denied + " Ask an administrator for a change."),
            loading_block(AiSettingsState.loading, rx.vstack(
                auto_reply_card(),
                rx.box(group_card(AI, title="Thresholds, limits and prompts", hide=AI_AUTO_REPLY_KEY), width="100%"),
                activity_card(),
                source_card(),
                history_dialog(),
                spacing="5",
                width="100%",
                max_width="860px",
            )),
        ),
        subtitle="Auto-reply and its rules, the confidence threshold, the reply's closing line and the model's prompt",
    )
