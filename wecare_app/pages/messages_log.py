"""/messages: the log of every message on every channel, filtered and searchable, a page at a time, with a CSV
export and (for Operators and Admins) deletion of single messages."""
from __future__ import annotations

from datetime import date, datetime, timezone

import reflex as rx

from backend.errors import DomainError, ValidationError
from backend.services.messaging import log, messages
from backend.services.messaging.schemas import Message
from backend.services.messaging.statuses import STATUSES
from wecare_app.components.controls import (
    clear_filters_button,
    confirm_dialog,
    data_table,
    filter_bar,
    labelled,
    no_matches,
    results,
    search_input,
    token_pager,
)
from wecare_app.components.formatting import CHANNEL_COLORS, CHANNEL_LABELS, shorten, utc_stamp
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import add_signed_in_page, signed_in_page, writers_only
from wecare_app.state.feedback import error_toast
from wecare_app.state.paging import TokenPaging
from wecare_app.state.session_state import SessionState

PAGE_SIZE = 50
BODY_PREVIEW = 80
ALL = "all"
CHANNEL_CHOICES = [ALL, *CHANNEL_LABELS]
DIRECTION_CHOICES = [ALL, "inbound", "outbound"]
STATUS_CHOICES = [ALL, *STATUSES]

_STATUS_COLORS = {
    "FAILED": "red",
    "DEAD": "red",
    "EXPIRED": "gray",
    "READ": "green",
    "DELIVERED": "green",
    "PENDING": "amber",
    "SENDING": "amber",
    "ACCEPTED": "blue",
    "SENT": "blue",
    "RECEIVED": "gray",
}


def _body_of(message: Message) -> str:
    """What the Message column shows: an email's subject (its body can be a whole letter), else the text, else
    a label for its media."""
    if message.channel == "email" and message.subject:
        return message.subject
    if message.body:
        return message.body
    if message.media is not None:
        label = message.media.filename or message.media.caption or message.media.kind
        return f"[{message.media.kind}] {label}" if label != message.media.kind else f"[{message.media.kind}]"
    return ""


def _contact_cells(message: log.LogEntry) -> tuple[str, str]:
    """Who the message is with: the contact's name (the service's, "Deleted contact" included) and the address
    under it; without a name, the address alone."""
    address = message.address or ""
    if message.contact_name:
        return message.contact_name, address if address != message.contact_name else ""
    return address or ("Open conversation" if message.contact_id else "—"), ""


def message_row(message: log.LogEntry) -> dict[str, str]:
    """How one message reads in the log: plain strings only."""
    body = _body_of(message)
    contact_label, contact_address = _contact_cells(message)
    return {
        "message_id": message.message_id,
        "time": message.created_at.strftime("%d %b, %H:%M"),
        "time_full": utc_stamp(message.created_at),
        "channel": message.channel,
        "channel_label": CHANNEL_LABELS.get(message.channel, message.channel),
        "channel_color": CHANNEL_COLORS.get(message.channel, "gray"),
        "direction": message.direction,
        "contact_id": message.contact_id or "",
        "contact_href": f"/inbox/{message.contact_id}" if message.contact_id else "",
        "contact_label": contact_label,
        "contact_address": contact_address,
        "kind": message.kind,
        "body": shorten(body, BODY_PREVIEW) if body else "—",
        "body_full": body,
        "status": message.status,
        "status_color": _STATUS_COLORS.get(message.status, "gray"),
        "error_code": message.error_code or "",
        "error_message": message.error_message or "",
    }


def how_far_searched(page: log.LogPage) -> str:
    """What the page says when the read limit, not the end of the log, ended it (empty otherwise)."""
    if not page.truncated:
        return ""
    back_to = f" back to {page.searched_to.strftime('%d %b, %H:%M')} UTC" if page.searched_to else ""
    return (f"Searched the {page.examined:,} most recent messages{back_to} without filling the page. "
            "Next searches further back.")


def export_note(count: int, complete: bool) -> str:
    stopped = (f" (the export stops at {log.EXPORT_MAX:,} rows or {log.EXPORT_EXAMINE_MAX:,} messages read: "
               "narrow the filters or pick a day for the rest)") if not complete else ""
    return f"Exported {count:,} message{'s' if count != 1 else ''}{stopped}."


def _service_filters(query: dict[str, str]) -> dict:
    """The service's filters from a snapshot of the controls; a malformed day is a ValidationError."""
    try:
        day = date.fromisoformat(query["day"]) if query["day"] else None
    except ValueError:
        raise ValidationError("The day is not a valid date.", field="day") from None
    return {
        "day": day,
        "channel": None if query["channel"] == ALL else query["channel"],
        "direction": None if query["direction"] == ALL else query["direction"],
        "status": None if query["status"] == ALL else query["status"],
        "q": query["query"].strip(),
    }


class MessageLogState(TokenPaging, SessionState):
    query: str = ""
    channel: str = ALL
    direction: str = ALL
    status: str = ALL
    day: str = ""  # YYYY-MM-DD from the date input; empty means the last 31 days
    rows: list[dict[str, str]] = []
    read_note: str = ""  # the page stopped at the read limit: how far back it searched
    exporting: bool = False

    @rx.var
    def filtered(self) -> bool:
        return bool(self.query or self.day) or (self.channel, self.direction, self.status) != (ALL, ALL, ALL)

    @rx.var
    def period(self) -> str:
        return f"on {self.day}" if self.day else f"in the last {log.LOG_DAYS_BACK} days"

    @rx.event(background=True)
    async def search(self, value: str):
        return await self._filter_by(query=value)

    @rx.event(background=True)
    async def set_channel(self, value: str):
        return await self._filter_by(channel=value)

    @rx.event(background=True)
    async def set_direction(self, value: str):
        return await self._filter_by(direction=value)

    @rx.event(background=True)
    async def set_status(self, value: str):
        return await self._filter_by(status=value)

    @rx.event(background=True)
    async def set_day(self, value: str):
        return await self._filter_by(day=value or "")

    @rx.event(background=True)
    async def clear_filters(self):
        return await self._filter_by(query="", day="", channel=ALL, direction=ALL, status=ALL)

    @rx.event(background=True)
    async def export(self):
        """The filtered log as a CSV download, built on a worker thread; clicks while it runs do nothing."""
        async with self:
            if self.exporting:
                return None
            self.exporting = True
            query = self._page_query()
        try:
            csv_text, count, complete = await self.run(messages.export_csv, **_service_filters(query))
        except DomainError as error:
            return error_toast(error)
        finally:
            async with self:
                self.exporting = False
        if count == 0:
            return rx.toast.info("No messages match these filters; nothing to export.")
        stamp = query["day"] or datetime.now(timezone.utc).date().isoformat()
        return [
            rx.download(data=csv_text, filename=f"messages-{stamp}.csv", mime_type="text/csv"),
            rx.toast.success(export_note(count, complete)),
        ]

    @rx.event(background=True)
    async def delete(self, message_id: str):
        try:
            await self.run(messages.delete_message, message_id, via="ui")
        except DomainError as error:
            yield error_toast(error)
            return
        yield rx.toast.success("Message deleted.")
        reloaded = await self._refresh()  # the page on screen again, without the deleted message
        if reloaded is not None:
            yield reloaded

    def _page_query(self) -> dict[str, str]:
        return {"query": self.query, "channel": self.channel, "direction": self.direction, "status": self.status, "day": self.day}

    async def _load_page(self, query: dict[str, str], token: str):
        return await self.run(messages.message_log, limit=PAGE_SIZE, next_token=token or None, **_service_filters(query))

    def _show_page(self, page) -> None:
        self.rows = [message_row(m) for m in page.items]
        self.read_note = how_far_searched(page)

    def _page_failed(self, error: DomainError) -> None:
        self.rows = []
        self.read_note = ""
        self.next_token = ""


# ---------------------------------------------------------------- components


def _select(choices: list[str], value, on_change, label: str, element_id: str) -> rx.Component:
    return labelled(label, rx.select(choices, value=value, on_change=on_change, size="2", id=element_id))


def _filters() -> rx.Component:
    return filter_bar(
        labelled(
            "Search",
            search_input(
                MessageLogState.query,
                MessageLogState.search,
                "Text, phone, email or error code…",
                debounce_timeout=300,
                width="100%",
                size="2",
                id="messages-search",
            ),
            flex="1",
            min_width="240px",
        ),
        _select(CHANNEL_CHOICES, MessageLogState.channel, MessageLogState.set_channel, "Channel", "messages-channel"),
        _select(DIRECTION_CHOICES, MessageLogState.direction, MessageLogState.set_direction, "Direction", "messages-direction"),
        _select(STATUS_CHOICES, MessageLogState.status, MessageLogState.set_status, "Status", "messages-status"),
        labelled(
            "Day",
            rx.input(type="date", value=MessageLogState.day, on_change=MessageLogState.set_day, size="2", id="messages-day"),
        ),
        clear_filters_button(MessageLogState.filtered, MessageLogState.clear_filters),
    )


def _direction_icon(direction) -> rx.Component:
    return rx.cond(
        direction == "inbound",
        rx.tooltip(rx.icon("arrow-down-left", size=16, color=rx.color("blue", 10)), content="Inbound"),
        rx.tooltip(rx.icon("arrow-up-right", size=16, color=rx.color("green", 10)), content="Outbound"),
    )


def _delete_button(row: rx.Var) -> rx.Component:
    return confirm_dialog(
        "Delete this message?",
        "It disappears from the log and the conversation. A pending message is cancelled and will not be sent. "
        "The audit trail keeps a record of the deletion.",
        rx.button(
            "Delete",
            color_scheme="red",
            on_click=MessageLogState.delete(row["message_id"]),
            class_name="message-delete-confirm",
        ),
        rx.text(row["body"], size="2", color=rx.color("gray", 11), margin_top="12px"),
        trigger=rx.icon_button(
            rx.icon("trash-2", size=14),
            size="1",
            variant="ghost",
            color_scheme="red",
            aria_label="Delete message",
            class_name="message-delete",
        ),
        cancel_label="Keep",
    )


def _contact(row: rx.Var) -> rx.Component:
    """The contact's name, linking to the conversation, with the address the message used under it."""
    return rx.vstack(
        rx.cond(
            row["contact_href"] != "",
            rx.link(row["contact_label"], href=row["contact_href"].to(str), title="Open conversation", size="2",
                    white_space="nowrap", class_name="message-contact"),
            rx.text(row["contact_label"], size="2", white_space="nowrap", color=rx.color("gray", 10), class_name="message-contact"),
        ),
        rx.cond(
            row["contact_address"] != "",
            rx.text(row["contact_address"], size="1", white_space="nowrap", color=rx.color("gray", 10), class_name="message-address"),
        ),
        spacing="0",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.tooltip(rx.text(row["time"], size="2", white_space="nowrap"), content=row["time_full"])),
        rx.table.cell(rx.badge(row["channel_label"], color_scheme=row["channel_color"].to(str), variant="soft")),
        rx.table.cell(_direction_icon(row["direction"])),
        rx.table.cell(_contact(row)),
        rx.table.cell(rx.text(row["kind"], size="2", color=rx.color("gray", 11))),
        rx.table.cell(rx.text(row["body"], size="2", title=row["body_full"]), max_width="320px"),
        rx.table.cell(rx.badge(row["status"], color_scheme=row["status_color"].to(str), class_name="message-status")),
        rx.table.cell(
            rx.cond(
                row["error_code"] != "",
                rx.tooltip(rx.code(row["error_code"], color_scheme="red", size="1"), content=row["error_message"]),
                rx.fragment(),
            )
        ),
        writers_only(rx.table.cell(_delete_button(row))),
        class_name="message-row",
        align="center",
    )


def _table() -> rx.Component:
    headers = ("Time", "Channel", "", "Contact", "Kind", "Message", "Status", "Error")
    return data_table([*headers, writers_only(rx.table.column_header_cell(""))], MessageLogState.rows, _row, size="1")


def _pager() -> rx.Component:
    return token_pager(
        MessageLogState.page_number,
        MessageLogState.next_token,
        MessageLogState.previous_page,
        MessageLogState.next_page,
        rx.text(MessageLogState.rows.length(), " messages on this page", size="2", color=rx.color("gray", 10)),
        rx.spacer(),
        previous_id="messages-previous",
        next_id="messages-next",
    )


def _read_callout() -> rx.Component:
    return rx.cond(
        MessageLogState.read_note != "",
        rx.callout(MessageLogState.read_note, icon="info", size="1", width="100%", id="messages-read-note"),
        rx.fragment(),
    )


def _nothing() -> rx.Component:
    """No rows: the read limit ended an empty stretch (more may lie further back), the filters hide all, or the
    log is empty."""
    return rx.cond(
        MessageLogState.read_note != "",
        rx.vstack(_read_callout(), _pager(), width="100%", spacing="3"),
        rx.cond(
            MessageLogState.filtered,
            no_matches(
                "No messages match",
                "Nothing " + MessageLogState.period + " matches these filters. Search looks in the text, the address and "
                "the error code; try fewer filters or another day.",
                MessageLogState.clear_filters,
            ),
            empty_state(
                "inbox",
                "No messages in the last 31 days",
                "Every WhatsApp, SMS, email and voice message sent or received appears here, newest first. "
                "Messages are kept for 30 days.",
            ),
        ),
    )


def _results() -> rx.Component:
    return results(
        MessageLogState.loading,
        MessageLogState.rows,
        rx.vstack(_table(), _read_callout(), _pager(), width="100%", spacing="3"),
        _nothing(),
    )


def messages_log_page() -> rx.Component:
    return signed_in_page(
        "Message log",
        _filters(),
        _results(),
        actions=rx.button(
            rx.icon("download", size=16),
            "Export CSV",
            variant="soft",
            on_click=MessageLogState.export,
            loading=MessageLogState.exporting,
            id="messages-export",
        ),
        subtitle="Every message on every channel, newest first; kept for 30 days",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, messages_log_page, route="/messages", title="Message log", on_load=MessageLogState.load)
