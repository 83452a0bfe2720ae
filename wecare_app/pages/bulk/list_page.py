"""/bulk: every campaign with its live progress, and /bulk/scheduled: the ones waiting for their time, to
reschedule or cancel. Both refresh while a campaign moves: on its messages' changes (the change feed) and,
while one is preparing or sending, every two seconds on the server (no browser polling)."""
from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from backend.errors import DomainError
from backend.services.campaigns import jobs
from wecare_app.components.controls import confirm_dialog, data_table, segment_value, token_pager
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.bulk.display import channel_tag, job_view, progress_bar, status_badge
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.paging import TokenPaging
from wecare_app.state.session_state import SessionState

LIVE_TICK_SECONDS = 2.0
STATUS_FILTERS = (("all", "All"), ("sending", "Sending"), ("scheduled", "Scheduled"), ("paused", "Paused"),
                  ("finished", "Finished"), ("cancelled", "Cancelled"))


class JobRows(TokenPaging, mixin=True):
    """A page of jobs, kept live."""

    rows: list[dict] = []
    follow_generation: int = 0

    def _status(self) -> str | None:
        return None

    def _page_query(self):
        return {"status": self._status()}

    async def _load_page(self, query, token):
        return await self.run(jobs.list_jobs, status=query["status"], limit=25, next_token=token or None)

    def _show_page(self, page):
        self.rows = [job_view(job) for job in page.items]

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            async with self:
                shown = {row["job_id"] for row in self.rows}
                live = any(row["live"] for row in self.rows)
            if (batch and any(c.job_id in shown for c in batch)) or (not batch and live):
                await self._refresh()

        await follow_changes(self, self._prefix(), refresh, tick=LIVE_TICK_SECONDS)

    def _prefix(self) -> str:
        return "/bulk"

    async def _act(self, job_id: str, change: dict, done: str):
        try:
            await self.run(jobs.change_job, job_id, change)
        except DomainError as error:
            return error_toast(error)
        await self._refresh()
        return rx.toast.success(done)


class BulkListState(JobRows, SessionState):
    status_filter: str = "all"

    def _status(self) -> str | None:
        return None if self.status_filter == "all" else self.status_filter

    @rx.event(background=True)
    async def open_list(self):
        await self._refresh(restart=True)
        return BulkListState.follow

    @rx.event(background=True)
    async def set_status_filter(self, value: str | list[str]):
        return await self._filter_by(status_filter=segment_value(value))


class ScheduledState(JobRows, SessionState):
    reschedule_job: str = ""
    reschedule_at: str = ""  # datetime-local text, UTC

    def _status(self) -> str | None:
        return "scheduled"

    def _prefix(self) -> str:
        return "/bulk/scheduled"

    @rx.event(background=True)
    async def open_list(self):
        await self._refresh(restart=True)
        return ScheduledState.follow

    @rx.event
    def start_reschedule(self, job_id: str, current: str):
        self.reschedule_job, self.reschedule_at = job_id, current  # the job's time as a datetime-local value (UTC)

    @rx.event
    def set_reschedule_at(self, value: str):
        self.reschedule_at = value

    @rx.event
    def close_reschedule(self, open_: bool = False):
        if not open_:
            self.reschedule_job = ""

    @rx.event(background=True)
    async def save_reschedule(self):
        async with self:
            job_id, text = self.reschedule_job, self.reschedule_at
        try:
            when = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        except ValueError:
            return rx.toast.error("Choose a date and a time.")
        result = await self._act(job_id, {"action": "reschedule", "scheduledAt": when.isoformat()}, "Rescheduled")
        async with self:
            self.reschedule_job = ""
        return result

    @rx.event(background=True)
    async def cancel_job(self, job_id: str):
        return await self._act(job_id, {"action": "cancel"}, "Campaign cancelled")


# ---------------------------------------------------------------- components


def _name_cell(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.link(row["name"], href="/bulk/" + row["job_id"].to(str), weight="medium", class_name="job-link"),
        rx.text("Created ", row["created"], size="1", color=rx.color("gray", 10)),
        spacing="0",
    )


def _job_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_name_cell(row)),
        rx.table.cell(channel_tag(row)),
        rx.table.cell(status_badge(row)),
        rx.table.cell(rx.box(progress_bar(row), min_width="160px")),
        rx.table.cell(rx.text(row["sent"], " / ", row["total"], size="2")),
        rx.table.cell(rx.text(row["failed"], size="2", color=rx.cond(row["failed"] != "0", rx.color("red", 11), rx.color("gray", 10)))),
        rx.table.cell(rx.text(row["rate"], size="2", color=rx.color("gray", 11))),
        class_name="job-row",
        align="center",
    )


def _new_button() -> rx.Component:
    return writers_only(rx.link(rx.button(rx.icon("plus", size=16), "New campaign"), href="/bulk/new"))


def bulk_list_page() -> rx.Component:
    filters = rx.segmented_control.root(
        *[rx.segmented_control.item(label, value=value) for value, label in STATUS_FILTERS],
        value=BulkListState.status_filter, on_change=BulkListState.set_status_filter, size="1", id="bulk-status-filter",
    )
    table = data_table(("Campaign", "Channel", "Status", "Progress", "Sent", "Failed", "Rate"), BulkListState.rows, _job_row, id="bulk-jobs")
    nothing = empty_state("megaphone", "No campaigns yet",
                          "A campaign sends one message to many contacts on one channel, at the rate the provider allows.",
                          _new_button())
    body = rx.vstack(
        rx.hstack(filters, rx.spacer(), align="center", width="100%"),
        loading_block(BulkListState.loading, rx.cond(BulkListState.rows.length() > 0, table, nothing)),
        token_pager(BulkListState.page_number, BulkListState.next_token, BulkListState.previous_page, BulkListState.next_page, justify="end"),
        spacing="4",
        width="100%",
    )
    return signed_in_page("Campaigns", body, actions=_new_button(), subtitle="Progress updates live while a campaign sends")


def _scheduled_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_name_cell(row)),
        rx.table.cell(channel_tag(row)),
        rx.table.cell(rx.text(row["scheduled"], size="2", class_name="job-scheduled")),
        rx.table.cell(rx.text(row["total"], size="2")),
        rx.table.cell(writers_only(rx.hstack(
            rx.button(rx.icon("calendar-clock", size=14), "Reschedule", size="1", variant="soft",
                      on_click=ScheduledState.start_reschedule(row["job_id"], row["scheduled_input"]), disabled=~row["can_reschedule"].to(bool)),
            confirm_dialog(
                "Cancel this campaign?", "It will not start, and its recipients get nothing. This cannot be undone.",
                rx.button("Cancel campaign", color_scheme="red", on_click=ScheduledState.cancel_job(row["job_id"])),
                trigger=rx.button(rx.icon("x", size=14), "Cancel", size="1", variant="soft", color_scheme="red",
                                  disabled=~row["can_cancel"].to(bool)),
                cancel_label="Keep it"),
            spacing="2",
        ))),
        class_name="scheduled-row",
        align="center",
    )


def _reschedule_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Reschedule"),
            rx.dialog.description("The new time, in UTC.", size="2"),
            rx.input(type="datetime-local", value=ScheduledState.reschedule_at, on_change=ScheduledState.set_reschedule_at,
                     margin_top="12px", id="reschedule-at"),
            rx.hstack(
                rx.dialog.close(rx.button("Keep", variant="soft", color_scheme="gray")),
                rx.button("Save", on_click=ScheduledState.save_reschedule, id="reschedule-save"),
                justify="end", spacing="3", margin_top="16px",
            ),
        ),
        open=ScheduledState.reschedule_job != "",
        on_open_change=ScheduledState.close_reschedule,
    )


def bulk_scheduled_page() -> rx.Component:
    table = data_table(("Campaign", "Channel", "Starts (UTC)", "Recipients", ""), ScheduledState.rows, _scheduled_row, id="scheduled-jobs")
    nothing = empty_state("calendar-clock", "Nothing scheduled", "Campaigns given a start time wait here until then.", _new_button())
    body = rx.vstack(
        loading_block(ScheduledState.loading, rx.cond(ScheduledState.rows.length() > 0, table, nothing)),
        token_pager(ScheduledState.page_number, ScheduledState.next_token, ScheduledState.previous_page, ScheduledState.next_page, justify="end"),
        _reschedule_dialog(),
        spacing="4",
        width="100%",
    )
    return signed_in_page("Scheduled campaigns", body, actions=_new_button(), subtitle="They start on their own at their time")
