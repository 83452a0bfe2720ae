"""/contacts: search-as-you-type over name prefix, phone or email, with paging and an empty state."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services import contacts
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.contacts.display import contact_summary
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

PAGE_SIZE = 25


class ContactListState(SessionState):
    query: str = ""
    rows: list[dict[str, str]] = []
    next_token: str = ""
    previous_tokens: list[str] = []
    current_token: str = ""
    loading: bool = True

    @rx.var
    def page_number(self) -> int:
        return len(self.previous_tokens) + 1

    @rx.event
    def load(self):
        self.previous_tokens = []
        self.current_token = ""
        return self._fetch()

    @rx.event
    def search(self, value: str):
        self.query = value
        self.previous_tokens = []
        self.current_token = ""
        return self._fetch()

    @rx.event
    def next_page(self):
        if not self.next_token:
            return None
        self.previous_tokens = [*self.previous_tokens, self.current_token]
        self.current_token = self.next_token
        return self._fetch()

    @rx.event
    def previous_page(self):
        if not self.previous_tokens:
            return None
        self.current_token = self.previous_tokens[-1]
        self.previous_tokens = self.previous_tokens[:-1]
        return self._fetch()

    def _fetch(self):
        actor = self.actor()
        if not actor.is_authenticated:
            return None  # require_session is already redirecting to /login
        self.loading = True
        try:
            page = contacts.search_contacts(
                actor, self.query, limit=PAGE_SIZE, next_token=self.current_token or None
            )
        except DomainError as error:
            self.loading = False
            self.rows = []
            return error_toast(error)
        self.rows = [contact_summary(c) for c in page.items]
        self.next_token = page.next_token or ""
        self.loading = False
        return None


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["name"], href="/contacts/" + row["contact_id"].to(str), weight="medium")),
        rx.table.cell(rx.text(row["phone"], font_family="monospace", size="2")),
        rx.table.cell(rx.text(row["email"], size="2")),
        rx.table.cell(rx.text(row["consent"], size="2", color=rx.color("gray", 11))),
        rx.table.cell(rx.text(row["tags"], size="2", color=rx.color("gray", 11))),
        rx.table.cell(rx.text(row["created"], size="2", color=rx.color("gray", 10))),
        class_name="contact-row",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[rx.table.column_header_cell(h) for h in ("Name", "Phone", "Email", "Consent", "Tags", "Added")]
            )
        ),
        rx.table.body(rx.foreach(ContactListState.rows, _row)),
        width="100%",
        variant="surface",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=16),
            "Previous",
            variant="soft",
            disabled=ContactListState.page_number == 1,
            on_click=ContactListState.previous_page,
        ),
        rx.text("Page ", ContactListState.page_number, size="2", color=rx.color("gray", 10)),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16),
            variant="soft",
            disabled=ContactListState.next_token == "",
            on_click=ContactListState.next_page,
            id="contacts-next",
        ),
        justify="end",
        width="100%",
        align="center",
    )


def _results() -> rx.Component:
    nothing = rx.cond(
        ContactListState.query == "",
        empty_state(
            "users",
            "No contacts yet",
            "Add people one by one or import a CSV file.",
            writers_only(
                rx.hstack(
                    rx.link(rx.button("New contact"), href="/contacts/new"),
                    rx.link(rx.button("Import CSV", variant="soft"), href="/contacts/import"),
                )
            ),
        ),
        empty_state("search-x", "No matches", "Search by the start of a name, a full phone number or a full email."),
    )
    return loading_block(
        ContactListState.loading & (ContactListState.rows.length() == 0),
        rx.cond(ContactListState.rows.length() > 0, rx.vstack(_table(), _pager(), width="100%"), nothing),
    )


def contacts_list_page() -> rx.Component:
    return signed_in_page(
        "Contacts",
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search by name, phone or email…",
            value=ContactListState.query,
            on_change=ContactListState.search,
            debounce_timeout=250,
            width="100%",
            max_width="480px",
            size="3",
            id="contacts-search",
        ),
        _results(),
        actions=writers_only(
            rx.hstack(
                rx.link(rx.button(rx.icon("upload", size=16), "Import CSV", variant="soft"), href="/contacts/import"),
                rx.link(rx.button(rx.icon("plus", size=16), "New contact", id="new-contact-button"), href="/contacts/new"),
            )
        ),
        subtitle="People you message, with their consent per channel",
    )
