"""/bulk/[job_id]/recipients: a campaign's recipients, filterable by status and paged, with each one's message
and error; the whole list as CSV (cells a spreadsheet would run are defused by the service)."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.campaigns import jobs
from wecare_app.components.controls import data_table, token_pager
from wecare_app.components.formatting import utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.bulk.display import RECIPIENT_COLORS
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.paging import TokenPaging
from wecare_app.state.session_state import SessionState

STATUS_CHOICES = (("all", "Every status"), *((s, jobs.RECIPIENT_LABELS[s]) for s in jobs.RECIPIENT_STATUSES))


def recipient_row(recipient: jobs.Recipient) -> dict[str, str]:
    return {
        "contact_id": recipient.contact_id,
        "name": recipient.name or recipient.contact_id,
        "address": recipient.address or "—",
        "status": recipient.status,
        "status_label": recipient.status_label,
        "status_color": RECIPIENT_COLORS.get(recipient.status, "gray"),
        "attempt": str(recipient.attempt + 1) if recipient.attempt else "",
        "error": recipient.error or "",
        "reason": recipient.reason or "",
        "updated": utc_stamp(recipient.updated_at),
    }


class RecipientsState(TokenPaging, SessionState):
    rows: list[dict[str, str]] = []
    job_id: str = ""
    status_filter: str = "all"
    job_name: str = ""
    missing: str = ""
    exporting: bool = False

    def _job_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 2)[-2]

    def _page_query(self):
        return {"job_id": self._job_id(), "status": None if self.status_filter == "all" else self.status_filter}

    async def _load_page(self, query, token):
        if not self.job_name:
            job = await self.run(jobs.get_job, query["job_id"])
            async with self:
                self.job_name = job.name
        return await self.run(jobs.list_recipients, query["job_id"], status=query["status"], limit=50, next_token=token or None)

    def _show_page(self, page):
        self.rows = [recipient_row(r) for r in page.items]
        self.missing = ""

    def _page_failed(self, error: DomainError) -> None:
        self.missing = error.message

    @rx.event(background=True)
    async def open_list(self):
        async with self:
            self.job_name, self.status_filter, self.job_id = "", "all", self._job_id()
        return await self._refresh(restart=True)

    @rx.event(background=True)
    async def set_status_filter(self, value: str):
        return await self._filter_by(status_filter=value)

    @rx.event(background=True)
    async def export(self):
        async with self:
            job_id, self.exporting = self._job_id(), True
        try:
            text = await self.run(jobs.export_recipients_csv, job_id)
        except DomainError as error:
            async with self:
                self.exporting = False
            return error_toast(error)
        async with self:
            self.exporting = False
        return rx.download(data=text, filename=f"campaign-{job_id[:8]}-recipients.csv")


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["name"], href="/inbox/" + row["contact_id"].to(str), size="2")),
        rx.table.cell(rx.text(row["address"], size="2", font_family="monospace")),
        rx.table.cell(rx.hstack(rx.badge(row["status_label"], color_scheme=row["status_color"].to(str), variant="soft"),
                                rx.cond(row["attempt"] != "", rx.text("round ", row["attempt"], size="1", color=rx.color("gray", 10))),
                                spacing="2", align="center")),
        rx.table.cell(rx.text(row["error"], size="1", color=rx.color("red", 11), max_width="360px")),
        rx.table.cell(rx.text(row["updated"], size="1", color=rx.color("gray", 10))),
        class_name="recipient-row recipient-" + row["status"].to(str),
        align="center",
    )


def bulk_recipients_page() -> rx.Component:
    controls = rx.hstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text(RecipientsState.job_name), align="center", spacing="1"),
                href="/bulk/" + RecipientsState.job_id),
        rx.spacer(),
        rx.select.root(rx.select.trigger(id="recipient-status"), rx.select.content(*[rx.select.item(label, value=value) for value, label in STATUS_CHOICES]),
                       value=RecipientsState.status_filter, on_change=RecipientsState.set_status_filter),
        rx.button(rx.icon("download", size=14), "Export CSV", variant="soft", on_click=RecipientsState.export, loading=RecipientsState.exporting,
                  id="recipients-export"),
        spacing="3", align="center", width="100%",
    )
    table = data_table(("Contact", "Address", "Status", "Error", "Updated (UTC)"), RecipientsState.rows, _row, id="recipients")
    body = rx.cond(
        RecipientsState.missing != "",
        empty_state("megaphone", "Campaign not found", RecipientsState.missing, rx.link(rx.button("Back to campaigns", variant="soft"), href="/bulk")),
        rx.vstack(
            controls,
            loading_block(RecipientsState.loading, rx.cond(RecipientsState.rows.length() > 0, table,
                                                           rx.text("No recipient in this status.", color=rx.color("gray", 10)))),
            token_pager(RecipientsState.page_number, RecipientsState.next_token, RecipientsState.previous_page, RecipientsState.next_page,
                        justify="end"),
            spacing="4", width="100%",
        ),
    )
    return signed_in_page("Recipients", body, subtitle="Each recipient's status, message and error")
