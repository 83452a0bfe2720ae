"""/contacts/new: create a contact; errors appear beside their field."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import contacts
from wecare_app.pages.contacts.form import ContactFormState, contact_fields
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState


class NewContactState(ContactFormState):
    @rx.event
    def start(self):
        self._clear_form()

    @rx.event(background=True)
    async def create(self):
        async with self:
            self.errors = {}
            payload = self._form_payload()
        try:
            contact = await self.run(contacts.create_contact, payload, via="console")
        except DomainError as error:
            async with self:
                self._show_errors(error)
            return error_toast(error)
        async with self:
            self._clear_form()
        return [rx.toast.success(f"{contact.name} added."), rx.redirect(f"/contacts/{contact.contact_id}")]


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            contact_fields(),
            rx.hstack(
                rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href="/contacts"),
                rx.button("Create contact", on_click=NewContactState.create, id="contact-create"),
                justify="end",
                width="100%",
            ),
            spacing="5",
        ),
        width="100%",
        max_width="760px",
    )


def new_contact_page() -> rx.Component:
    """A Viewer sees why there is no form instead of one that fails on submit (the service refuses regardless)."""
    return signed_in_page(
        "New contact",
        rx.cond(
            SessionState.can_write,
            _form(),
            rx.callout(
                "Creating contacts needs the Operator or Admin role. You can browse contacts on the Contacts page.",
                icon="lock",
                color_scheme="gray",
                id="contact-read-only",
            ),
        ),
        subtitle="A phone number or an email is required; consent is off until you switch it on",
    )
