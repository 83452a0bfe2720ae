"""/contacts: search-as-you-type over name prefix, phone or email, with paging and an empty state."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import contacts
from wecare_app.components.controls import data_table, results, search_input, token_pager
from wecare_app.components.shell import empty_state
from wecare_app.pages.contacts.display import contact_summary
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.state.paging import TokenPaging
from wecare_app.state.session_state import SessionState

PAGE_SIZE = 25


class ContactListState(TokenPaging, SessionState):
    query: str = ""
    rows: list[dict[str, str]] = []

    @rx.event(background=True)
    async def search(self, value: str):
        return await self._filter_by(query=value)

    def _page_query(self) -> str:
        return self.query

    async def _load_page(self, query: str, token: str):
        return await self.run(contacts.search_contacts, query, limit=PAGE_SIZE, next_token=token or None)

    def _show_page(self, page) -> None:
        self.rows = [contact_summary(c) for c in page.items]

    def _page_failed(self, error: DomainError) -> None:
        self.rows = []


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
    return data_table(("Name", "Phone", "Email", "Consent", "Tags", "Added"), ContactListState.rows, _row)


def _pager() -> rx.Component:
    return token_pager(
        ContactListState.page_number,
        ContactListState.next_token,
        ContactListState.previous_page,
        ContactListState.next_page,
        next_id="contacts-next",
        justify="end",
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
    return results(
        ContactListState.loading,
        ContactListState.rows,
        rx.vstack(_table(), _pager(), width="100%"),
        nothing,
    )


def contacts_list_page() -> rx.Component:
    return signed_in_page(
        "Contacts",
        search_input(
            ContactListState.query,
            ContactListState.search,
            "Search by name, phone or email…",
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
