"""/voice: the call log, newest first, filtered by contact, status and day, a page at a time; live (each call
also writes a Message row of channel "voice", so status changes arrive on the change feed)."""
from __future__ import annotations

from typing import NamedTuple

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import contacts
from backend.services.channels.voice import calls as voice_calls
from backend.services.channels.voice.calls import LOG_DAYS_BACK, VoiceCall
from backend.services.channels.voice.events import CALL_STATUSES
from wecare_app.components.controls import (
    clear_filters_button,
    data_table,
    filter_bar,
    labelled,
    no_matches,
    results,
    token_pager,
)
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.pages.voice.display import STATUS_LABELS, call_row
from wecare_app.state.contact_search import ContactSearch, contact_matches_list, contact_search_box
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.paging import TokenPaging
from wecare_app.state.session_state import SessionState

PAGE_SIZE = 25
ALL = "all"
ROUTE = "/voice"
LIVE_TICK_SECONDS = 60.0  # every call step writes the call's message row, so the change feed announces it


class LogPage(NamedTuple):
    """One page of the log as `_load_page` reads it: the calls, the next page's token, the contacts' names."""

    items: list[VoiceCall]
    next_token: str | None
    names: dict[str, str]


class VoiceLogState(ContactSearch, TokenPaging, SessionState):
    contact_id: str = ""
    contact_name: str = ""
    status: str = ALL
    day: str = ""
    rows: list[dict[str, str]] = []
    follow_generation: int = 0
    _names: dict[str, str] = {}  # contact id -> name ("" for a deleted contact), read once per visit

    @rx.var
    def filtered(self) -> bool:
        return bool(self.contact_id or self.day) or self.status != ALL

    @rx.event(background=True)
    async def open_log(self):
        async with self:
            self._clear_search()
        failed = await self._refresh(restart=True)
        return [*([failed] if failed is not None else []), VoiceLogState.follow]

    @rx.event(background=True)
    async def pick_contact(self, contact_id: str):
        async with self:
            match = next((m for m in self.contact_matches if m["contact_id"] == contact_id), None)
            if match is None:
                return None
            self.contact_id, self.contact_name = match["contact_id"], match["name"]
            self._clear_search()
        return await self._refresh(restart=True)

    @rx.event(background=True)
    async def clear_contact(self):
        return await self._filter_by(contact_id="", contact_name="")

    @rx.event(background=True)
    async def set_status(self, value: str):
        return await self._filter_by(status=value)

    @rx.event(background=True)
    async def set_day(self, value: str):
        return await self._filter_by(day=value or "")

    @rx.event(background=True)
    async def clear_filters(self):
        async with self:
            self.contact_id = self.contact_name = self.day = ""
            self.status = ALL
            self._clear_search()
        return await self._refresh(restart=True)

    def _page_query(self) -> tuple[dict, dict[str, str]]:
        filters = {
            "contact_id": self.contact_id or None,
            "status": None if self.status == ALL else self.status,
            "day": self.day or None,
        }
        return filters, dict(self._names)

    async def _load_page(self, query: tuple[dict, dict[str, str]], token: str) -> LogPage:
        filters, known = query
        page = await self.run(voice_calls.list_calls, **filters, limit=PAGE_SIZE, next_token=token or None)
        items = page.items
        if filters["contact_id"] and filters["day"]:
            # list_calls reads a contact's calls from its own index and ignores `day` there: filter this page.
            items = [c for c in items if c.started_at.date().isoformat() == filters["day"]]
        return LogPage(items, page.next_token, await self._contact_names(items, known))

    async def _contact_names(self, calls: list[VoiceCall], known: dict[str, str]) -> dict[str, str]:
        """Names of the calls' contacts, reading only those not already known ("" for a deleted contact)."""
        names = dict(known)
        for contact_id in {c.contact_id for c in calls if c.contact_id} - set(names):
            try:
                names[contact_id] = (await self.run(contacts.get_contact, contact_id)).name
            except DomainError:
                names[contact_id] = ""
        return names

    def _show_page(self, page: LogPage) -> None:
        self._names = page.names
        self.rows = [call_row(c, page.names.get(c.contact_id or "", "")) for c in page.items]

    def _page_failed(self, error: DomainError) -> None:
        self.rows, self.next_token = [], ""

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            """The page on screen again, quietly (no loading state), when a call changed."""
            if not any(change.channel == "voice" for change in batch):
                return
            async with self:
                if self.router.url.path.rstrip("/") != ROUTE:
                    return  # on a call's page: that page follows its own call
                ticket, query, token = self._page_request, self._page_query(), self.current_token
            if not await self.signed_in():
                return
            try:
                page = await self._load_page(query, token)
            except DomainError:
                return
            async with self:
                if ticket == self._page_request:  # no filter or page change meanwhile
                    self.next_token = page.next_token or ""
                    self._show_page(page)

        await follow_changes(self, ROUTE, refresh, tick=LIVE_TICK_SECONDS)


# ---------------------------------------------------------------- components


def _contact_filter() -> rx.Component:
    return labelled(
        "Contact",
        rx.cond(
            VoiceLogState.contact_id != "",
            rx.badge(
                rx.icon("user", size=14),
                VoiceLogState.contact_name,
                rx.icon("x", size=14, cursor="pointer", on_click=VoiceLogState.clear_contact, aria_label="Any contact"),
                size="3",
                variant="soft",
                radius="full",
                id="voice-contact-filter",
            ),
            rx.box(
                contact_search_box(VoiceLogState.contact_query, VoiceLogState.search_contacts, "Any contact: search…", box_id="voice-log-contact", size="2"),
                rx.box(
                    contact_matches_list(VoiceLogState.contact_matches, VoiceLogState.contact_query, VoiceLogState.pick_contact, item_class="voice-contact-match"),
                    position="absolute",
                    top="100%",
                    left="0",
                    width="420px",
                    z_index="20",
                    margin_top="4px",
                ),
                position="relative",
                width="260px",
            ),
        ),
    )


def _filters() -> rx.Component:
    return filter_bar(
        _contact_filter(),
        labelled(
            "Status",
            rx.select.root(
                rx.select.trigger(id="voice-status"),
                rx.select.content(
                    rx.select.item("Any status", value=ALL),
                    *[rx.select.item(STATUS_LABELS[s], value=s) for s in CALL_STATUSES],
                ),
                value=VoiceLogState.status,
                on_change=VoiceLogState.set_status,
            ),
        ),
        labelled("Day", rx.input(type="date", value=VoiceLogState.day, on_change=VoiceLogState.set_day, size="2", id="voice-day")),
        clear_filters_button(VoiceLogState.filtered, VoiceLogState.clear_filters),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.tooltip(rx.text(row["started"], size="2", white_space="nowrap"), content=row["started_full"])),
        rx.table.cell(
            rx.cond(
                row["contact_id"] != "",
                rx.link(row["contact_name"], href="/contacts/" + row["contact_id"].to(str), size="2", weight="medium"),
                rx.text(row["contact_name"], size="2"),
            )
        ),
        rx.table.cell(rx.text(row["to"], font_family="monospace", size="1", white_space="nowrap")),
        rx.table.cell(rx.badge(row["status_label"], color_scheme=row["status_color"].to(str), class_name="call-status")),
        rx.table.cell(rx.text(row["duration"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(row["voice"], size="2", color=rx.color("gray", 11))),
        rx.table.cell(
            rx.hstack(
                rx.cond(row["ssml"] != "", rx.badge("SSML", size="1", variant="outline", color_scheme="gray")),
                rx.text(row["text"], size="2", title=row["text_full"]),
                spacing="2",
                align="center",
            ),
            max_width="340px",
        ),
        rx.table.cell(
            rx.link(rx.icon("chevron-right", size=16), href=row["href"].to(str), aria_label="Open call", class_name="call-open"),
        ),
        class_name="call-row",
        align="center",
        cursor="pointer",
        on_click=rx.redirect(row["href"].to(str)),
        _hover={"background": rx.color("gray", 2)},
    )


def _results() -> rx.Component:
    nothing = rx.cond(
        VoiceLogState.filtered,
        no_matches("No calls match", "No call with this contact, status and day. Try fewer filters.", VoiceLogState.clear_filters),
        empty_state(
            "phone",
            "No calls yet",
            f"Text-to-speech calls you place appear here with their status as it changes. Calls are kept for {LOG_DAYS_BACK} days.",
            writers_only(rx.link(rx.button(rx.icon("phone-outgoing", size=16), "New call"), href="/voice/new")),
        ),
    )
    table = data_table(("Started", "Contact", "Number", "Status", "Duration", "Voice", "Says", ""), VoiceLogState.rows, _row, size="1")
    pager = token_pager(
        VoiceLogState.page_number,
        VoiceLogState.next_token,
        VoiceLogState.previous_page,
        VoiceLogState.next_page,
        rx.text(VoiceLogState.rows.length(), " calls on this page", size="2", color=rx.color("gray", 10)),
        rx.spacer(),
        previous_id="voice-previous",
        next_id="voice-next",
    )
    return results(VoiceLogState.loading, VoiceLogState.rows, rx.vstack(table, pager, spacing="3", width="100%"), nothing)


def voice_log_page() -> rx.Component:
    return signed_in_page(
        "Call log",
        _filters(),
        _results(),
        actions=writers_only(rx.link(rx.button(rx.icon("phone-outgoing", size=16), "New call", id="voice-new-button"), href="/voice/new")),
        subtitle=f"Text-to-speech calls, newest first, live; kept for {LOG_DAYS_BACK} days",
    )
