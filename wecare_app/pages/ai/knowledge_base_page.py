"""/ai/knowledge-base: the documents AI answers come from. Every signed-in role sees where answers are retrieved
from, the counts and the documents with their state (queued, indexing, indexed, or failed with the reason in
red); Admins drop a document to upload it (a progress bar while it travels, then the service checks its type and
queues it), re-index and delete it (behind a confirmation), and on an empty install load the sample handbook
with one click. What may be done is the service's answer (`KnowledgeBase.can_manage`, `can_load_sample`).

Indexing runs on the server's background thread; while any document is queued or indexing, the page reads the
list again every second (`watch`) so the badges move live, and stops when none is pending or the page is left.
Every service call runs off the event loop."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

import reflex as rx

from backend.errors import DomainError
from backend.services.ai import knowledge_base
from backend.services.ai.knowledge_base import MAX_DOCUMENT_BYTES, TYPES_TEXT, KnowledgeBase
from wecare_app.components.controls import data_table
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.ai.display import document_row, upload_accept
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import client_connected
from wecare_app.state.session_state import SessionState, forget_event_actor
from wecare_app.state.uploads import FileDrop, drop_zone

ROUTE = "/ai/knowledge-base"
MAX_FILE_BYTES = MAX_DOCUMENT_BYTES  # the upload guard's cap for receive_file (wecare_app.py)
POLL_SECONDS = 1.0
MAX_POLLS = 600  # ten minutes of a document stuck in "indexing" is a server problem, not something to watch forever
_HOVER_THROUGH = {"&:disabled": {"pointer_events": "none"}}


class KnowledgeBaseState(FileDrop, SessionState):
    upload_id: ClassVar[str] = "kb-upload"
    upload_limit: ClassVar[int] = MAX_FILE_BYTES
    upload_noun: ClassVar[str] = "document"
    upload_wrong_type: ClassVar[str] = f"not a {TYPES_TEXT} document"
    loading: bool = True
    load_error: str = ""
    rows: list[dict] = []
    documents: int = 0
    passages: int = 0
    indexed: int = 0
    failed: int = 0
    pending: int = 0  # queued or indexing
    retrieval: str = ""
    can_manage: bool = False
    manage_reason: str = ""
    can_load_sample: bool = False
    loading_sample: bool = False
    busy: str = ""  # the document a re-index or delete is running for
    watching: bool = False  # the live loop is running
    # the delete confirmation
    confirm_open: bool = False
    confirm_id: str = ""
    confirm_title: str = ""
    _load_request: int = 0

    @rx.var
    def passages_text(self) -> str:
        return f"{self.passages:,}"

    # ------------------------------------------------------------ loading

    def _show(self, listed: KnowledgeBase) -> None:
        """Under the lock: the service's view of the knowledge base."""
        now = datetime.now().astimezone()
        self.loading, self.load_error = False, ""
        self.rows = [document_row(document, now) for document in listed.documents]
        self.documents = len(listed.documents)
        self.passages = listed.passages
        self.indexed = listed.counts.get("indexed", 0)
        self.failed = listed.counts.get("failed", 0)
        self.pending = listed.counts.get("queued", 0) + listed.counts.get("indexing", 0)
        self.retrieval = listed.retrieval
        self.can_manage = listed.can_manage
        self.manage_reason = listed.manage_reason
        self.can_load_sample = listed.can_load_sample

    async def _reload(self):
        """List again; an older read's answer never overwrites a newer one's. Starts the live loop while
        documents are pending (returned as the event to run)."""
        async with self:
            self._load_request += 1
            request = self._load_request
        try:
            listed = await self.run(knowledge_base.list_documents)
        except DomainError as error:
            async with self:
                if request == self._load_request:
                    self.loading, self.load_error = False, error.message
            return error_toast(error)
        async with self:
            if request != self._load_request:
                return None
            self._show(listed)
            start = self.pending > 0 and not self.watching
        return KnowledgeBaseState.watch if start else None

    @rx.event(background=True)
    async def open_page(self):
        async with self:
            self.loading, self.load_error, self.confirm_open, self.busy = True, "", False, ""
            if not self.uploading:
                self.upload_stage, self.upload_error, self.upload_percent = "", "", 0
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        return await self._reload()

    @rx.event(background=True)
    async def retry(self):
        async with self:
            self.loading = True
        return await self._reload()

    @rx.event(background=True)
    async def watch(self):
        """While documents are queued or indexing: read the list every POLL_SECONDS. One loop a tab; it ends
        when none is pending, the tab leaves the page or disconnects, or the session ends."""
        async with self:
            if self.watching:
                return
            self.watching = True
            client_token = self.router.session.client_token
        try:
            for _ in range(MAX_POLLS):
                await asyncio.sleep(POLL_SECONDS)
                if not client_connected(client_token):
                    return
                async with self:
                    if self.router.url.path.rstrip("/") != ROUTE:
                        return
                forget_event_actor()  # the session is read again each time: a revoked one stops the loop
                try:
                    listed = await self.run(knowledge_base.list_documents)
                except DomainError:
                    return
                async with self:
                    self._load_request += 1  # a read started before this one must not overwrite it
                    self._show(listed)
                    if self.pending == 0:
                        return
        finally:
            async with self:
                self.watching = False

    # ------------------------------------------------------------ upload (FileDrop's hooks)

    def _upload_refusal(self) -> str:
        return "" if self.can_manage else self.manage_reason or "Only an Admin can add documents."

    async def _store(self, upload: tuple[str, bytes, str]) -> None:
        await self.run(knowledge_base.upload_document, *upload)  # checks the type against the bytes, then queues it

    async def _uploaded(self, name: str):
        watch = await self._reload()
        return [rx.toast.success(f"{name} uploaded; it is being indexed."), *([watch] if watch else [])]

    # ------------------------------------------------------------ sample, re-index, delete

    @rx.event(background=True)
    async def load_sample(self):
        async with self:
            if self.loading_sample:
                return None
            self.loading_sample = True
        try:
            loaded = await self.run(knowledge_base.load_sample)
        except DomainError as error:
            async with self:
                self.loading_sample = False
            return error_toast(error)
        watch = await self._reload()
        async with self:
            self.loading_sample = False
        added = f"{loaded.added} document{'' if loaded.added == 1 else 's'}"
        toast = rx.toast.success(f"Sample handbook loaded: {added} added; they are being indexed." if loaded.added
                                 else "The sample handbook is already loaded.")
        return [toast, *([watch] if watch else [])]

    async def _start(self, document_id: str) -> bool:
        """Mark the document busy; False when a change is already running (a double click does nothing)."""
        async with self:
            if self.busy:
                return False
            self.busy = document_id
            return True

    @rx.event(background=True)
    async def reindex(self, document_id: str):
        if not await self._start(document_id):
            return None
        try:
            document = await self.run(knowledge_base.reindex_document, document_id)
        except DomainError as error:
            async with self:
                self.busy = ""
            await self._reload()
            return error_toast(error)
        watch = await self._reload()
        async with self:
            self.busy = ""
        return [rx.toast.success(f"“{document.title}” is being indexed again."), *([watch] if watch else [])]

    @rx.event
    def ask_delete(self, document_id: str, title: str):
        self.confirm_id, self.confirm_title, self.confirm_open = document_id, title, True

    @rx.event
    def set_confirm_open(self, value: bool):
        self.confirm_open = value

    @rx.event(background=True)
    async def confirm_delete(self):
        async with self:
            document_id, title = self.confirm_id, self.confirm_title
        if not document_id or not await self._start(document_id):
            return None
        try:
            await self.run(knowledge_base.delete_document, document_id)
        except DomainError as error:
            async with self:
                self.busy, self.confirm_open = "", False
            await self._reload()
            return error_toast(error)
        async with self:
            self.confirm_open, self.confirm_id = False, ""
        await self._reload()
        async with self:
            self.busy = ""
        return rx.toast.success(f"“{title}” deleted; answers no longer cite it.")


# ---------------------------------------------------------------- components


def _stat(label: str, value: rx.Var, stat_id: str, color: str = "gray", shown: rx.Var | None = None) -> rx.Component:
    """A count under its label (`shown`: as written, when not the bare number), in its colour once above zero."""
    return rx.vstack(
        rx.text(label, size="1", color=rx.color("gray", 10)),
        rx.heading(shown if shown is not None else value, size="5",
                   color=rx.cond(value > 0, rx.color(color, 11), rx.color("gray", 11)), id=stat_id),
        spacing="0",
        min_width="90px",
    )


def _summary() -> rx.Component:
    S = KnowledgeBaseState
    return rx.card(
        rx.hstack(
            rx.hstack(
                rx.icon("database", size=20, color=rx.color("accent", 10)),
                rx.vstack(
                    rx.text("Answers are retrieved from", size="1", color=rx.color("gray", 10)),
                    rx.text(S.retrieval, size="2", weight="medium", id="kb-retrieval"),
                    spacing="0",
                ),
                align="center",
                spacing="3",
            ),
            rx.spacer(),
            rx.hstack(
                _stat("Documents", S.documents, "kb-count-documents"),
                _stat("Passages", S.passages, "kb-count-passages", shown=S.passages_text),
                _stat("Indexed", S.indexed, "kb-count-indexed", "green"),
                _stat("Failed", S.failed, "kb-count-failed", "red"),
                rx.cond(S.pending > 0, _stat("Pending", S.pending, "kb-count-pending", "blue"), rx.fragment()),
                spacing="5",
                wrap="wrap",
            ),
            align="center",
            width="100%",
            wrap="wrap",
            spacing="4",
        ),
        width="100%",
        id="kb-summary",
    )


def _drop_zone() -> rx.Component:
    rules = rx.text(f"{TYPES_TEXT}, up to {MAX_FILE_BYTES // (1024 * 1024)} MB. Its text is cut into passages and indexed in the "
                    "background; its status shows in the list below.", size="1", color=rx.color("gray", 10), text_align="center",
                    id="kb-upload-rules")
    return drop_zone(KnowledgeBaseState, "file-up", "Drop a document here, or click to choose one", rules,
                     accept=upload_accept(), zone_id="kb-drop-zone", padding="20px")


def _status(row: rx.Var) -> rx.Component:
    return rx.badge(
        rx.cond(row["pending"].to(bool), rx.spinner(size="1"), rx.fragment()),
        row["status_label"],
        color_scheme=row["status_color"].to(str),
        variant="soft",
        class_name="kb-status",
    )


def _actions(row: rx.Var) -> rx.Component:
    S = KnowledgeBaseState
    doc_id = row["document_id"].to(str)
    reindex = rx.tooltip(
        rx.button(rx.icon("refresh-cw", size=14), "Re-index", size="1", variant="soft",
                  loading=S.busy == doc_id, disabled=S.busy != "", style=_HOVER_THROUGH,
                  on_click=S.reindex(doc_id), class_name="kb-reindex"),
        content="Read the document again and rebuild its passages",
    )
    delete = rx.button(rx.icon("trash-2", size=14), "Delete", size="1", variant="soft", color_scheme="red",
                       disabled=S.busy != "", style=_HOVER_THROUGH, on_click=S.ask_delete(doc_id, row["title"].to(str)),
                       class_name="kb-delete")
    return rx.cond(row["can_manage"].to(bool), rx.hstack(reindex, delete, spacing="2", align="center"), rx.fragment())


def _document(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row["title"], weight="medium", size="2", class_name="kb-title"),
            rx.cond(row["sample"].to(bool), rx.badge("sample", size="1", variant="outline", color_scheme="gray"), rx.fragment()),
            spacing="2",
            align="center",
        ),
        rx.text(row["filename"], size="1", color=rx.color("gray", 10), class_name="kb-filename", word_break="break-all"),
        spacing="0",
    )


def _row(row: rx.Var) -> rx.Component:
    S = KnowledgeBaseState
    cells = [
        rx.table.cell(_document(row)),
        rx.table.cell(rx.badge(row["type"], size="1", variant="outline", color_scheme="gray")),
        rx.table.cell(rx.text(row["size"], size="2", white_space="nowrap")),
        rx.table.cell(_status(row)),
        rx.table.cell(rx.text(row["passages"], size="2", class_name="kb-passages")),
        rx.table.cell(rx.text(row["uploaded"], size="2", white_space="nowrap", title=row["uploaded_at"].to(str))),
    ]
    failure = rx.table.row(
        rx.table.cell(
            rx.hstack(rx.icon("circle-alert", size=14, flex_shrink="0"), rx.text(row["error"], size="1", class_name="kb-error"),
                      spacing="2", align="center", color=rx.color("red", 11)),
            col_span=7,
            padding_top="0",
            padding_bottom="12px",
            height="auto",
        ),
        class_name="kb-error-row",
        id="kb-error-" + row["document_id"].to(str),
    )
    return rx.fragment(
        rx.table.row(
            *cells,
            rx.cond(S.can_manage, rx.table.cell(_actions(row)), rx.fragment()),
            align="center",
            class_name=rx.cond(row["failed"].to(bool), "kb-row kb-row-failed", "kb-row"),
            id="kb-row-" + row["document_id"].to(str),
            style={"&.kb-row-failed > td": {"box_shadow": "none"}},  # the reason underneath belongs to this row
        ),
        rx.cond(row["failed"].to(bool), failure, rx.fragment()),
    )


def _table() -> rx.Component:
    S = KnowledgeBaseState
    columns = ["Document", "Type", "Size", "Status", "Passages", "Uploaded",
               rx.cond(S.can_manage, rx.table.column_header_cell("Actions"), rx.fragment())]
    return data_table(columns, S.rows, _row, id="kb-table")


def _nothing() -> rx.Component:
    S = KnowledgeBaseState
    return rx.cond(
        S.can_load_sample,
        empty_state(
            "library", "The knowledge base is empty",
            "Upload your company's own documents above, or start with the sample handbook of a fictional shop "
            "(opening hours, delivery, returns and refunds, pricing, payment, support) to see AI answers at once.",
            rx.button(rx.icon("book-open", size=16), "Load the sample handbook", on_click=S.load_sample,
                      loading=S.loading_sample, id="kb-load-sample"),
        ),
        empty_state("library", "No documents yet",
                    "AI answers come from the documents listed here. An Admin can add documents to the knowledge base."),
    )


def _confirm_dialog() -> rx.Component:
    S = KnowledgeBaseState
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this document?"),
            rx.alert_dialog.description("“", S.confirm_title, "”, its file and its passages are removed for good; answers stop "
                                        "citing it at once. This cannot be undone."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=S.confirm_delete, loading=S.busy != "", id="kb-delete-confirm"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=S.confirm_open,
        on_open_change=S.set_confirm_open,
    )


def _assistant_link() -> rx.Component:
    return rx.cond(
        KnowledgeBaseState.indexed > 0,
        rx.link(rx.button(rx.icon("message-circle-question", size=16), "Ask the assistant", variant="soft"), href="/ai/assistant",
                id="kb-ask"),
        rx.fragment(),
    )


def ai_knowledge_base_page() -> rx.Component:
    S = KnowledgeBaseState
    error = rx.callout.root(
        rx.callout.icon(rx.icon("circle-alert")),
        rx.callout.text("The knowledge base could not be loaded: ", S.load_error),
        rx.button("Try again", size="1", variant="soft", on_click=S.retry, id="kb-retry", width="fit-content"),
        color_scheme="red", width="100%", id="kb-load-error",
    )
    content = rx.vstack(
        _summary(),
        rx.cond(S.can_manage, _drop_zone(),
                rx.callout(S.manage_reason, icon="info", color_scheme="gray", size="1", width="100%", id="kb-manage-reason")),
        rx.cond(S.rows.length() > 0, _table(), _nothing()),
        spacing="4",
        width="100%",
    )
    body = rx.vstack(
        rx.cond(S.load_error != "", error, loading_block(S.loading & (S.rows.length() == 0), content)),
        _confirm_dialog(),
        spacing="4",
        width="100%",
    )
    return signed_in_page("Knowledge base", body, actions=_assistant_link(),
                          subtitle="The documents AI answers come from, and how far each is indexed")
