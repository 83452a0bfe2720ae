"""The contact form shared by /contacts/new and /contacts/[contact_id]: fields, consent switches, errors."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts.schemas import Contact
from wecare_app.pages.layout import field_error
from wecare_app.state.feedback import field_errors
from wecare_app.state.session_state import SessionState


class ContactFormState(SessionState):
    form_name: str = ""
    form_phone: str = ""
    form_email: str = ""
    form_tags: str = ""
    form_whatsapp: bool = False
    form_sms: bool = False
    form_email_consent: bool = False
    form_voice: bool = False
    errors: dict[str, str] = {}
    saving: bool = False

    @rx.event
    def set_form_name(self, value: str):
        self.form_name = value

    @rx.event
    def set_form_phone(self, value: str):
        self.form_phone = value

    @rx.event
    def set_form_email(self, value: str):
        self.form_email = value

    @rx.event
    def set_form_tags(self, value: str):
        self.form_tags = value

    @rx.event
    def set_form_whatsapp(self, value: bool):
        self.form_whatsapp = value

    @rx.event
    def set_form_sms(self, value: bool):
        self.form_sms = value

    @rx.event
    def set_form_email_consent(self, value: bool):
        self.form_email_consent = value

    @rx.event
    def set_form_voice(self, value: bool):
        self.form_voice = value

    def _clear_form(self) -> None:
        self._fill_form(None)

    def _fill_form(self, contact: Contact | None) -> None:
        self.form_name = contact.name if contact else ""
        self.form_phone = (contact.phone or "") if contact else ""
        self.form_email = (contact.email or "") if contact else ""
        self.form_tags = ", ".join(contact.tags) if contact else ""
        self.form_whatsapp = contact.opt_in_whatsapp if contact else False
        self.form_sms = contact.opt_in_sms if contact else False
        self.form_email_consent = contact.opt_in_email if contact else False
        self.form_voice = contact.opt_in_voice if contact else False
        self.errors = {}

    def _form_payload(self) -> dict:
        return {
            "name": self.form_name,
            "phone": self.form_phone.strip() or None,
            "email": self.form_email.strip() or None,
            "tags": [t for t in self.form_tags.split(",") if t.strip()],
            "optInWhatsApp": self.form_whatsapp,
            "optInSms": self.form_sms,
            "optInEmail": self.form_email_consent,
            "optInVoice": self.form_voice,
        }

    def _show_errors(self, error: DomainError) -> None:
        self.errors = field_errors(error)


def _text_field(label: str, value, on_change, error_key: str, element_id: str, hint: str = "", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(value=value, on_change=on_change, width="100%", id=element_id, **props),
        rx.text(hint, size="1", color=rx.color("gray", 10)) if hint else rx.fragment(),
        field_error(ContactFormState.errors.get(error_key, "")),
        spacing="1",
        width="100%",
    )


def _consent_switch(label: str, checked, on_change, error_key: str, element_id: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.switch(checked=checked, on_change=on_change, id=element_id, disabled=~SessionState.can_write),
            rx.text(label, size="2"),
            align="center",
        ),
        field_error(ContactFormState.errors.get(error_key, "")),
        spacing="1",
    )


def contact_fields(read_only=False) -> rx.Component:
    disabled = {"read_only": read_only} if read_only is not False else {}
    return rx.vstack(
        rx.grid(
            _text_field(
                "Name", ContactFormState.form_name, ContactFormState.set_form_name, "name", "contact-name",
                hint="Optional: without one, the contact is shown by its phone or email", **disabled,
            ),
            _text_field(
                "Phone",
                ContactFormState.form_phone,
                ContactFormState.set_form_phone,
                "phone",
                "contact-phone",
                hint="International format, e.g. +44 7911 123456",
                **disabled,
            ),
            _text_field("Email", ContactFormState.form_email, ContactFormState.set_form_email, "email", "contact-email", **disabled),
            _text_field(
                "Tags", ContactFormState.form_tags, ContactFormState.set_form_tags, "tags", "contact-tags", hint="Comma separated", **disabled
            ),
            columns="2",
            spacing="4",
            width="100%",
        ),
        rx.text("Consent", size="2", weight="medium"),
        rx.hstack(
            _consent_switch("WhatsApp", ContactFormState.form_whatsapp, ContactFormState.set_form_whatsapp, "optInWhatsApp", "consent-whatsapp"),
            _consent_switch("SMS", ContactFormState.form_sms, ContactFormState.set_form_sms, "optInSms", "consent-sms"),
            _consent_switch("Email", ContactFormState.form_email_consent, ContactFormState.set_form_email_consent, "optInEmail", "consent-email"),
            _consent_switch("Voice calls", ContactFormState.form_voice, ContactFormState.set_form_voice, "optInVoice", "consent-voice"),
            spacing="6",
        ),
        rx.text(
            "Consent is for the address it was given on: a new phone number or email starts not opted in.",
            size="1",
            color=rx.color("gray", 10),
        ),
        spacing="4",
        width="100%",
    )
