"""/admin/rate-limits (Admins): each channel's sender with the limit in force, how much of its burst is free now,
how many sends it held back today, and the limit edited in place, for the whole channel or that sender alone.

The figures and the rules are the service's (backend/services/channels/rate_limits.py over the settings
catalog: a change is checked, audited and obeyed from the next send); this module lays them out. While the page
is open it reads them again when messages move (the change feed) and every few seconds, as buckets refill
without a message. Every call runs off the event loop."""
from __future__ import annotations

from typing import Any

import reflex as rx

from backend.errors import DomainError, PermissionDenied, ValidationError
from backend.services.channels import rate_limits
from backend.services.channels.rate_limits import RateLimitsView
from wecare_app.components.controls import data_table
from wecare_app.components.formatting import CHANNEL_ICONS, utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import add_signed_in_page, field_error, signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

__all__ = ["RateLimitsState", "rate_limits_page", "register"]

DENIED = "Only administrators can see or change rate limits."
ROUTE = "/admin/rate-limits"
TICK_SECONDS = 2.0  # buckets refill without a message: read them again this often while the page is open
LIVE_MIN_SECONDS = 1.0  # a busy minute reads them at most once a second
_EDIT_ERRORS = ("edit_error", "edit_error_a", "edit_error_b")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def sender_rows(view: RateLimitsView) -> list[dict[str, Any]]:
    """One row a sender, as the table shows it."""
    rows = []
    for s in view.senders:
        own = s.scope == "sender"
        setting = s.sender_limit if own else s.channel_limit
        changed = f"changed by {setting.updated_by} on {utc_stamp(setting.updated_at)}" if setting.updated_at else "default"
        rows.append({
            "channel": s.channel, "label": s.label, "sender": s.sender, "sender_note": s.sender_note, "icon": CHANNEL_ICONS.get(s.channel, "circle"),
            "limit": f"{_plain(s.per_second)}/s", "burst": f"bursts of {_plain(s.burst)}",
            "per_second": _plain(s.per_second), "burst_value": _plain(s.burst),
            "own": own, "scope_label": "This sender's own limit" if own else f"The {s.label} limit",
            "changed": changed,
            "available": f"{_number(s.available)} of {_number(s.burst)} free", "headroom": int(s.headroom),
            "tone": "red" if s.headroom < 20 else "orange" if s.headroom < 50 else "green",
            "throttled": f"{s.throttled_today:,}", "throttled_tone": "orange" if s.throttled_today else "gray",
            "can_edit": s.can_edit, "edit_reason": s.edit_reason,
        })
    return rows


def edit_messages(error: DomainError) -> dict[str, str]:
    """A refusal under the box it names (`….perSecond`, `….burst`), else under the row."""
    field = error.field or ""
    reason = error.message.partition(": ")[2] if error.message.startswith(field + ": ") and field else error.message
    if field.endswith(".perSecond") or field == "perSecond":
        return {"edit_error_a": reason}
    if field.endswith(".burst") or field == "burst":
        return {"edit_error_b": reason}
    return {"edit_error": reason}


class RateLimitsState(SessionState):
    loading: bool = True
    denied: str = ""
    error: str = ""
    rows: list[dict[str, Any]] = []
    read_at: str = ""
    follow_generation: int = 0
    editing: str = ""  # the channel whose row is being edited
    edit_sender: str = ""
    edit_per_second: str = ""
    edit_burst: str = ""
    edit_scope: str = "channel"  # channel | sender
    edit_error: str = ""
    edit_error_a: str = ""
    edit_error_b: str = ""
    saving: bool = False

    def _show(self, view: RateLimitsView) -> None:
        """Under the lock: the service's figures."""
        self.loading, self.denied, self.error = False, "", ""
        self.rows = sender_rows(view)
        self.read_at = view.read_at.strftime("%H:%M:%S UTC")

    async def _refresh(self) -> bool:
        try:
            view = await self.run(rate_limits.rate_limits)
        except DomainError as error:
            async with self:
                self.loading = False
                if isinstance(error, PermissionDenied):
                    self.denied = DENIED
                else:
                    self.error = error.message
            return False
        async with self:
            self._show(view)
        return True

    @rx.event(background=True)
    async def open_page(self):
        async with self:
            self.loading = not self.rows
            self.editing = ""
        if not await self.signed_in():
            return None
        if not await self._refresh():
            return None
        return RateLimitsState.follow

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            await self._refresh()

        await follow_changes(self, ROUTE, refresh, tick=TICK_SECONDS, min_refresh=LIVE_MIN_SECONDS)

    @rx.event
    def start_edit(self, channel: str):
        row = next((r for r in self.rows if r["channel"] == channel), None)
        if row is None:
            return
        self.editing, self.edit_sender = channel, row["sender"]
        self.edit_per_second, self.edit_burst = row["per_second"], row["burst_value"]
        self.edit_scope = "sender" if row["own"] else "channel"
        self.edit_error = self.edit_error_a = self.edit_error_b = ""

    @rx.event
    def cancel_edit(self):
        self.editing = ""
        self.edit_error = self.edit_error_a = self.edit_error_b = ""

    @rx.event
    def set_edit_per_second(self, value: str):
        self.edit_per_second, self.edit_error_a, self.edit_error = value, "", ""

    @rx.event
    def set_edit_burst(self, value: str):
        self.edit_burst, self.edit_error_b, self.edit_error = value, "", ""

    @rx.event
    def set_edit_scope(self, value: str):
        self.edit_scope = value if value in rate_limits.SCOPES else "channel"

    async def _change(self, service, *args: Any, done: str):
        async with self:
            if self.saving:
                return None
            self.saving = True
        try:
            view = await self.run(service, *args)
        except ValidationError as error:
            async with self:
                self.saving = False
                for name, message in {**dict.fromkeys(_EDIT_ERRORS, ""), **edit_messages(error)}.items():
                    setattr(self, name, message)
            return None
        except DomainError as error:
            async with self:
                self.saving = False
            return error_toast(error)
        async with self:
            self.saving, self.editing = False, ""
            self._show(view)
        return rx.toast.success(done, duration=2000)

    @rx.event(background=True)
    async def save_edit(self):
        async with self:
            channel, sender = self.editing, self.edit_sender if self.edit_scope == "sender" else None
            per_second, burst = self.edit_per_second.strip(), self.edit_burst.strip()
            label = next((r["label"] for r in self.rows if r["channel"] == channel), channel)
        if not channel:
            return None
        whom = f"{sender} ({label})" if sender else label
        return await self._change(rate_limits.update_rate_limit, channel, per_second, burst or None, sender,
                                  done=f"New limit for {whom}: in force from the next send")

    @rx.event(background=True)
    async def use_channel_limit(self, channel: str, sender: str):
        async with self:
            label = next((r["label"] for r in self.rows if r["channel"] == channel), channel)
        return await self._change(rate_limits.use_channel_limit, channel, sender, done=f"{sender} has the {label} limit again")


# ---------------------------------------------------------------- the page


def _channel_cell(row: rx.Var) -> rx.Component:
    return rx.hstack(rx.icon(row["icon"].to(str), size=16, color=rx.color("gray", 10)), rx.text(row["label"], weight="medium"),
                     align="center", spacing="2")


def _limit_view(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(row["limit"], weight="bold", size="3", class_name="rate-limit-value"),
                  rx.text(row["burst"], size="1", color=rx.color("gray", 10)), align="baseline", spacing="2"),
        rx.hstack(
            rx.badge(row["scope_label"], color_scheme=rx.cond(row["own"].to(bool), "blue", "gray"), variant="soft", size="1"),
            rx.text(row["changed"], size="1", color=rx.color("gray", 10)),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        spacing="1",
    )


def _limit_editor() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(rx.text("Per second", size="1", color=rx.color("gray", 11)),
                      rx.input(value=RateLimitsState.edit_per_second, on_change=RateLimitsState.set_edit_per_second,
                               type="number", step="any", min="0", width="110px", id="rate-edit-per-second"),
                      field_error(RateLimitsState.edit_error_a), spacing="1"),
            rx.vstack(rx.text("Burst", size="1", color=rx.color("gray", 11)),
                      rx.input(value=RateLimitsState.edit_burst, on_change=RateLimitsState.set_edit_burst, type="number",
                               step="any", min="1", width="110px", placeholder="= per second", id="rate-edit-burst"),
                      field_error(RateLimitsState.edit_error_b), spacing="1"),
            align="start",
            spacing="2",
        ),
        rx.radio_group.root(
            rx.hstack(
                rx.radio_group.item(value="channel", id="rate-edit-scope-channel"), rx.text("Whole channel", size="1"),
                rx.radio_group.item(value="sender", id="rate-edit-scope-sender"), rx.text("This sender only", size="1"),
                spacing="2",
                align="center",
            ),
            value=RateLimitsState.edit_scope,
            on_change=RateLimitsState.set_edit_scope,
            size="1",
        ),
        field_error(RateLimitsState.edit_error),
        rx.hstack(
            rx.button("Save", size="1", on_click=RateLimitsState.save_edit, loading=RateLimitsState.saving, id="rate-edit-save"),
            rx.button("Cancel", size="1", variant="soft", color_scheme="gray", on_click=RateLimitsState.cancel_edit),
            spacing="2",
        ),
        spacing="2",
        id="rate-editor",
    )


def _usage(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.progress(value=row["headroom"].to(int), max=100, size="2", color_scheme=row["tone"].to(str), width="160px"),
        rx.text(row["available"], size="1", color=rx.color("gray", 10)),
        spacing="1",
        class_name="rate-usage",
    )


def _actions(row: rx.Var) -> rx.Component:
    channel, sender = row["channel"].to(str), row["sender"].to(str)
    return rx.cond(
        row["can_edit"].to(bool),
        rx.vstack(
            rx.button(rx.icon("pencil", size=14), "Edit", size="1", variant="soft", on_click=RateLimitsState.start_edit(channel),
                      id="rate-edit-" + channel),
            rx.cond(row["own"].to(bool),
                    rx.button("Use channel limit", size="1", variant="ghost", color_scheme="gray",
                              on_click=RateLimitsState.use_channel_limit(channel, sender)),
                    rx.fragment()),
            spacing="1",
            align="start",  # stacked: the table fits the page beside the sidebar
        ),
        rx.tooltip(rx.icon("lock", size=14, color=rx.color("gray", 9)), content=row["edit_reason"].to(str)),
    )


def _row(row: rx.Var) -> rx.Component:
    editing = RateLimitsState.editing == row["channel"].to(str)
    return rx.table.row(
        rx.table.row_header_cell(_channel_cell(row)),
        rx.table.cell(rx.vstack(
            rx.code(row["sender"], size="1", word_break="break-all"),
            rx.cond(row["sender_note"].to(str) != "", rx.text(row["sender_note"], size="1", color=rx.color("gray", 10), max_width="220px"),
                    rx.fragment()),
            spacing="1",
        )),
        rx.table.cell(rx.cond(editing, _limit_editor(), _limit_view(row))),
        rx.table.cell(_usage(row)),
        rx.table.cell(rx.badge(row["throttled"], color_scheme=row["throttled_tone"].to(str), variant="soft", class_name="rate-throttled")),
        rx.table.cell(rx.cond(editing, rx.fragment(), _actions(row))),
        id="rate-row-" + row["channel"].to(str),
        class_name="rate-row",
        vertical_align="middle",
    )


def _body() -> rx.Component:
    return rx.vstack(
        data_table(("Channel", "Sender", "Limit", "Available now", "Held back today", ""), RateLimitsState.rows, _row),
        rx.text(
            "A sender sends at most its limit a second, and up to its burst at once after a quiet spell; a send over it "
            "waits in the queue (counted as held back). A change holds from the next send, without a restart. "
            "Read at ", RateLimitsState.read_at, ", live.",
            size="1", color=rx.color("gray", 10),
        ),
        rx.link("Every setting, with its history, is on Configuration", href="/admin/config", size="2"),
        spacing="3",
        width="100%",
    )


def rate_limits_page() -> rx.Component:
    return signed_in_page(
        "Rate limits",
        rx.cond(
            RateLimitsState.denied != "",
            empty_state("shield-alert", "Admins only", RateLimitsState.denied + " Ask an administrator for a change."),
            rx.cond(
                RateLimitsState.error != "",
                empty_state("circle-alert", "The rate limits could not be read", RateLimitsState.error),
                loading_block(RateLimitsState.loading, _body()),
            ),
        ),
        subtitle="Each channel's sender: its limit, how much is free now, and what waited today",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, rate_limits_page, route=ROUTE, title="Rate limits", on_load=RateLimitsState.open_page)
