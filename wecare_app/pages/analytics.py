"""/analytics (every role): messaging over 7, 30 or 90 days or a range of your own: volume per channel, the
delivery funnel, failure reasons, first-response times and campaign results, and the range as CSV. Every figure
comes from the message counters (backend/services/analytics/reports.py), so the charts still cover days whose
messages have expired."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.analytics import reports
from backend.services.analytics.reports import Analytics
from wecare_app.components.controls import segment_value
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import add_signed_in_page, field_error, signed_in_page
from wecare_app.state.feedback import error_toast, field_errors
from wecare_app.state.session_state import SessionState

RANGE_CHOICES = (("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("custom", "Custom"))
CHANNEL_COLORS = {"whatsapp": "grass", "sms": "blue", "email": "amber", "voice": "purple"}
# The charts' series are named by their data keys (what the legend and tooltip show).
CHANNEL_NAMES = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "Email", "voice": "Voice"}


class AnalyticsState(SessionState):
    loading: bool = True
    range_name: str = "30d"
    start: str = ""
    end: str = ""
    errors: dict[str, str] = {}
    period: str = ""
    empty: bool = False
    total_outbound: int = 0
    total_inbound: int = 0
    volume: list[dict] = []
    funnel: list[dict] = []
    reasons: list[dict] = []
    response_days: list[dict] = []
    response_buckets: list[dict] = []
    response_summary: str = ""
    campaigns: list[dict] = []
    exporting: bool = False

    def _query(self) -> dict:
        if self.range_name == "custom":
            return {"start": self.start, "end": self.end or None}
        return {"range_name": self.range_name}

    def _show(self, report: Analytics) -> None:
        self.loading, self.errors = False, {}
        self.period = f"{report.start} to {report.end} ({report.days} days, UTC)"
        self.empty = report.empty
        self.total_outbound, self.total_inbound = report.total_outbound, report.total_inbound
        self.volume = [{"label": v.label, **{name: getattr(v, channel) for channel, name in CHANNEL_NAMES.items()}}
                       for v in report.volume]
        self.funnel = [{"label": f.label, "count": f.count, "Messages": f.count, "step": f.step,
                        "share": "—" if f.share is None else f"{f.share:g}%"}
                       for f in report.funnel]
        self.reasons = [{**r.model_dump(), "channel": CHANNEL_NAMES.get(r.channel, r.channel)} for r in report.failure_reasons]
        self.response_days = [{"label": d.label, "Average minutes": d.average_minutes} for d in report.response_days]
        self.response_buckets = [{"label": b.label, "Responses": b.count} for b in report.response_buckets]
        self.response_summary = (
            f"{report.responses:,} first responses, "
            + (f"{report.average_response_minutes:g} min" if report.average_response_minutes >= 1 else "under a minute")
            + " on average"
            if report.responses else "No first responses in this range."
        )
        self.campaigns = [{**c.model_dump(), "channel": CHANNEL_NAMES.get(c.channel, c.channel)} for c in report.campaigns]

    async def _load(self) -> None:
        async with self:
            self.loading, query = True, self._query()
        try:
            report = await self.run(reports.analytics, **query)
        except DomainError as error:
            async with self:
                self.loading, self.errors = False, field_errors(error)
            return
        async with self:
            self._show(report)

    @rx.event(background=True)
    async def open_page(self):
        if await self.signed_in():
            await self._load()

    @rx.event(background=True)
    async def set_range(self, value: str | list[str]):
        async with self:
            self.range_name = segment_value(value)
            custom = self.range_name == "custom"
        if not custom:
            await self._load()

    @rx.event
    def set_start(self, value: str):
        self.start = value

    @rx.event
    def set_end(self, value: str):
        self.end = value

    @rx.event(background=True)
    async def apply_custom(self):
        await self._load()

    @rx.event(background=True)
    async def export(self):
        async with self:
            if self.exporting:
                return None
            self.exporting, query = True, self._query()
        try:
            text = await self.run(reports.export_csv, **query)
        except DomainError as error:
            async with self:
                self.exporting = False
            return error_toast(error)
        async with self:
            self.exporting = False
            name = f"wecare-analytics-{self.range_name}.csv"
        return rx.download(data=text, filename=name)


# ---------------------------------------------------------------- the page


def _card(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="3"), *children, spacing="3", width="100%"), width="100%", **props)


def _controls() -> rx.Component:
    return rx.hstack(
        rx.segmented_control.root(
            *[rx.segmented_control.item(label, value=value) for value, label in RANGE_CHOICES],
            value=AnalyticsState.range_name,
            on_change=AnalyticsState.set_range,
            id="analytics-range",
        ),
        rx.cond(
            AnalyticsState.range_name == "custom",
            rx.hstack(
                rx.vstack(rx.input(type="date", value=AnalyticsState.start, on_change=AnalyticsState.set_start,
                                   id="analytics-start", aria_label="From"),
                          field_error(AnalyticsState.errors.get("start", "")), spacing="1"),
                rx.text("to", size="2"),
                rx.vstack(rx.input(type="date", value=AnalyticsState.end, on_change=AnalyticsState.set_end,
                                   id="analytics-end", aria_label="To"),
                          field_error(AnalyticsState.errors.get("end", "")), spacing="1"),
                rx.button("Apply", on_click=AnalyticsState.apply_custom, id="analytics-apply"),
                align="start",
                spacing="2",
            ),
        ),
        rx.spacer(),
        rx.button(rx.icon("download", size=16), "Export CSV", variant="soft", on_click=AnalyticsState.export,
                  loading=AnalyticsState.exporting, id="analytics-export"),
        width="100%",
        align="start",
        wrap="wrap",
        spacing="3",
    )


def _volume() -> rx.Component:
    return _card(
        "Volume per channel",
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="label", font_size=12, min_tick_gap=16),
            rx.recharts.y_axis(allow_decimals=False, font_size=12, width=48),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            *[rx.recharts.bar(data_key=name, stack_id="volume", fill=rx.color(CHANNEL_COLORS[channel], 9))
              for channel, name in CHANNEL_NAMES.items()],
            data=AnalyticsState.volume,
            height=280,
            width="100%",
        ),
        rx.text(f"{AnalyticsState.total_outbound} sent · {AnalyticsState.total_inbound} received (both directions shown)",
                size="1", color=rx.color("gray", 10)),
        id="analytics-volume",
    )


def _funnel_row(step: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(step["label"]),
        rx.table.cell(step["count"], text_align="right"),
        rx.table.cell(step["share"], text_align="right"),
        class_name="funnel-step funnel-step-" + step["step"].to(str),
    )


def _funnel() -> rx.Component:
    return _card(
        "Delivery funnel",
        rx.recharts.bar_chart(
            rx.recharts.x_axis(type_="number", hide=True),
            rx.recharts.y_axis(data_key="label", type_="category", width=80, font_size=12),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key="Messages", fill=rx.color("accent", 9), radius=[0, 3, 3, 0]),
            data=AnalyticsState.funnel,
            layout="vertical",
            height=180,
            width="100%",
        ),
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Step"), rx.table.column_header_cell("Messages", text_align="right"),
                                         rx.table.column_header_cell("Share", text_align="right"))),
            rx.table.body(rx.foreach(AnalyticsState.funnel, _funnel_row)),
            size="1",
            width="100%",
        ),
        rx.text("Shares of the messages sent; failed: of those sent or failed.", size="1", color=rx.color("gray", 9)),
        id="analytics-funnel",
    )


def _reasons() -> rx.Component:
    return _card(
        "Failure reasons",
        rx.cond(
            AnalyticsState.reasons.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Error code"), rx.table.column_header_cell("Channel"),
                                             rx.table.column_header_cell("Messages", text_align="right"))),
                rx.table.body(rx.foreach(AnalyticsState.reasons, lambda r: rx.table.row(
                    rx.table.cell(rx.code(r["code"])), rx.table.cell(r["channel"]), rx.table.cell(r["count"], text_align="right"),
                    class_name="failure-reason"))),
                size="1",
                width="100%",
            ),
            rx.text("No failures in this range.", size="2", color=rx.color("gray", 10)),
        ),
        id="analytics-reasons",
    )


def _responses() -> rx.Component:
    return _card(
        "First-response time",
        rx.text(AnalyticsState.response_summary, size="2", id="analytics-response-summary"),
        rx.recharts.line_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="label", font_size=12, min_tick_gap=16),
            rx.recharts.y_axis(font_size=12, width=40, unit="m"),
            rx.recharts.graphing_tooltip(),
            rx.recharts.line(data_key="Average minutes", stroke=rx.color("accent", 9), connect_nulls=True, type_="monotone"),
            data=AnalyticsState.response_days,
            height=180,
            width="100%",
        ),
        rx.recharts.bar_chart(
            rx.recharts.x_axis(data_key="label", font_size=11),
            rx.recharts.y_axis(allow_decimals=False, font_size=12, width=40),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key="Responses", fill=rx.color("gray", 8), radius=[3, 3, 0, 0]),
            data=AnalyticsState.response_buckets,
            height=160,
            width="100%",
        ),
        rx.text("From a customer's first unanswered message to a person's reply.", size="1", color=rx.color("gray", 9)),
        id="analytics-responses",
    )


def _campaign_row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(c["name"], href="/bulk/" + c["job_id"].to(str))),
        rx.table.cell(c["channel"]),
        *[rx.table.cell(c[key], text_align="right") for key in ("recipients", "sent", "delivered", "read", "failed", "skipped")],
        class_name="campaign-result",
    )


def _campaigns() -> rx.Component:
    numbers = ("Recipients", "Sent", "Delivered", "Read", "Failed", "Skipped")
    return _card(
        "Campaign results",
        rx.cond(
            AnalyticsState.campaigns.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Campaign"), rx.table.column_header_cell("Channel"),
                                             *[rx.table.column_header_cell(n, text_align="right") for n in numbers])),
                rx.table.body(rx.foreach(AnalyticsState.campaigns, _campaign_row)),
                size="1",
                width="100%",
            ),
            rx.text("No campaign finished in this range.", size="2", color=rx.color("gray", 10)),
        ),
        id="analytics-campaigns",
    )


def _charts() -> rx.Component:
    return rx.cond(
        AnalyticsState.empty,
        empty_state("chart-no-axes-column", "Nothing counted in this range",
                    "Messages sent and received in these days will show here. Try a longer range."),
        rx.vstack(
            _volume(),
            rx.grid(_funnel(), _reasons(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
            rx.grid(_responses(), _campaigns(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
            spacing="4",
            width="100%",
        ),
    )


def analytics_page() -> rx.Component:
    return signed_in_page(
        "Analytics",
        _controls(),
        rx.text(AnalyticsState.period, size="2", color=rx.color("gray", 10), id="analytics-period"),
        loading_block(AnalyticsState.loading, _charts()),
        subtitle="Messaging over time, from the counters (kept after messages expire)",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, analytics_page, route="/analytics", title="Analytics", on_load=AnalyticsState.open_page)
