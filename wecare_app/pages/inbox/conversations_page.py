"""/inbox: the team inbox. Views (Mine, Unassigned, All, Snoozed, Resolved) with live counts, filters (search,
channel, label, unread), and each conversation's status, owner, labels, unread count and failure marker. The
same list is the left pane of a conversation (/inbox/[contact_id]) on wide screens."""
from __future__ import annotations

import asyncio

import reflex as rx

from backend.errors import DomainError
from backend.services.messaging import conversations as conversation_service, inbox_settings
from backend.services.platform import team
from wecare_app.components.controls import search_input
from wecare_app.components.formatting import CHANNEL_LABELS
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.inbox.display import conversation_row
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

CHANNEL_FILTERS = {"all": "All channels", **CHANNEL_LABELS}
ANY_LABEL = "any"
PAGE_ROWS = 30  # rows a list shows (and re-renders on every live update); "Show more" adds as many again


class InboxState(SessionState):
    conversations: list[dict] = []
    counts: dict[str, str] = {view: "0" for view in conversation_service.VIEWS}
    view: str = "all"
    query: str = ""
    channel: str = "all"
    label: str = ANY_LABEL
    unread_only: bool = False
    limit: int = PAGE_ROWS
    more: bool = False  # the view has more conversations than the list shows
    label_options: list[dict[str, str]] = []  # the catalog: name, color
    team: list[dict[str, str]] = []  # user_id, name: who a conversation can be assigned to
    loading: bool = True
    follow_generation: int = 0
    _names: dict[str, str] = {}
    _inbox_request: int = 0  # the newest read's number: an older answer (other filters) is dropped

    @rx.var
    def label_names(self) -> list[str]:
        return [ANY_LABEL] + [label["name"] for label in self.label_options]

    @rx.event(background=True)
    async def load(self):
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        await self._load_catalogs()
        error = await self._fetch()
        return [error, InboxState.follow] if error is not None else InboxState.follow

    async def _load_catalogs(self) -> None:
        """The team's names and the labels (read once per page load; the list refreshes without them)."""
        try:
            members, labels = await asyncio.gather(self.run(team.team_members), self.run(inbox_settings.list_labels))
        except DomainError:
            return
        async with self:
            self._names = {m.user_id: m.name for m in members}
            self.team = [{"user_id": m.user_id, "name": m.name} for m in members if m.assignable]
            self.label_options = [{"name": label.name, "color": label.color} for label in labels]

    @rx.event(background=True)
    async def set_view(self, value: str):
        async with self:
            self.view = value
        return await self._fetch()

    @rx.event(background=True)
    async def show_more(self):
        async with self:
            self.limit = min(self.limit + PAGE_ROWS, conversation_service.LIMIT_MAX - 1)
        return await self._fetch()

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
    async def set_label(self, value: str):
        async with self:
            self.label = value
        return await self._fetch()

    @rx.event(background=True)
    async def set_unread_only(self, value: bool):
        async with self:
            self.unread_only = bool(value)
        return await self._fetch()

    def _filters(self) -> dict:
        return {
            "view": self.view,
            "q": self.query,
            "channel": None if self.channel == "all" else self.channel,
            "label": None if self.label == ANY_LABEL else self.label,
            "unread_only": self.unread_only,
            "limit": self.limit + 1,  # one more than shown: whether there are more
        }

    def _show(self, page) -> None:
        colors = {label["name"]: label["color"] for label in self.label_options}
        rows = [conversation_row(c, names=self._names, colors=colors) for c in page.items[: self.limit]]
        more = len(page.items) > self.limit
        if more != self.more:
            self.more = more
        counts = {view: f"{getattr(page.counts, view)}{'+' if view in page.counts.capped else ''}" for view in conversation_service.VIEWS}
        if rows != self.conversations:  # an unchanged var is not sent to the browser again
            self.conversations = rows
        if counts != self.counts:
            self.counts = counts
        if self.loading:
            self.loading = False

    async def _fetch(self, fresh_contact_ids: tuple[str, ...] = (), *, quiet: bool = False, live: bool = False, fresh_since: float | None = None):
        """Read the view with the filters as they are now and show it, unless a newer read was asked for
        meanwhile; the error toast to send (None when `quiet`, as for the live loop)."""
        async with self:
            self._inbox_request += 1
            ticket, filters = self._inbox_request, self._filters()
        try:
            page = await self.run(conversation_service.team_inbox, fresh_contact_ids=fresh_contact_ids, live=live, fresh_since=fresh_since, **filters)
        except DomainError as error:
            async with self:
                if ticket == self._inbox_request:
                    self.loading = False
            return None if quiet else error_toast(error)
        async with self:
            if ticket == self._inbox_request:
                self._show(page)
        return None

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):  # follow_changes has checked the session for this batch
            if batch:
                changed = tuple({change.contact_id for change in batch if change.contact_id})
                await self._fetch(changed, quiet=True, live=True, fresh_since=batch.published_at)

        await follow_changes(self, "/inbox", refresh, tick=60)


# ---------------------------------------------------------------- components


def _labels(labels: rx.Var) -> rx.Component:
    return rx.foreach(labels, lambda label: rx.badge(label["name"], color_scheme=label["color"].to(str), variant="soft", size="1", class_name="label-badge"))


def _conversation(row: rx.Var) -> rx.Component:
    unread = row["unread"].to(int)
    return rx.link(
        rx.hstack(
            rx.avatar(fallback=row["initials"].to(str), size="3", radius="full", color_scheme=rx.cond(unread > 0, "teal", "gray")),
            rx.vstack(
                rx.hstack(
                    rx.text(row["name"], weight=rx.cond(unread > 0, "bold", "medium"), size="2", trim="both",
                            overflow="hidden", text_overflow="ellipsis", white_space="nowrap", min_width="0"),
                    rx.spacer(),
                    rx.text(row["when"], size="1", color=rx.color("gray", 10), white_space="nowrap"),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    rx.icon(row["channel_icon"].to(str), size=14, color=rx.color("gray", 10), flex_shrink="0"),
                    rx.cond(row["failed"].to(bool), rx.tooltip(rx.icon("circle-alert", size=14, color=rx.color("red", 10), class_name="failed-marker", flex_shrink="0"), content="A message to them failed")),
                    rx.cond(row["outbound"].to(bool), rx.text("You:", size="1", color=rx.color("gray", 10))),
                    rx.text(row["preview"], size="1", color=rx.color("gray", 11), overflow="hidden", text_overflow="ellipsis", white_space="nowrap", flex="1", min_width="0"),
                    rx.cond(unread > 0, rx.badge(unread, color_scheme="teal", variant="solid", radius="full", class_name="unread-badge")),
                    width="100%",
                    align="center",
                    spacing="1",
                ),
                rx.hstack(
                    rx.badge(row["status"], color_scheme=row["status_color"].to(str), variant="outline", size="1", class_name="status-badge"),
                    _labels(row["labels"].to(list[dict[str, str]])),
                    rx.spacer(),
                    rx.cond(
                        row["assignee"].to(str) != "",
                        rx.tooltip(rx.avatar(fallback=row["assignee_initials"].to(str), size="1", radius="full", variant="solid", class_name="assignee-avatar"), content="Assigned to " + row["assignee"].to(str)),
                        rx.text("Unassigned", size="1", color=rx.color("gray", 9)),
                    ),
                    width="100%",
                    align="center",
                    spacing="1",
                    wrap="wrap",
                ),
                spacing="1",
                width="100%",
                min_width="0",
            ),
            padding="10px 12px",
            width="100%",
            align="start",
            spacing="3",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
            _hover={"background": rx.color("gray", 2)},
        ),
        href="/inbox/" + row["contact_id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
        min_width="0",
        overflow="hidden",
        class_name="conversation-row",
        data_contact=row["contact_id"].to(str),
    )


def _views() -> rx.Component:
    """The views as buttons with their live counts (they wrap in a narrow pane)."""
    return rx.hstack(
        *[
            rx.button(
                label,
                rx.badge(InboxState.counts[view], variant="surface", radius="full", size="1", id=f"count-{view}"),
                size="1",
                variant=rx.cond(InboxState.view == view, "solid", "soft"),
                color_scheme=rx.cond(InboxState.view == view, "teal", "gray"),
                on_click=InboxState.set_view(view),
                id=f"view-{view}",
            )
            for view, label in conversation_service.VIEW_LABELS.items()
        ],
        spacing="1",
        wrap="wrap",
        width="100%",
        id="inbox-views",
    )


def _filters(compact: bool) -> rx.Component:
    return rx.flex(
        search_input(InboxState.query, InboxState.search.debounce(250), "Search name, phone, email", width="100%" if compact else "280px", id="inbox-search"),
        rx.select.root(
            rx.select.trigger(aria_label="Channel"),
            rx.select.content(*[rx.select.item(label, value=value) for value, label in CHANNEL_FILTERS.items()]),
            value=InboxState.channel,
            on_change=InboxState.set_channel,
            size="1" if compact else "2",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Label", id="inbox-label"),
            rx.select.content(rx.foreach(InboxState.label_names, lambda name: rx.select.item(rx.cond(name == ANY_LABEL, "Any label", name), value=name))),
            value=InboxState.label,
            on_change=InboxState.set_label,
            size="1" if compact else "2",
        ),
        rx.checkbox("Unread", checked=InboxState.unread_only, on_change=InboxState.set_unread_only, size="1" if compact else "2"),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def conversation_list(compact: bool = False) -> rx.Component:
    """The views, filters and conversations; `compact` for the left pane of a conversation."""
    body = loading_block(
        InboxState.loading,
        rx.cond(
            InboxState.conversations.length() > 0,
            rx.vstack(
                rx.vstack(rx.foreach(InboxState.conversations, _conversation), spacing="0", width="100%", id="conversation-list"),
                rx.cond(InboxState.more, rx.button("Show more", variant="ghost", size="1", on_click=InboxState.show_more, width="100%", id="inbox-more")),
                spacing="1",
                width="100%",
            ),
            empty_state("inbox", "No conversations here", "Customer messages appear the moment they arrive; try another view or clear the filters."),
        ),
    )
    return rx.vstack(
        _views(),
        _filters(compact),
        # A plain scrolling box: Radix's scroll area lays its content out as a table, as wide as its widest row.
        rx.card(rx.box(body, max_height="70vh" if compact else "none", overflow_y="auto", width="100%"), padding="0", width="100%", overflow="hidden"),
        spacing="3",
        width="100%",
    )


def inbox_page() -> rx.Component:
    return signed_in_page(
        "Inbox",
        conversation_list(),
        subtitle=InboxState.counts["mine"].to(str) + " mine · " + InboxState.counts["unassigned"].to(str) + " unassigned · live",
    )
