"""/contacts/import: upload a CSV, preview every row's verdict, choose what to do with duplicates, import
with a progress bar, read the summary. Reading and writing run in background events off the event loop."""
from __future__ import annotations

import asyncio
import logging

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import importer as contact_import
from backend.services.contacts.importer import DuplicatePolicy, ImportPlan, RowStatus
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState
from wecare_app.state.uploads import read_upload

log = logging.getLogger(__name__)
PREVIEW_ROWS = 50
PROBLEM_ROWS = 200
UPLOAD_ID = "contacts-csv"
MAX_FILE_BYTES = contact_import.MAX_BYTES  # the upload guard's cap for receive_file (wecare_app.py)

_STATUS_LABEL = {
    RowStatus.NEW: "new",
    RowStatus.EXISTING: "already exists",
    RowStatus.DUPLICATE: "merged",
    RowStatus.INVALID: "invalid",
}


class _Progress:
    """Written by the import thread, read by the background event that pushes it to the browser."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total


def _row_view(row) -> dict[str, str]:
    fields = row.fields
    return {
        "line": str(row.line),
        "name": fields.name if fields else row.raw.get("name", "") or row.raw.get("first_name", ""),
        "phone": (fields.phone if fields else row.raw.get("phone", "")) or "",
        "email": (fields.email if fields else row.raw.get("email", "")) or "",
        "status": _STATUS_LABEL[row.status],
        "reason": "; ".join(f"{e['field']}: {e['reason']}" for e in row.errors),
    }


class ContactImportState(SessionState):
    stage: str = "upload"  # upload | reading | preview | importing | done
    file_name: str = ""
    columns: str = ""
    ignored: str = ""
    counts: dict[str, int] = {}
    preview: list[dict[str, str]] = []
    problems: list[dict[str, str]] = []
    policy: str = DuplicatePolicy.SKIP.value
    done: int = 0
    total: int = 0
    summary: dict[str, int] = {}
    failures: list[dict[str, str]] = []
    _upload: bytes = b""
    _plan: ImportPlan | None = None

    @rx.var
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @rx.event
    def reset_import(self):
        self.stage = "upload"
        self.file_name = self.columns = self.ignored = ""
        self.counts, self.summary = {}, {}
        self.preview, self.problems, self.failures = [], [], []
        self.done = self.total = 0
        self._upload, self._plan = b"", None

    @rx.event
    def set_policy(self, value: str):
        self.policy = value

    @rx.event
    async def receive_file(self, files: list[rx.UploadFile]):
        """The role (as this session last read it) and the declared size are checked before a byte of the file
        is read; `plan_import` checks the role again."""
        if not self.can_write:
            return rx.toast.error("Importing contacts needs the Operator or Admin role.")
        if not files:
            return rx.toast.error("Choose a CSV file first.")
        upload = files[0]
        try:
            data = await read_upload(upload, MAX_FILE_BYTES)
        except DomainError as error:
            return error_toast(error)
        self.file_name = upload.name or "upload.csv"
        self._upload = data
        self.stage = "reading"
        return ContactImportState.read_file

    @rx.event(background=True)
    async def read_file(self):
        async with self:
            data, self._upload = self._upload, b""  # the state keeps no copy of the file past this point
            file_name = self.file_name  # each imported contact's history names it
        try:
            plan = await self.run(contact_import.plan_import, data, file_name)
        except DomainError as error:
            async with self:
                self.stage = "upload"
            yield error_toast(error)
            return
        except Exception:  # noqa: BLE001 - never leave the page stuck on "reading"
            log.exception("reading an import file failed")
            async with self:
                self.stage = "upload"
            yield rx.toast.error("The file could not be read; nothing was imported. Check it is a CSV file.", close_button=True)
            return
        async with self:
            self._plan = plan
            self.columns = ", ".join(f"{k} → {v}" for k, v in plan.columns.items())
            self.ignored = ", ".join(plan.ignored_columns)
            self.counts = {status.value: plan.count(status) for status in RowStatus} | {"total": len(plan.rows)}
            self.preview = [_row_view(r) for r in plan.rows[:PREVIEW_ROWS]]
            self.problems = [_row_view(r) for r in plan.rows if r.errors][:PROBLEM_ROWS]
            self.stage = "preview"

    @rx.event(background=True)
    async def start_import(self):
        async with self:
            if self._plan is None or self.stage != "preview":
                return
            plan, policy = self._plan, DuplicatePolicy(self.policy)
            self.stage = "importing"
        progress = _Progress()
        job = asyncio.create_task(self.run(contact_import.run_import, plan, policy, progress))
        while not job.done():
            await asyncio.sleep(0.25)
            async with self:
                self.done, self.total = progress.done, progress.total
        try:
            summary = job.result()
        except DomainError as error:
            async with self:
                self.stage = "preview"
            yield error_toast(error)
            return
        async with self:
            self.done, self.total = progress.done, progress.total
            self.summary = {
                "created": summary.created,
                "updated": summary.updated,
                "skipped": summary.skipped,
                "merged": summary.merged,
                "invalid": summary.invalid,
                "failed": len(summary.failed),
            }
            self.failures = [{"line": str(f["line"]), "reason": f["reason"]} for f in summary.failed[:PROBLEM_ROWS]]
            self._plan = None
            self.stage = "done"
        yield rx.toast.success(f"Import finished: {summary.created} created, {summary.updated} updated.")


def _stat(label: str, value, color: str = "gray") -> rx.Component:
    return rx.card(
        rx.vstack(rx.text(label, size="1", color=rx.color("gray", 10)), rx.heading(value, size="6", color=rx.color(color, 11)), spacing="1"),
        min_width="130px",
    )


def _rows_table(rows, with_reason: bool = True) -> rx.Component:
    headers = ["Line", "Name", "Phone", "Email", "Verdict"] + (["Reason"] if with_reason else [])
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.cell(r["line"]),
                    rx.table.cell(r["name"]),
                    rx.table.cell(r["phone"]),
                    rx.table.cell(r["email"]),
                    rx.table.cell(
                        rx.badge(
                            r["status"],
                            color_scheme=rx.match(r["status"], ("new", "green"), ("already exists", "blue"), ("merged", "amber"), "red"),
                        )
                    ),
                    *([rx.table.cell(rx.text(r["reason"], size="1"))] if with_reason else []),
                ),
            )
        ),
        size="1",
        width="100%",
        variant="surface",
    )


def _upload_stage() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.upload.root(
                rx.vstack(
                    rx.icon("file-spreadsheet", size=32, color=rx.color("accent", 10)),
                    rx.text("Drop a CSV file here or click to choose one", weight="medium"),
                    rx.text(
                        "Columns: name (or first/last name), phone, email, tags, and optional opt-in columns for WhatsApp, SMS, email, voice. "
                        "Comma, semicolon or tab separated; UTF-8 with or without BOM.",
                        size="2",
                        color=rx.color("gray", 10),
                        text_align="center",
                    ),
                    rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.badge(f, variant="soft")),
                    align="center",
                    spacing="2",
                ),
                id=UPLOAD_ID,
                accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                max_files=1,
                max_size=MAX_FILE_BYTES,
                border=f"2px dashed {rx.color('gray', 7)}",
                border_radius="12px",
                padding="40px",
                width="100%",
                cursor="pointer",
            ),
            rx.button(
                "Read file",
                on_click=ContactImportState.receive_file(rx.upload_files(upload_id=UPLOAD_ID)),
                disabled=rx.selected_files(UPLOAD_ID).length() == 0,
                id="import-read",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _preview_stage() -> rx.Component:
    counts = ContactImportState.counts
    return rx.vstack(
        rx.hstack(
            _stat("Rows", counts["total"]),
            _stat("New", counts["new"], "green"),
            _stat("Already exist", counts["existing"], "blue"),
            _stat("Merged (same phone/email)", counts["duplicate_in_file"], "amber"),
            _stat("Invalid", counts["invalid"], "red"),
            wrap="wrap",
            spacing="3",
        ),
        rx.text("Columns: ", ContactImportState.columns, size="2", color=rx.color("gray", 10)),
        rx.cond(
            ContactImportState.ignored != "",
            rx.text("Ignored columns: ", ContactImportState.ignored, size="2", color=rx.color("amber", 11)),
            rx.fragment(),
        ),
        rx.card(
            rx.vstack(
                rx.text("Rows that match an existing contact (same phone or email):", size="2", weight="medium"),
                rx.radio_group(
                    ["skip", "update"],
                    value=ContactImportState.policy,
                    on_change=ContactImportState.set_policy,
                    direction="row",
                    id="import-policy",
                ),
                rx.text(
                    "skip leaves them as they are; update sets the name, adds tags and applies the file's consent columns.",
                    size="1",
                    color=rx.color("gray", 10),
                ),
                rx.hstack(
                    rx.button("Choose another file", variant="soft", color_scheme="gray", on_click=ContactImportState.reset_import),
                    rx.button("Import ", counts["new"], " new contacts", on_click=ContactImportState.start_import, id="import-run"),
                    spacing="3",
                ),
                spacing="3",
            ),
            width="100%",
        ),
        rx.cond(
            ContactImportState.problems.length() > 0,
            rx.vstack(rx.heading("Rows to check (not imported, or merged into an earlier line)", size="3"), _rows_table(ContactImportState.problems), width="100%"),
            rx.fragment(),
        ),
        rx.heading("First rows", size="3"),
        _rows_table(ContactImportState.preview, with_reason=False),
        spacing="4",
        width="100%",
    )


def _progress_stage() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Importing… ", ContactImportState.done, " of ", ContactImportState.total, weight="medium"),
            rx.progress(value=ContactImportState.percent, width="100%", id="import-progress"),
            rx.text("You can leave this page; the import continues.", size="1", color=rx.color("gray", 10)),
            width="100%",
        ),
        width="100%",
    )


def _done_stage() -> rx.Component:
    summary = ContactImportState.summary
    return rx.vstack(
        rx.hstack(
            _stat("Created", summary["created"], "green"),
            _stat("Updated", summary["updated"], "blue"),
            _stat("Skipped", summary["skipped"]),
            _stat("Merged", summary["merged"], "amber"),
            _stat("Not imported", summary["invalid"], "red"),
            _stat("Failed", summary["failed"], "red"),
            wrap="wrap",
            spacing="3",
            id="import-summary",
        ),
        rx.cond(
            ContactImportState.failures.length() > 0,
            rx.foreach(ContactImportState.failures, lambda f: rx.text("Line ", f["line"], ": ", f["reason"], size="2")),
            rx.fragment(),
        ),
        rx.hstack(
            rx.link(rx.button("Go to contacts"), href="/contacts"),
            rx.button("Import another file", variant="soft", on_click=ContactImportState.reset_import),
        ),
        spacing="4",
        width="100%",
    )


def contact_import_page() -> rx.Component:
    return signed_in_page(
        "Import contacts",
        rx.cond(
            ~SessionState.can_write,
            rx.callout("Importing contacts needs the Operator or Admin role.", icon="lock", color_scheme="gray"),
            rx.fragment(),
        ),
        rx.match(
            ContactImportState.stage,
            ("reading", rx.card(rx.hstack(rx.spinner(), rx.text("Reading and checking ", ContactImportState.file_name, "…")), width="100%")),
            ("preview", _preview_stage()),
            ("importing", _progress_stage()),
            ("done", _done_stage()),
            rx.cond(SessionState.can_write, _upload_stage(), rx.fragment()),
        ),
        subtitle="Nothing is written until you confirm the preview",
    )
