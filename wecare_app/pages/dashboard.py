"""/ (every role): today's messaging at a glance. Each tile links to the page behind its figure; the page moves
live: it hears each batch of message changes once the counters include it (runtime/counters_feed.py) and reads
the dashboard again, at most once a second (no browser polling). The figures and rules are the service's
(backend/services/analytics/dashboard.py); this module only lays them out."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.analytics import dashboard as dashboard_service
from backend.services.analytics.dashboard import Dashboard
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import add_signed_in_page, signed_in_page
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

LIVE_MIN_SECONDS = 1.0  # a busy minute refreshes the page once a second, not once a batch
TICK_SECONDS = 30.0  # and a quiet one now and then (rate-limit buckets refill without a message)
CHANNEL_ICONS = {"whatsapp": "message-circle", "sms": "smartphone", "email": "mail", "voice": "phone"}


def _number(value: int) -> str:
    return f"{value:,}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def tiles(view: Dashboard) -> list[dict]:
    """The KPI tiles: figure, words under it, where it links (empty: no link for this role)."""
    inbox = view.inbox
    return [
        {"id": "kpi-messages", "icon": "messages-square", "label": "Messages today", "value": _number(view.outbound + view.inbound),
         "hint": f"{_number(view.outbound)} out · {_number(view.inbound)} in", "href": "/messages", "tone": "gray"},
        {"id": "kpi-delivery", "icon": "check-check", "label": "Delivered", "value": _percent(view.delivery_rate),
         "hint": f"{_number(view.delivered)} of {_number(view.sent)} sent" if view.sent else "nothing sent yet today",
         "href": "/messages", "tone": "green"},
        {"id": "kpi-read", "icon": "eye", "label": "Read", "value": _percent(view.read_rate),
         "hint": f"{_number(view.read)} of {_number(view.delivered)} delivered" if view.delivered else "no deliveries yet",
         "href": "/messages", "tone": "blue"},
        {"id": "kpi-failed", "icon": "triangle-alert", "label": "Failed today", "value": _number(view.failed),
         "hint": "need a look" if view.failed else "none", "href": "/messages", "tone": "red" if view.failed else "gray"},
        {"id": "kpi-inbox", "icon": "inbox", "label": "Open conversations",
         "value": _number(inbox.open + inbox.pending) + ("+" if inbox.capped else ""),
         "hint": f"{_number(inbox.unread)} unread · {_number(inbox.unassigned)} unassigned", "href": "/inbox",
         "tone": "orange" if inbox.unread else "gray"},
        {"id": "kpi-campaigns", "icon": "megaphone", "label": "Campaigns running", "value": _number(view.campaigns_active),
         "hint": "sending, preparing or paused", "href": "/bulk", "tone": "violet" if view.campaigns_active else "gray"},
        {"id": "kpi-dlq", "icon": "archive-x", "label": "Dead letters", "value": _number(view.dlq_waiting),
         "hint": "waiting for a decision" if view.dlq_waiting else "queue empty",
         "href": "/admin/dlq" if view.can_open_dlq else "", "tone": "red" if view.dlq_waiting else "gray"},
    ]


def channel_rows(view: Dashboard) -> list[dict]:
    return [{"channel": c.channel, "label": c.label[:1].upper() + c.label[1:], "icon": CHANNEL_ICONS.get(c.channel, "circle"),
             "inbound": _number(c.inbound), "outbound": _number(c.outbound), "delivered": _number(c.delivered),
             "read": _number(c.read), "failed": _number(c.failed), "has_failures": c.failed > 0}
            for c in view.channels]


def campaign_rows(view: Dashboard) -> list[dict]:
    return [{"job_id": c.job_id, "name": c.name, "status_label": c.status_label, "progress": int(c.progress),
             "progress_text": f"{c.progress:g}% of {_number(c.total_recipients)}",
             "icon": CHANNEL_ICONS.get(c.channel, "circle")} for c in view.campaigns]


def headroom_rows(view: Dashboard) -> list[dict]:
    return [{"channel": r.channel, "label": r.label[:1].upper() + r.label[1:], "sender": r.sender, "headroom": int(r.headroom),
             "text": f"{r.available:g} of {r.per_second:g}/s free",
             "tone": "red" if r.headroom < 20 else "orange" if r.headroom < 50 else "green"} for r in view.rate_limits]


class DashboardState(SessionState):
    loading: bool = True
    error: str = ""
    kpis: list[dict] = []
    channels: list[dict] = []
    campaigns: list[dict] = []
    rate_limits: list[dict] = []
    trend: list[dict] = []
    day: str = ""
    updated_at: str = ""
    follow_generation: int = 0

    async def _refresh(self, fresh_contact_ids: tuple[str, ...] = (), fresh_since: float | None = None) -> None:
        try:
            view = await self.run(dashboard_service.dashboard, fresh_contact_ids=fresh_contact_ids, fresh_since=fresh_since)
        except DomainError as error:
            async with self:
                self.loading, self.error = False, error.message
            return
        async with self:
            self.loading, self.error = False, ""
            self.kpis, self.channels = tiles(view), channel_rows(view)
            self.campaigns, self.rate_limits = campaign_rows(view), headroom_rows(view)
            self.trend = [{"label": t.day[5:], "Outbound": t.outbound, "Inbound": t.inbound} for t in view.trend]
            self.day = view.day
            self.updated_at = view.generated_at[11:19] + " UTC"

    @rx.event(background=True)
    async def open_dashboard(self):
        async with self:
            self.loading = not self.kpis
        if not await self.signed_in():
            return None
        await self._refresh()
        return DashboardState.follow

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            contacts = tuple(dict.fromkeys(change.contact_id for change in batch if change.contact_id))
            await self._refresh(contacts, batch.published_at if batch else None)

        await follow_changes(self, "/", refresh, tick=TICK_SECONDS, counted=True, min_refresh=LIVE_MIN_SECONDS)


# ---------------------------------------------------------------- the page


def _tile(tile: rx.Var) -> rx.Component:
    body = rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(tile["icon"].to(str), size=16, color=rx.color("gray", 10)),
                rx.text(tile["label"], size="2", color=rx.color("gray", 11), weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.text(tile["value"], size="7", weight="bold", class_name="kpi-value",
                    color=rx.cond(tile["tone"] == "gray", rx.color("gray", 12), rx.color(tile["tone"].to(str), 11))),
            rx.text(tile["hint"], size="1", color=rx.color("gray", 10)),
            spacing="1",
            align="start",
        ),
        width="100%",
        height="100%",
        _hover={"background": rx.color("gray", 2)},
    )
    return rx.box(
        rx.cond(tile["href"] != "", rx.link(body, href=tile["href"].to(str), underline="none", color="inherit"), body),
        id=tile["id"].to(str),
        class_name="kpi-tile",
    )


def _section(title: str, *children: rx.Component, action: rx.Component | None = None, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(title, size="3"), rx.spacer(), rx.box(action or rx.fragment(), white_space="nowrap"),
                      align="center", width="100%"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        **props,
    )


def _channel_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.hstack(rx.icon(row["icon"].to(str), size=14), rx.text(row["label"]), align="center", spacing="2")),
        rx.table.cell(row["outbound"], text_align="right"),
        rx.table.cell(row["inbound"], text_align="right"),
        rx.table.cell(row["delivered"], text_align="right"),
        rx.table.cell(row["read"], text_align="right"),
        rx.table.cell(rx.text(row["failed"], color=rx.cond(row["has_failures"], rx.color("red", 11), rx.color("gray", 12))),
                      text_align="right"),
        class_name="channel-row channel-row-" + row["channel"].to(str),
    )


def _channels() -> rx.Component:
    head = [rx.table.column_header_cell("Channel")] + [
        rx.table.column_header_cell(title, text_align="right") for title in ("Sent", "Received", "Delivered", "Read", "Failed")
    ]
    return _section(
        "Today by channel",
        rx.table.root(rx.table.header(rx.table.row(*head)), rx.table.body(rx.foreach(DashboardState.channels, _channel_row)),
                      width="100%", size="1", id="dashboard-channels"),
    )


def _trend() -> rx.Component:
    return _section(
        "Last 7 days",
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="label", font_size=12),
            rx.recharts.y_axis(allow_decimals=False, font_size=12, width=40),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="Outbound", fill=rx.color("accent", 9), radius=[3, 3, 0, 0]),
            rx.recharts.bar(data_key="Inbound", fill=rx.color("gray", 8), radius=[3, 3, 0, 0]),
            data=DashboardState.trend,
            height=220,
            width="100%",
        ),
        action=rx.link("Analytics", rx.icon("arrow-right", size=14), href="/analytics", size="2", id="dashboard-analytics-link"),
    )


def _campaign(row: rx.Var) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(rx.icon(row["icon"].to(str), size=14), rx.text(row["name"], weight="medium", size="2"), rx.spacer(),
                      rx.badge(row["status_label"], size="1", variant="soft"), align="center", width="100%"),
            rx.hstack(rx.progress(value=row["progress"].to(int), max=100, size="2", width="100%"),
                      rx.text(row["progress_text"], size="1", color=rx.color("gray", 10), white_space="nowrap"),
                      align="center", width="100%"),
            spacing="1",
            width="100%",
        ),
        href="/bulk/" + row["job_id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
        class_name="dashboard-campaign",
    )


def _campaigns() -> rx.Component:
    return _section(
        "Campaigns in progress",
        rx.cond(DashboardState.campaigns.length() > 0, rx.vstack(rx.foreach(DashboardState.campaigns, _campaign), spacing="3", width="100%"),
                rx.text("No campaign is sending right now.", size="2", color=rx.color("gray", 10))),
        action=rx.link("All campaigns", rx.icon("arrow-right", size=14), href="/bulk", size="2"),
    )


def _headroom(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(row["label"], size="2", weight="medium"), rx.spacer(),
                  rx.text(row["text"], size="1", color=rx.color("gray", 10)), width="100%"),
        rx.progress(value=row["headroom"].to(int), max=100, size="1", color_scheme=row["tone"].to(str)),
        spacing="1",
        width="100%",
        class_name="rate-headroom",
    )


def _rate_limits() -> rx.Component:
    return _section(
        "Rate-limit headroom",
        rx.vstack(rx.foreach(DashboardState.rate_limits, _headroom), spacing="3", width="100%"),
        rx.text("How much of each sender's burst is free now.", size="1", color=rx.color("gray", 9)),
    )


def _body() -> rx.Component:
    return rx.vstack(
        rx.grid(rx.foreach(DashboardState.kpis, _tile), columns=rx.breakpoints(initial="2", sm="3", lg="4"), spacing="3",
                width="100%", id="dashboard-kpis"),
        rx.grid(_channels(), _trend(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
        rx.grid(_campaigns(), _rate_limits(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
        spacing="4",
        width="100%",
    )


def home_page() -> rx.Component:
    return signed_in_page(
        "Overview",
        rx.cond(
            DashboardState.error != "",
            empty_state("circle-alert", "The dashboard could not be read", DashboardState.error),
            loading_block(DashboardState.loading, _body()),
        ),
        subtitle=rx.cond(DashboardState.day != "",
                         f"Today ({DashboardState.day}, UTC) · live · updated {DashboardState.updated_at}", "Today, live"),
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, home_page, route="/", title="Overview", on_load=DashboardState.open_dashboard)
