"""The state of /templates/new: the form, its live preview and the submission to WhatsApp for review (a provider
call, off the event loop)."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.channels.whatsapp import templates
from wecare_app.pages.templates.display import BODY_MAX, CATEGORIES, FOOTER_MAX, HEADER_MAX, OTHER_LANGUAGE, placeholders, segments
from wecare_app.state.feedback import error_toast, field_errors
from wecare_app.state.session_state import SessionState


def _examples_view(numbers: list[str], examples: dict[str, str]) -> list[dict[str, str]]:
    return [{"number": n, "label": "{{" + n + "}}", "value": examples.get(n, "")} for n in numbers]


class NewTemplateState(SessionState):
    form_name: str = ""
    language_choice: str = "en_US"
    custom_language: str = ""
    category: str = "UTILITY"
    header_text: str = ""
    body_text: str = ""
    footer_text: str = ""
    body_examples: dict[str, str] = {}
    header_examples: dict[str, str] = {}
    errors: dict[str, str] = {}
    saving: bool = False

    @rx.var
    def language(self) -> str:
        return self.custom_language.strip() if self.language_choice == OTHER_LANGUAGE else self.language_choice

    @rx.var
    def body_example_rows(self) -> list[dict[str, str]]:
        return _examples_view(placeholders(self.body_text), self.body_examples)

    @rx.var
    def header_example_rows(self) -> list[dict[str, str]]:
        return _examples_view(placeholders(self.header_text), self.header_examples)

    @rx.var
    def preview_header(self) -> list[dict[str, str]]:
        return segments(self.header_text, self.header_examples)

    @rx.var
    def preview_body(self) -> list[dict[str, str]]:
        return segments(self.body_text, self.body_examples)

    @rx.var
    def category_hint(self) -> str:
        return CATEGORIES.get(self.category, "")

    @rx.var
    def header_count(self) -> str:
        return f"{len(self.header_text)}/{HEADER_MAX}"

    @rx.var
    def body_count(self) -> str:
        return f"{len(self.body_text)}/{BODY_MAX}"

    @rx.var
    def footer_count(self) -> str:
        return f"{len(self.footer_text)}/{FOOTER_MAX}"

    @rx.event
    def load(self):
        """on_load: a blank form each time the page opens."""
        self.form_name = self.custom_language = self.header_text = self.body_text = self.footer_text = ""
        self.language_choice = "en_US"
        self.category = "UTILITY"
        self.body_examples, self.header_examples, self.errors = {}, {}, {}
        self.saving = False

    @rx.event
    def set_form_name(self, value: str):
        # WhatsApp template names are lower case with underscores; typing "Order update" gives order_update.
        self.form_name = value.lower().replace(" ", "_").replace("-", "_")

    @rx.event
    def set_language_choice(self, value: str):
        self.language_choice = value

    @rx.event
    def set_custom_language(self, value: str):
        self.custom_language = value

    @rx.event
    def set_category(self, value: str):
        self.category = value

    @rx.event
    def set_header_text(self, value: str):
        self.header_text = value

    @rx.event
    def set_body_text(self, value: str):
        self.body_text = value

    @rx.event
    def set_footer_text(self, value: str):
        self.footer_text = value

    @rx.event
    def set_body_example(self, number: str, value: str):
        self.body_examples = {**self.body_examples, number: value}

    @rx.event
    def set_header_example(self, number: str, value: str):
        self.header_examples = {**self.header_examples, number: value}

    @rx.event(background=True)
    async def create(self):
        """Submit the template for review; clicks while one is being submitted do nothing."""
        async with self:
            if self.saving:
                return None
            self.errors = self._missing_examples()
            if self.errors:
                return rx.toast.error("Give an example for every placeholder.", close_button=True)
            self.saving = True
            payload = self._payload()
        try:
            template = await self.run(templates.create_template, payload)
        except DomainError as error:
            async with self:
                self.errors = _form_errors(error)
            return error_toast(error)
        finally:
            async with self:
                self.saving = False
        return [
            rx.toast.success(f"{template.name} ({template.language}) submitted to WhatsApp: {template.status.lower()}."),
            rx.redirect("/templates"),
        ]

    def _missing_examples(self) -> dict[str, str]:
        errors = {}
        for field, text, examples in (
            ("bodyExamples", self.body_text, self.body_examples),
            ("headerExamples", self.header_text, self.header_examples),
        ):
            empty = ["{{" + n + "}}" for n in placeholders(text) if not examples.get(n, "").strip()]
            if empty:
                errors[field] = "WhatsApp reviews templates with sample values: give one for " + ", ".join(empty)
        return errors

    def _payload(self) -> dict:
        header = self.header_text.strip()
        return {
            "name": self.form_name.strip(),
            "language": self.language,
            "category": self.category,
            "bodyText": self.body_text.strip(),
            "headerText": header or None,
            "footerText": self.footer_text.strip() or None,
            "bodyExamples": [self.body_examples.get(n, "").strip() for n in placeholders(self.body_text)],
            "headerExamples": [self.header_examples.get(n, "").strip() for n in placeholders(header)],
        }


def _form_errors(error: DomainError) -> dict[str, str]:
    """Field errors keyed by the form's field names ("bodyExamples.0" -> "bodyExamples"), without the
    "field: " prefix the service puts in front of its messages."""
    errors: dict[str, str] = {}
    for field, message in field_errors(error).items():
        key = field.split(".")[0]
        errors.setdefault(key, message.removeprefix(f"{field}: ").removeprefix(f"{key}: "))
    return errors
