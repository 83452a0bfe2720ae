"""/admin/audit (Admins): the audit log, readable. Filter by user (email or id), action (a prefix, with the known
actions suggested), resource and dates; the entries newest first, with "Load more"; one entry's before and after
side by side in a dialog; the filtered log as CSV. Entries are kept for 180 days.

Which index answers and how much a request may read are the service's (backend/services/platform/audit_log.py):
a page that stopped at its read limit says how far back it searched, and "Load more" searches on. Every call
runs off the event loop."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import reflex as rx

from backend.errors import DomainError, PermissionDenied, ValidationError
from backend.services.platform import audit_log
from backend.services.platform.audit_log import ACTIONS, DEFAULT_DAYS, RESOURCE_TYPES, RETENTION_DAYS, AuditEntryDetail, AuditLogEntry, AuditPage
from wecare_app.components.controls import clear_filters_button, data_table, filter_bar, labelled
from wecare_app.components.formatting import utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import add_signed_in_page, signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

__all__ = ["AuditLogState", "admin_audit_page", "register"]

PAGE_SIZE = 50
DENIED = "Only administrators can read the audit log."
KEPT = f"Entries are kept for {RETENTION_DAYS} days, then deleted."
ROLE_COLORS = {"Admin": "crimson", "Operator": "blue", "Viewer": "gray"}
FILTERS = ("user_filter", "action_filter", "resource_type", "resource_id", "start_day", "end_day")


def _day(value) -> str:
    return value.strftime("%d %b %Y") if value else ""


def entry_row(entry: AuditLogEntry) -> dict[str, str]:
    """How one entry reads in the table: plain strings only."""
    who = entry.actor_email or entry.actor_id
    role = entry.actor_role or ("system" if entry.actor_id.startswith("system") else "")
    return {
        "entry_id": entry.entry_id,
        "time": entry.at.strftime("%d %b, %H:%M"),
        "time_full": utc_stamp(entry.at),
        "who": who,
        "who_id": entry.actor_id,
        "role": role,
        "role_color": ROLE_COLORS.get(role, "gray"),
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "changed": ", ".join(entry.changed_fields) or "—",
        "before_after": "yes" if entry.has_before_after else "",
    }


def detail_view(entry: AuditEntryDetail) -> dict[str, str]:
    """The dialog's heading facts."""
    return {
        **entry_row(entry),
        "audit_id": entry.audit_id,
        "kept_until": _day(entry.expires_at),
    }


def searched_note(page: AuditPage) -> str:
    """What the list says when a read limit, not the end of the range, stopped a request (empty otherwise)."""
    if not page.truncated:
        return ""
    back_to = f" back to {_day(page.searched_to)}" if page.searched_to else ""
    found = f" ({page.examined:,} entries read)" if page.examined else ", no entries there"
    return f"Searched{back_to}{found}. Load more searches further back, to {_day(page.start)}."


def export_note(count: int, complete: bool) -> str:
    stopped = (f" (an export stops at {audit_log.EXPORT_MAX:,} rows or {audit_log.EXPORT_READ_MAX:,} entries read: "
               "narrow the filters or the dates for the rest)") if not complete else ""
    return f"Exported {count:,} entr{'y' if count == 1 else 'ies'}{stopped}."


class AuditLogState(SessionState):
    user_filter: str = ""
    action_filter: str = ""
    resource_type: str = ""
    resource_id: str = ""
    start_day: str = ""  # YYYY-MM-DD; empty: the service's default (the last 7 days)
    end_day: str = ""
    rows: list[dict[str, str]] = []
    next_token: str = ""
    loading: bool = True  # the first page of a search
    loading_more: bool = False
    denied: str = ""
    filter_error: str = ""  # the service refused a filter: its message (it names the field)
    load_error: str = ""  # the log could not be read
    read_note: str = ""  # a read limit stopped the last request: how far back it searched
    range_label: str = ""  # the dates searched, as the service took them
    oldest_day: str = ""  # the date inputs' bounds: what the table keeps
    newest_day: str = ""
    exporting: bool = False
    detail_open: bool = False
    detail_loading: bool = False
    detail: dict[str, str] = {}
    detail_changes: list[dict[str, str]] = []  # field, before, after, changed ("yes"/"")
    detail_facts: list[dict[str, str]] = []  # key, value
    _request: int = 0  # the newest search's number: an older answer is dropped
    _filters_used: dict[str, str] = {}  # the filters of the rows on screen (Load more continues them)

    @rx.var
    def filtered(self) -> bool:
        return bool(self.user_filter.strip() or self.action_filter.strip() or self.resource_type.strip() or self.resource_id.strip()
                    or self.start_day or self.end_day)

    # -- filters (plain setters: no service call)

    @rx.event
    def set_user_filter(self, value: str):
        self.user_filter = value

    @rx.event
    def set_action_filter(self, value: str):
        self.action_filter = value

    @rx.event
    def set_resource_type(self, value: str):
        self.resource_type = value

    @rx.event
    def set_resource_id(self, value: str):
        self.resource_id = value

    @rx.event
    def set_start_day(self, value: str):
        self.start_day = value

    @rx.event
    def set_end_day(self, value: str):
        self.end_day = value

    # -- loading

    @rx.event(background=True)
    async def load(self):
        """on_load: the last week, newest first."""
        return await self._search()

    @rx.event(background=True)
    async def search(self, form_data: dict | None = None):
        """The Search button (or Enter in a filter): the first page of what the filters choose."""
        return await self._search()

    @rx.event(background=True)
    async def clear_filters(self):
        async with self:
            for name in FILTERS:
                setattr(self, name, "")
        return await self._search()

    def _snapshot(self) -> dict[str, str]:
        """Under the lock: the filters as the service takes them."""
        return {
            "user": self.user_filter.strip(),
            "action": self.action_filter.strip(),
            "resource_type": self.resource_type.strip(),
            "resource_id": self.resource_id.strip(),
            "start": self.start_day,
            "end": self.end_day,
        }

    async def _search(self):
        async with self:
            self._request += 1
            ticket = self._request
            filters = self._snapshot()
            self.loading, self.filter_error, self.load_error, self.read_note = True, "", "", ""
            today = datetime.now(timezone.utc).date()
            self.oldest_day, self.newest_day = (today - timedelta(days=RETENTION_DAYS)).isoformat(), today.isoformat()
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            page = await self.run(audit_log.search_audit, **_asked(filters), limit=PAGE_SIZE)
        except DomainError as error:
            async with self:
                if ticket != self._request:
                    return None
                self.loading, self.rows, self.next_token = False, [], ""
                return self._failed(error)
        async with self:
            if ticket != self._request:
                return None  # a newer search is on its way
            self.denied, self._filters_used = "", filters
            self.rows = [entry_row(entry) for entry in page.items]
            self._show_page(page)
            self.loading = False
        return None

    @rx.event(background=True)
    async def load_more(self):
        """The next page of the same search, below the rows on screen."""
        async with self:
            if self.loading_more or not self.next_token:
                return None
            self.loading_more = True
            ticket, filters, token = self._request, dict(self._filters_used), self.next_token
        try:
            page = await self.run(audit_log.search_audit, **_asked(filters), limit=PAGE_SIZE, next_token=token)
        except DomainError as error:
            async with self:
                self.loading_more = False
            return error_toast(error)
        async with self:
            self.loading_more = False
            if ticket != self._request:
                return None  # the filters changed meanwhile: these rows belong to the old search
            self.rows = [*self.rows, *(entry_row(entry) for entry in page.items)]
            self._show_page(page)
        return None

    def _show_page(self, page: AuditPage) -> None:
        """Under the lock: the token, how far the request searched, the dates it covered."""
        self.next_token = page.next_token or ""
        self.read_note = searched_note(page)
        self.range_label = f"{_day(page.start)} – {_day(page.end)}" if page.start != page.end else _day(page.start)

    def _failed(self, error: DomainError):
        """Under the lock: what a refused search shows; the toast to send, if any."""
        if isinstance(error, PermissionDenied):
            self.denied = DENIED
            return None
        self.range_label = ""
        if isinstance(error, ValidationError):
            self.filter_error = error.message  # shown under the filters, which it names: no toast on top
            return None
        self.load_error = error.message
        return error_toast(error)

    # -- one entry

    @rx.event(background=True)
    async def open_entry(self, entry_id: str):
        async with self:
            self.detail_open, self.detail_loading = True, True
            self.detail = next((row for row in self.rows if row["entry_id"] == entry_id), {})
            self.detail_changes, self.detail_facts = [], []
        try:
            entry = await self.run(audit_log.get_entry, entry_id)
        except DomainError as error:
            async with self:
                self.detail_open, self.detail_loading = False, False
            return error_toast(error)
        async with self:
            self.detail = detail_view(entry)
            self.detail_changes = [{"field": c.field, "before": c.before, "after": c.after, "changed": "yes" if c.changed else ""}
                                   for c in entry.changes]
            self.detail_facts = [{"key": f.key, "value": f.value} for f in entry.facts]
            self.detail_loading = False
        return None

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = value

    # -- export

    @rx.event(background=True)
    async def export(self):
        """The log as the list shows it (the last search's filters) as a CSV download; the service defuses the
        cells and audits the export."""
        async with self:
            if self.exporting:
                return None
            self.exporting = True
            filters = dict(self._filters_used) or self._snapshot()
        try:
            text, count, complete = await self.run(audit_log.export_audit_csv, **_asked(filters))
        except DomainError as error:
            return error_toast(error)
        finally:
            async with self:
                self.exporting = False
        if count == 0:
            return rx.toast.info("No entries match these filters; nothing to export.")
        stamp = filters["end"] or datetime.now(timezone.utc).date().isoformat()
        return [rx.download(data=text, filename=f"audit-log-{stamp}.csv", mime_type="text/csv"),
                rx.toast.success(export_note(count, complete))]


def _asked(filters: dict[str, str]) -> dict[str, str | None]:
    """The filters with the empty ones left out (None: the service's default)."""
    return {name: value or None for name, value in filters.items()}


# ---------------------------------------------------------------- components


def _datalist(list_id: str, values: tuple[str, ...]) -> rx.Component:
    return rx.el.datalist(*[rx.el.option(value=v) for v in values], id=list_id)


def _text_filter(label: str, value, on_change, placeholder: str, element_id: str, width: str, **props) -> rx.Component:
    return labelled(label, rx.input(value=value, on_change=on_change, placeholder=placeholder, size="2", id=element_id, name=element_id, width="100%", **props),
                    width=width)


def _filters() -> rx.Component:
    S = AuditLogState
    return rx.form(
        rx.vstack(
            filter_bar(
                _text_filter("User", S.user_filter, S.set_user_filter, "Email or user id", "audit-user", "190px"),
                _text_filter("Action", S.action_filter, S.set_action_filter, "e.g. contact. or dlq.", "audit-action", "170px",
                             list="audit-actions"),
                _text_filter("Resource type", S.resource_type, S.set_resource_type, "e.g. contact", "audit-resource-type", "130px",
                             list="audit-resource-types"),
                _text_filter("Resource id", S.resource_id, S.set_resource_id, "Its id", "audit-resource-id", "150px"),
                labelled("From", rx.input(type="date", value=S.start_day, on_change=S.set_start_day, min=S.oldest_day, max=S.newest_day,
                                          size="2", id="audit-start", name="audit-start")),
                labelled("To", rx.input(type="date", value=S.end_day, on_change=S.set_end_day, min=S.oldest_day, max=S.newest_day,
                                        size="2", id="audit-end", name="audit-end")),
                rx.button(rx.icon("search", size=14), "Search", type="submit", loading=S.loading, id="audit-search"),
                clear_filters_button(S.filtered, S.clear_filters),
            ),
            _datalist("audit-actions", ACTIONS),
            _datalist("audit-resource-types", RESOURCE_TYPES),
            rx.hstack(
                rx.icon("clock", size=14, color=rx.color("gray", 10)),
                rx.text(
                    rx.cond(S.range_label != "", "Showing " + S.range_label + " (UTC). ", ""),
                    f"Without dates, the last {DEFAULT_DAYS} days. {KEPT}",
                    size="1", color=rx.color("gray", 10), id="audit-retention",
                ),
                align="center", spacing="2",
            ),
            rx.cond(S.filter_error != "",
                    rx.callout(S.filter_error, icon="circle-alert", color_scheme="red", size="1", id="audit-filter-error", width="100%"),
                    rx.fragment()),
            spacing="2",
            width="100%",
        ),
        on_submit=S.search,
        reset_on_submit=False,
        width="100%",
    )


def _who(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(row["who"], size="2", title=row["who_id"], white_space="nowrap", overflow="hidden", text_overflow="ellipsis",
                max_width="220px", class_name="audit-who"),
        rx.cond(row["role"] != "", rx.badge(row["role"], color_scheme=row["role_color"].to(str), variant="soft", size="1"), rx.fragment()),
        spacing="1",
        align="start",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.tooltip(rx.text(row["time"], size="2", white_space="nowrap"), content=row["time_full"])),
        rx.table.cell(_who(row)),
        rx.table.cell(rx.code(row["action"], size="1", variant="ghost", class_name="audit-action")),
        rx.table.cell(rx.vstack(
            rx.text(row["resource_type"], size="1", color=rx.color("gray", 10)),
            rx.text(row["resource_id"], size="2", font_family="monospace", title=row["resource_id"], white_space="nowrap",
                    overflow="hidden", text_overflow="ellipsis", max_width="200px"),
            spacing="0",
        )),
        rx.table.cell(rx.hstack(
            rx.text(row["changed"], size="2", color=rx.color("gray", 11)),
            rx.cond(row["before_after"] != "", rx.tooltip(rx.badge("before/after", size="1", variant="outline"),
                                                           content="This entry shows the values before and after the change."), rx.fragment()),
            spacing="2", align="center", wrap="wrap",
        ), max_width="220px"),
        rx.table.cell(rx.button("Details", size="1", variant="soft", on_click=AuditLogState.open_entry(row["entry_id"]),
                                class_name="audit-open")),
        class_name="audit-row",
        align="center",
    )


def _load_more() -> rx.Component:
    S = AuditLogState
    return rx.vstack(
        rx.cond(S.read_note != "", rx.callout(S.read_note, icon="info", size="1", width="100%", id="audit-read-note"), rx.fragment()),
        rx.hstack(
            rx.text(S.rows.length(), " entries shown", size="2", color=rx.color("gray", 10), id="audit-count"),
            rx.spacer(),
            rx.cond(S.next_token != "",
                    rx.button(rx.icon("chevrons-down", size=14), "Load more", variant="soft", on_click=S.load_more,
                              loading=S.loading_more, id="audit-load-more"),
                    rx.text("End of the range", size="1", color=rx.color("gray", 9))),
            width="100%", align="center",
        ),
        width="100%", spacing="3",
    )


def _nothing() -> rx.Component:
    S = AuditLogState
    return rx.cond(
        S.next_token != "",  # an empty stretch ended by the read limit: more may lie further back
        _load_more(),
        rx.cond(
            S.filtered,
            empty_state("search-x", "No entries match",
                        "Nothing in " + S.range_label + " matches these filters. An action matches by its start (contact. finds "
                        "every contact action); a resource needs its type and id.",
                        rx.button("Clear filters", variant="soft", on_click=S.clear_filters)),
            empty_state("scroll-text", "No entries in these dates",
                        f"Every change anyone makes (and each sign-in, export and replay) is written here. {KEPT}"),
        ),
    )


def _results() -> rx.Component:
    S = AuditLogState
    table = data_table(("Time (UTC)", "Who", "Action", "Resource", "Changed", ""), S.rows, _row, size="1", id="audit-table")
    return rx.cond(
        S.load_error != "",
        empty_state("cloud-off", "The audit log could not be read", S.load_error,
                    rx.button(rx.icon("refresh-cw", size=14), "Try again", variant="soft", on_click=S.search, id="audit-retry")),
        loading_block(S.loading, rx.cond(S.rows.length() > 0, rx.vstack(table, _load_more(), width="100%", spacing="3"),
                                         rx.cond(S.filter_error != "", rx.fragment(), _nothing()))),
    )


def _detail_cell(value, changed) -> rx.Component:
    return rx.table.cell(
        rx.el.pre(value, style={"margin": "0", "white_space": "pre-wrap", "word_break": "break-word", "font_size": "12px"}),
        background=rx.cond(changed != "", rx.color("amber", 2), "transparent"),
    )


def _changes() -> rx.Component:
    S = AuditLogState
    return rx.vstack(
        rx.text("Before and after", size="2", weight="medium"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in ("Field", "Before", "After")])),
            rx.table.body(rx.foreach(S.detail_changes, lambda c: rx.table.row(
                rx.table.cell(rx.hstack(rx.text(c["field"], size="2", weight="medium"),
                                        rx.cond(c["changed"] != "", rx.badge("changed", size="1", color_scheme="amber"), rx.fragment()),
                                        spacing="2", align="center")),
                _detail_cell(c["before"], c["changed"]),
                _detail_cell(c["after"], c["changed"]),
                class_name="audit-change",
            ))),
            variant="surface", size="1", width="100%", id="audit-changes",
        ),
        spacing="2", width="100%",
    )


def _facts() -> rx.Component:
    S = AuditLogState
    return rx.vstack(
        rx.text("Details", size="2", weight="medium"),
        rx.grid(
            rx.foreach(S.detail_facts, lambda f: rx.fragment(
                rx.text(f["key"], size="2", color=rx.color("gray", 10)),
                rx.el.pre(f["value"], style={"margin": "0", "white_space": "pre-wrap", "word_break": "break-word", "font_size": "12px"},
                          class_name="audit-fact"),
            )),
            columns="110px 1fr", spacing="2", width="100%", id="audit-facts",
        ),
        spacing="2", width="100%",
    )


def _heading_fact(label: str, *value: rx.Component) -> rx.Component:
    return rx.fragment(rx.text(label, size="2", color=rx.color("gray", 10)), rx.box(*value))


def _detail_dialog() -> rx.Component:
    S = AuditLogState
    item = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.code(item["action"], variant="ghost", size="5"), id="audit-detail-title"),
            rx.dialog.description(item["time_full"], size="2", color=rx.color("gray", 10)),
            rx.vstack(
                rx.grid(
                    _heading_fact("Who", rx.hstack(rx.text(item["who"], size="2"),
                                                   rx.cond(item["role"] != "", rx.badge(item["role"], size="1", variant="soft",
                                                                                        color_scheme=item["role_color"].to(str)), rx.fragment()),
                                                   spacing="2", align="center")),
                    _heading_fact("Resource", rx.text(item["resource_type"], " · ", rx.code(item["resource_id"], size="1"), size="2")),
                    _heading_fact("Changed", rx.text(item["changed"], size="2")),
                    _heading_fact("Entry", rx.text(item["audit_id"], size="1", font_family="monospace")),
                    _heading_fact("Kept until", rx.text(item["kept_until"], size="2", id="audit-kept-until")),
                    columns="110px 1fr", spacing="2", width="100%",
                ),
                loading_block(S.detail_loading, rx.vstack(
                    rx.cond(S.detail_changes.length() > 0, _changes(), rx.fragment()),
                    rx.cond(S.detail_facts.length() > 0, _facts(), rx.fragment()),
                    rx.cond((S.detail_changes.length() == 0) & (S.detail_facts.length() == 0),
                            rx.text("No further details were recorded for this entry.", size="2", color=rx.color("gray", 10)),
                            rx.fragment()),
                    spacing="4", width="100%",
                )),
                rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", id="audit-detail-close")),
                          justify="end", width="100%"),
                spacing="4", width="100%", margin_top="12px",
            ),
            max_width="820px",
            id="audit-detail",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


def admin_audit_page() -> rx.Component:
    S = AuditLogState
    return signed_in_page(
        "Audit log",
        rx.cond(
            S.denied != "",
            empty_state("shield-alert", "Admins only", S.denied + " It records who changed what; ask an administrator if you need an entry."),
            rx.fragment(_filters(), _results(), _detail_dialog()),
        ),
        actions=rx.cond(
            S.denied != "",
            rx.fragment(),
            rx.button(rx.icon("download", size=16), "Export CSV", variant="soft", on_click=S.export, loading=S.exporting, id="audit-export"),
        ),
        subtitle=f"Who did what to which resource, and when; kept for {RETENTION_DAYS} days",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, admin_audit_page, route="/admin/audit", title="Audit log", on_load=AuditLogState.load)
