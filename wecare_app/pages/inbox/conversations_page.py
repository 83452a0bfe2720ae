"""/inbox: every conversation, most recent first, with unread counts; it updates itself as messages arrive."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.messaging import messages
from wecare_app.components.controls import search_input, segment_value
from wecare_app.components.formatting import CHANNEL_LABELS
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.inbox.display import conversation_row
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

STATUS_FILTERS = {"all": "All", "unread": "Unread", "window": "Window open", "opted_out": "Opted out"}
CHANNEL_FILTERS = {"all": "All channels", **CHANNEL_LABELS}


class InboxState(SessionState):
    conversations: list[dict] = []
    query: str = ""
    channel: str = "all"
    status: str = "all"
    loading: bool = True
    follow_generation: int = 0
    _inbox_request: int = 0  # the newest read's number: an older answer (other filters) is dropped

    @rx.var
    def unread_total(self) -> int:
        return sum(int(c["unread"]) for c in self.conversations)

    @rx.event(background=True)
    async def load(self):
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        error = await self._fetch()
        return [error, InboxState.follow] if error is not None else InboxState.follow

    @rx.event(background=True)
    async def search(self, value: str):
        async with self:
            self.query = value
        return await self._fetch()

    @rx.event(background=True)
    async def set_channel(self, value: str):
        async with self:
            self.channel = value
        return await self._fetch()

    @rx.event(background=True)
    async def set_status(self, value: str | list[str]):
        async with self:
            self.status = segment_value(value)
        return await self._fetch()

    def _filters(self) -> dict:
        return {
            "q": self.query,
            "channel": None if self.channel == "all" else self.channel,
            "unread_only": self.status == "unread",
        }

    def _show(self, found) -> None:
        rows = [conversation_row(c) for c in found]
        if self.status == "window":
            rows = [r for r in rows if r["window_open"]]
        elif self.status == "opted_out":
            rows = [r for r in rows if r["opted_out"]]
        self.conversations = rows
        self.loading = False

    async def _fetch(self, fresh_contact_ids: tuple[str, ...] = (), *, quiet: bool = False):
        """Read the inbox with the filters as they are now and show it, unless a newer read was asked for
        meanwhile; the error toast to send (None when `quiet`, as for the live loop)."""
        async with self:
            self._inbox_request += 1
            ticket, filters = self._inbox_request, self._filters()
        try:
            found = await self.run(messages.inbox, fresh_contact_ids=fresh_contact_ids, **filters)
        except DomainError as error:
            async with self:
                if ticket == self._inbox_request:
                    self.loading = False
            return None if quiet else error_toast(error)
        async with self:
            if ticket == self._inbox_request:
                self._show(found)
        return None

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):  # follow_changes has checked the session for this batch
            changed = tuple({change.contact_id for change in batch if change.contact_id})
            await self._fetch(changed, quiet=True)

        await follow_changes(self, "/inbox", refresh, tick=60)


def _conversation(row: rx.Var) -> rx.Component:
    unread = row["unread"].to(int)
    return rx.link(
        rx.hstack(
            rx.avatar(fallback=row["initials"].to(str), size="3", radius="full", color_scheme=rx.cond(unread > 0, "teal", "gray")),
            rx.vstack(
                rx.hstack(
                    rx.text(row["name"], weight=rx.cond(unread > 0, "bold", "medium"), size="3"),
                    rx.cond(row["opted_out"].to(bool), rx.badge("opted out", color_scheme="red", variant="soft", size="1")),
                    rx.spacer(),
                    rx.text(row["when"], size="1", color=rx.color("gray", 10), white_space="nowrap"),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    rx.icon(row["channel_icon"].to(str), size=14, color=rx.color("gray", 10)),
                    rx.cond(row["outbound"].to(bool), rx.text("You:", size="2", color=rx.color("gray", 10))),
                    rx.text(row["preview"], size="2", color=rx.color("gray", 11), overflow="hidden", text_overflow="ellipsis", white_space="nowrap", flex="1", min_width="0"),
                    rx.cond(unread > 0, rx.badge(unread, color_scheme="teal", variant="solid", radius="full", class_name="unread-badge")),
                    width="100%",
                    align="center",
                    spacing="2",
                ),
                spacing="1",
                width="100%",
                min_width="0",
            ),
            padding="12px",
            width="100%",
            align="center",
            spacing="3",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
            _hover={"background": rx.color("gray", 2)},
        ),
        href="/inbox/" + row["contact_id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
        class_name="conversation-row",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        search_input(
            InboxState.query,
            InboxState.search.debounce(250),
            "Search by name, phone or email",
            width="320px",
            id="inbox-search",
        ),
        rx.select.root(
            rx.select.trigger(),
            rx.select.content(*[rx.select.item(label, value=value) for value, label in CHANNEL_FILTERS.items()]),
            value=InboxState.channel,
            on_change=InboxState.set_channel,
        ),
        rx.segmented_control.root(
            *[rx.segmented_control.item(label, value=value) for value, label in STATUS_FILTERS.items()],
            value=InboxState.status,
            on_change=InboxState.set_status,
        ),
        spacing="3",
        wrap="wrap",
        align="center",
    )


def inbox_page() -> rx.Component:
    body = loading_block(
        InboxState.loading,
        rx.cond(
            InboxState.conversations.length() > 0,
            rx.card(rx.vstack(rx.foreach(InboxState.conversations, _conversation), spacing="0", width="100%"), padding="0", width="100%", id="conversation-list"),
            empty_state(
                "inbox",
                "No conversations here",
                "Customer messages appear the moment they arrive; try clearing the filters.",
            ),
        ),
    )
    return signed_in_page(
        "Inbox",
        rx.vstack(_filters(), body, spacing="4", width="100%"),
        subtitle=rx.cond(InboxState.unread_total > 0, InboxState.unread_total.to_string() + " unread · live", "All caught up · live"),
    )
