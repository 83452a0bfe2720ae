"""/contacts/[contact_id]: view and edit a contact, its consent and history; delete with confirmation."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import contacts
from wecare_app.pages.contacts.display import consent_lines, history_line, when
from wecare_app.pages.contacts.form import ContactFormState, contact_fields
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.state.feedback import error_toast


class ContactDetailState(ContactFormState):
    loaded_id: str = ""
    title: str = ""
    created: str = ""
    last_inbound: str = ""
    consent_history: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    missing: bool = False

    @rx.event(background=True)
    async def load(self):
        async with self:
            contact_id = self.router.page.params.get("contact_id", "")
            self.missing = False
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            contact = await self.run(contacts.get_contact, contact_id)
            trail = await self.run(contacts.contact_history, contact_id)
        except DomainError as error:
            async with self:
                self.missing = True
                self.loaded_id = ""
            return error_toast(error)
        async with self:
            self._show(contact, trail)
        return None

    def _show(self, contact, trail) -> None:
        self._fill_form(contact)
        self.loaded_id = contact.contact_id
        self.title = contact.name
        self.created = when(contact.created_at)
        self.last_inbound = when(contact.last_inbound_at) or "never"
        self.consent_history = consent_lines(contact)
        self.history = [history_line(entry) for entry in trail]

    @rx.event(background=True)
    async def save(self):
        async with self:
            self.errors = {}
            contact_id, payload = self.loaded_id, self._form_payload()
        try:
            contact = await self.run(contacts.update_contact, contact_id, payload, via="console")
            trail = await self.run(contacts.contact_history, contact_id)
        except DomainError as error:
            async with self:
                self._show_errors(error)
            return error_toast(error)
        async with self:
            self._show(contact, trail)
        return rx.toast.success("Saved.")

    @rx.event(background=True)
    async def delete(self):
        async with self:
            contact_id, title = self.loaded_id, self.title
        try:
            await self.run(contacts.delete_contact, contact_id, via="console")
        except DomainError as error:
            return error_toast(error)
        return [rx.toast.success(f"{title} deleted."), rx.redirect("/contacts")]


def _delete_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon("trash-2", size=16), "Delete", color_scheme="red", variant="soft", id="contact-delete")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this contact?"),
            rx.alert_dialog.description(
                "They disappear from every list and search, and their phone and email become free for a new contact. "
                "The audit trail keeps the record.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=ContactDetailState.delete, id="contact-delete-confirm")),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
    )


def _history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("History", size="3"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("When", "What", "Who", "Fields")])),
                rx.table.body(
                    rx.foreach(
                        ContactDetailState.history,
                        lambda h: rx.table.row(
                            rx.table.cell(h["at"]), rx.table.cell(h["action"]), rx.table.cell(h["who"]), rx.table.cell(h["fields"])
                        ),
                    )
                ),
                size="1",
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
        max_width="760px",
    )


def _consent_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Consent record", size="3"),
            rx.foreach(
                ContactDetailState.consent_history,
                lambda c: rx.hstack(
                    rx.text(c["channel"], weight="medium", width="90px", size="2"),
                    rx.badge(c["state"], color_scheme=rx.cond(c["state"] == "opted in", "green", "gray")),
                    rx.text(c["detail"], size="2", color=rx.color("gray", 10)),
                    align="center",
                ),
            ),
            rx.text("Last inbound message: ", ContactDetailState.last_inbound, size="2", color=rx.color("gray", 10)),
            spacing="2",
        ),
        width="100%",
        max_width="760px",
    )


def contact_detail_page() -> rx.Component:
    return signed_in_page(
        rx.cond(ContactDetailState.missing, "Contact not found", ContactDetailState.title),
        rx.cond(
            ContactDetailState.missing,
            rx.callout("This contact does not exist or was deleted.", icon="info", color_scheme="gray"),
            rx.vstack(
                rx.card(
                    rx.vstack(
                        contact_fields(read_only=~ContactDetailState.can_write),
                        writers_only(
                            rx.hstack(
                                _delete_button(),
                                rx.spacer(),
                                rx.button("Save changes", on_click=ContactDetailState.save, id="contact-save"),
                                width="100%",
                            )
                        ),
                        spacing="5",
                    ),
                    width="100%",
                    max_width="760px",
                ),
                _consent_card(),
                _history(),
                spacing="4",
                width="100%",
            ),
        ),
        actions=rx.link(rx.button(rx.icon("arrow-left", size=16), "All contacts", variant="soft"), href="/contacts"),
        subtitle=rx.cond(ContactDetailState.missing, "", "Added " + ContactDetailState.created),
    )
