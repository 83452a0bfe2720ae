"""Templates module: /templates (the WhatsApp template catalogue, synced from the provider) and /templates/new
(compose a template with a live preview and submit it to WhatsApp for review)."""
from __future__ import annotations

import re
from datetime import datetime

import reflex as rx

from backend.errors import DomainError
from backend.services.channels.whatsapp import templates
from backend.services.channels.whatsapp.templates import Template
from wecare_app.components.controls import no_matches, results, search_input
from wecare_app.components.formatting import as_utc
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import field_error, signed_in_page, writers_only
from wecare_app.state.feedback import error_toast, field_errors
from wecare_app.state.session_state import SessionState

ALL = "all"
STATUS_CHOICES = [ALL, "APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]
CATEGORIES = {
    "UTILITY": "Updates the customer expects: an order, an account, an appointment.",
    "MARKETING": "Offers, announcements and invitations; needs marketing consent.",
    "AUTHENTICATION": "One-time passcodes and sign-in confirmations.",
}
LANGUAGES = {
    "en_US": "English (US)",
    "en_GB": "English (UK)",
    "es_ES": "Spanish (Spain)",
    "fr_FR": "French",
    "de_DE": "German",
    "pt_BR": "Portuguese (Brazil)",
    "hi_IN": "Hindi",
    "ar": "Arabic",
}
OTHER_LANGUAGE = "other"
HEADER_MAX, BODY_MAX, FOOTER_MAX = 60, 1024, 60

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")  # as WhatsApp (and backend.services.channels.whatsapp.templates) reads them
_STATUS_COLORS = {"APPROVED": "green", "PENDING": "amber", "REJECTED": "red", "PAUSED": "orange", "DISABLED": "gray"}
_QUALITY = {"GREEN": ("High quality", "green"), "YELLOW": ("Medium quality", "amber"), "RED": ("Low quality", "red")}


# ---------------------------------------------------------------- how templates read on screen


def placeholders(text: str) -> list[str]:
    """The distinct placeholder numbers in `text`, in numeric order ({{2}} {{1}} {{2}} -> ["1", "2"])."""
    return sorted({m for m in _PLACEHOLDER.findall(text or "")}, key=int)


def segments(text: str, examples: dict[str, str] | None = None) -> list[dict[str, str]]:
    """`text` cut into plain runs and placeholders. With examples, a placeholder that has one becomes
    kind "example" showing the example; the others stay kind "placeholder" showing {{n}}."""
    parts: list[dict[str, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text or ""):
        if match.start() > position:
            parts.append({"kind": "text", "text": text[position : match.start()]})
        number = match.group(1)
        example = (examples or {}).get(number, "").strip()
        if example:
            parts.append({"kind": "example", "text": example})
        else:
            parts.append({"kind": "placeholder", "text": "{{" + number + "}}"})
        position = match.end()
    if position < len(text or ""):
        parts.append({"kind": "text", "text": text[position:]})
    return parts


def template_key(template: Template) -> str:
    return f"{template.name}|{template.language}"


def template_row(template: Template) -> dict[str, str]:
    quality_label, quality_color = _QUALITY.get((template.quality or "").upper(), ("Quality unknown", "gray"))
    parameters = []
    if template.header_parameters:
        parameters.append(f"{template.header_parameters} in header")
    if template.body_parameters:
        parameters.append(f"{template.body_parameters} in body")
    return {
        "key": template_key(template),
        "template_id": template.template_id or "",
        "name": template.name,
        "language": template.language,
        "language_label": LANGUAGES.get(template.language, template.language),
        "category": (template.category or "—").upper(),
        "status": template.status,
        "status_color": _STATUS_COLORS.get(template.status, "gray"),
        "quality": quality_label,
        "quality_color": quality_color,
        "header": template.header_text or "",
        "body": template.body_text or "",
        "footer": template.footer_text or "",
        "parameters": "Parameters: " + ", ".join(parameters) if parameters else "No parameters",
    }


def _synced_label(moment: datetime | None) -> str:
    return as_utc(moment).strftime("%d %b %Y, %H:%M UTC") if moment is not None else ""


# ---------------------------------------------------------------- /templates


class TemplateCatalogueState(SessionState):
    catalogue: list[dict[str, str]] = []
    previews: dict[str, list[dict[str, str]]] = {}  # "<key>|header" and "<key>|body" -> segments
    status_filter: str = ALL
    query: str = ""
    synced_at: str = ""
    loading: bool = True
    syncing: bool = False
    load_error: str = ""

    @rx.var
    def visible(self) -> list[dict[str, str]]:
        needle = self.query.strip().casefold()
        return [
            row
            for row in self.catalogue
            if (self.status_filter == ALL or row["status"] == self.status_filter) and needle in row["name"].casefold()
        ]

    @rx.var
    def status_counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUS_CHOICES if status != ALL}
        for row in self.catalogue:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    @rx.var
    def summary(self) -> str:
        if not self.catalogue:
            return ""
        counts = self.status_counts
        total = len(self.catalogue)
        text = (
            f"{total} template{'s' if total != 1 else ''}: {counts.get('APPROVED', 0)} approved, "
            f"{counts.get('PENDING', 0)} pending, {counts.get('REJECTED', 0)} rejected"
        )
        return text + (f" · last synced {self.synced_at}" if self.synced_at else "")

    @rx.event
    def load(self):
        actor = self.actor()
        if not actor.is_authenticated:
            return None  # require_session is already redirecting to /login
        self.loading = True
        try:
            catalogue = templates.list_templates(actor)
        except DomainError as error:
            self.loading = False
            self.load_error = error.message
            return error_toast(error)
        self._show(catalogue)
        return None

    @rx.event
    def sync(self):
        if self.syncing:
            return
        self.syncing = True
        yield
        try:
            catalogue = templates.list_templates(self.actor(), refresh=True)
        except DomainError as error:
            self.syncing = False
            yield error_toast(error)
            return
        self._show(catalogue)
        self.syncing = False
        count = len(catalogue.items)
        yield rx.toast.success(f"Synced {count} template{'s' if count != 1 else ''} from WhatsApp at {self.synced_at}.")

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter = value

    @rx.event
    def set_query(self, value: str):
        self.query = value

    @rx.event
    def clear_filters(self):
        self.status_filter = ALL
        self.query = ""

    def _show(self, catalogue: templates.TemplateCatalogue) -> None:
        ordered = sorted(catalogue.items, key=lambda t: (t.name, t.language))
        self.catalogue = [template_row(t) for t in ordered]
        previews: dict[str, list[dict[str, str]]] = {}
        for template in ordered:
            previews[template_key(template) + "|header"] = segments(template.header_text or "")
            previews[template_key(template) + "|body"] = segments(template.body_text or "")
        self.previews = previews
        self.synced_at = _synced_label(catalogue.synced_at)
        self.load_error = ""
        self.loading = False


def _segment(part: rx.Var) -> rx.Component:
    return rx.match(
        part["kind"],
        (
            "placeholder",
            rx.text.span(
                part["text"],
                font_family="monospace",
                font_size="0.9em",
                padding="0 3px",
                border_radius="4px",
                background=rx.color("amber", 4),
                color=rx.color("amber", 11),
                class_name="template-placeholder",
            ),
        ),
        (
            "example",
            rx.text.span(
                part["text"],
                padding="0 3px",
                border_radius="4px",
                background=rx.color("accent", 4),
                color=rx.color("accent", 12),
                class_name="template-example",
            ),
        ),
        rx.text.span(part["text"]),
    )


def _bubble(header_parts, body_parts, footer, placeholder_text: str = "") -> rx.Component:
    """A WhatsApp-like message bubble: bold header, body with placeholders highlighted, grey footer."""
    return rx.box(
        rx.cond(
            header_parts.length() > 0,
            rx.text(rx.foreach(header_parts, _segment), weight="bold", size="2", margin_bottom="4px"),
            rx.fragment(),
        ),
        rx.cond(
            body_parts.length() > 0,
            rx.text(rx.foreach(body_parts, _segment), size="2", white_space="pre-wrap"),
            rx.text(placeholder_text, size="2", color=rx.color("gray", 9), font_style="italic"),
        ),
        rx.cond(footer != "", rx.text(footer, size="1", color=rx.color("gray", 10), margin_top="6px"), rx.fragment()),
        background=rx.color("grass", 3),
        border=f"1px solid {rx.color('grass', 5)}",
        padding="10px 12px",
        border_radius="4px 12px 12px 12px",
        width="100%",
        word_break="break-word",
    )


def _template_card(row: rx.Var) -> rx.Component:
    key = row["key"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="bold", font_family="monospace", size="3", class_name="template-name"),
                rx.spacer(),
                rx.badge(row["status"], color_scheme=row["status_color"].to(str), class_name="template-status"),
                align="center",
                width="100%",
            ),
            rx.hstack(
                rx.tooltip(
                    rx.badge(rx.icon("languages", size=12), row["language"], variant="outline", color_scheme="gray"),
                    content=row["language_label"],
                ),
                rx.badge(row["category"], variant="soft", color_scheme="blue"),
                rx.badge(rx.icon("gauge", size=12), row["quality"], variant="soft", color_scheme=row["quality_color"].to(str)),
                spacing="2",
                wrap="wrap",
            ),
            _bubble(
                TemplateCatalogueState.previews.get(key + "|header", []),
                TemplateCatalogueState.previews.get(key + "|body", []),
                row["footer"].to(str),
                placeholder_text="(no body text)",
            ),
            rx.text(row["parameters"], size="1", color=rx.color("gray", 10)),
            spacing="3",
            width="100%",
        ),
        class_name="template-row",
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        search_input(
            TemplateCatalogueState.query,
            TemplateCatalogueState.set_query,
            "Search by name…",
            debounce_timeout=200,
            width="100%",
            max_width="360px",
            id="templates-search",
        ),
        rx.select(
            STATUS_CHOICES,
            value=TemplateCatalogueState.status_filter,
            on_change=TemplateCatalogueState.set_status_filter,
            id="templates-status",
        ),
        rx.spacer(),
        rx.text(TemplateCatalogueState.summary, size="2", color=rx.color("gray", 10), id="templates-summary"),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def _catalogue() -> rx.Component:
    grid = rx.grid(
        rx.foreach(TemplateCatalogueState.visible, _template_card),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )
    none_match = no_matches(
        "No templates match",
        "No template name contains that text with this status. Names are lower case with underscores.",
        TemplateCatalogueState.clear_filters,
    )
    nothing = rx.cond(
        TemplateCatalogueState.load_error != "",
        empty_state(
            "cloud-off",
            "Could not load templates",
            TemplateCatalogueState.load_error,
            rx.button("Try again", variant="soft", on_click=TemplateCatalogueState.sync),
        ),
        empty_state(
            "file-text",
            "No templates yet",
            "Templates are the pre-approved messages WhatsApp lets you send outside the 24-hour customer-service "
            "window. Create one here, or sync if you made them in WhatsApp Manager.",
            writers_only(rx.link(rx.button(rx.icon("plus", size=16), "New template"), href="/templates/new")),
        ),
    )
    return results(
        TemplateCatalogueState.loading,
        TemplateCatalogueState.catalogue,
        rx.vstack(
            _filters(),
            rx.cond(TemplateCatalogueState.visible.length() > 0, grid, none_match),
            spacing="4",
            width="100%",
        ),
        nothing,
    )


def templates_page() -> rx.Component:
    return signed_in_page(
        "Templates",
        _catalogue(),
        actions=rx.hstack(
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Sync with WhatsApp",
                variant="soft",
                loading=TemplateCatalogueState.syncing,
                on_click=TemplateCatalogueState.sync,
                id="templates-sync",
            ),
            writers_only(rx.link(rx.button(rx.icon("plus", size=16), "New template", id="new-template-button"), href="/templates/new")),
            spacing="3",
        ),
        subtitle="WhatsApp message templates; only approved ones can be sent outside the 24-hour window",
    )


# ---------------------------------------------------------------- /templates/new


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

    @rx.event
    def create(self):
        if self.saving:
            return
        self.errors = self._missing_examples()
        if self.errors:
            yield rx.toast.error("Give an example for every placeholder.", close_button=True)
            return
        self.saving = True
        yield
        try:
            template = templates.create_template(self.actor(), self._payload())
        except DomainError as error:
            self.saving = False
            self.errors = _form_errors(error)
            yield error_toast(error)
            return
        self.saving = False
        yield rx.toast.success(f"{template.name} ({template.language}) submitted to WhatsApp: {template.status.lower()}.")
        yield rx.redirect("/templates")

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


def _label(text: str, counter=None) -> rx.Component:
    return rx.hstack(
        rx.text(text, size="2", weight="medium"),
        rx.spacer(),
        rx.text(counter, size="1", color=rx.color("gray", 9)) if counter is not None else rx.fragment(),
        width="100%",
    )


def _hint(text: str) -> rx.Component:
    return rx.text(text, size="1", color=rx.color("gray", 10))


def _field(label: str, control: rx.Component, error_key: str, hint: str = "", counter=None) -> rx.Component:
    return rx.vstack(
        _label(label, counter),
        control,
        _hint(hint) if hint else rx.fragment(),
        field_error(NewTemplateState.errors.get(error_key, "")),
        spacing="1",
        width="100%",
    )


def _text_field(
    label: str, error_key: str, hint: str, value, on_change, *, counter=None, multiline: bool = False, **props
) -> rx.Component:
    """A labelled text input (a text area when `multiline`) on one of the form's fields, full width."""
    control = (rx.text_area if multiline else rx.input)(value=value, on_change=on_change, **props, width="100%")
    return _field(label, control, error_key, hint=hint, counter=counter)


def _example_inputs(rows, on_change, error_key: str, title: str) -> rx.Component:
    return rx.cond(
        rows.length() > 0,
        rx.vstack(
            rx.text(title, size="2", weight="medium"),
            rx.foreach(
                rows,
                lambda row: rx.hstack(
                    rx.badge(row["label"], variant="soft", color_scheme="amber", font_family="monospace", min_width="48px"),
                    rx.input(
                        value=row["value"],
                        on_change=lambda value: on_change(row["number"], value),
                        placeholder="Sample value, e.g. a name or an order number",
                        width="100%",
                        class_name="template-example-input",
                    ),
                    align="center",
                    width="100%",
                ),
            ),
            field_error(NewTemplateState.errors.get(error_key, "")),
            spacing="2",
            width="100%",
            padding="12px",
            border_radius="8px",
            background=rx.color("gray", 2),
        ),
        rx.fragment(),
    )


def _language_select() -> rx.Component:
    return rx.vstack(
        rx.select.root(
            rx.select.trigger(width="100%"),
            rx.select.content(
                *[rx.select.item(f"{label} · {code}", value=code) for code, label in LANGUAGES.items()],
                rx.select.separator(),
                rx.select.item("Other language code…", value=OTHER_LANGUAGE),
            ),
            value=NewTemplateState.language_choice,
            on_change=NewTemplateState.set_language_choice,
            id="template-language",
        ),
        rx.cond(
            NewTemplateState.language_choice == OTHER_LANGUAGE,
            rx.input(
                value=NewTemplateState.custom_language,
                on_change=NewTemplateState.set_custom_language,
                placeholder="e.g. it, nl, ja, zh_CN",
                width="100%",
                id="template-language-other",
            ),
            rx.fragment(),
        ),
        spacing="2",
        width="100%",
    )


def _category_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%"),
        rx.select.content(*[rx.select.item(c.title(), value=c) for c in CATEGORIES]),
        value=NewTemplateState.category,
        on_change=NewTemplateState.set_category,
        id="template-category",
    )


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            _text_field(
                "Name",
                "name",
                "Lower-case letters, digits and underscores; spaces become underscores.",
                NewTemplateState.form_name,
                NewTemplateState.set_form_name,
                placeholder="order_update",
                font_family="monospace",
                id="template-name",
            ),
            rx.grid(
                _field("Language", _language_select(), "language"),
                rx.vstack(
                    _field("Category", _category_select(), "category"),
                    _hint(NewTemplateState.category_hint),
                    spacing="1",
                    width="100%",
                ),
                columns="2",
                spacing="4",
                width="100%",
            ),
            _text_field(
                "Header (optional)",
                "headerText",
                "Bold first line; at most one placeholder.",
                NewTemplateState.header_text,
                NewTemplateState.set_header_text,
                counter=NewTemplateState.header_count,
                placeholder="Your order {{1}}",
                max_length=HEADER_MAX,
                id="template-header",
            ),
            _example_inputs(NewTemplateState.header_example_rows, NewTemplateState.set_header_example, "headerExamples", "Header sample"),
            _text_field(
                "Body",
                "bodyText",
                "Write {{1}}, {{2}}… where each message fills in its own value; number them from 1.",
                NewTemplateState.body_text,
                NewTemplateState.set_body_text,
                counter=NewTemplateState.body_count,
                multiline=True,
                placeholder="Hello {{1}}, your order {{2}} is on its way.",
                max_length=BODY_MAX,
                rows="6",
                id="template-body",
            ),
            _example_inputs(NewTemplateState.body_example_rows, NewTemplateState.set_body_example, "bodyExamples", "Body samples"),
            _text_field(
                "Footer (optional)",
                "footerText",
                "Small grey line under the message; no placeholders.",
                NewTemplateState.footer_text,
                NewTemplateState.set_footer_text,
                counter=NewTemplateState.footer_count,
                placeholder="WECARE.DIGITAL",
                max_length=FOOTER_MAX,
                id="template-footer",
            ),
            rx.hstack(
                rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href="/templates"),
                rx.button(
                    rx.icon("send", size=16),
                    "Submit for review",
                    on_click=NewTemplateState.create,
                    loading=NewTemplateState.saving,
                    id="template-submit",
                ),
                justify="end",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon("smartphone", size=16, color=rx.color("gray", 10)), rx.heading("Preview", size="3"), align="center"),
            rx.box(
                _bubble(
                    NewTemplateState.preview_header,
                    NewTemplateState.preview_body,
                    NewTemplateState.footer_text,
                    placeholder_text="Start writing the body to see the message.",
                ),
                padding="16px",
                border_radius="8px",
                background=rx.color("gray", 3),
                width="100%",
                id="template-preview",
            ),
            rx.hstack(
                rx.badge(NewTemplateState.language, variant="outline", color_scheme="gray"),
                rx.badge(NewTemplateState.category, variant="soft", color_scheme="blue"),
                spacing="2",
            ),
            _hint(
                "Samples replace the placeholders here and are sent to WhatsApp with the template for review. "
                "Review usually takes minutes to a day; the template is PENDING until then."
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        position="sticky",
        top="24px",
    )


def new_template_page() -> rx.Component:
    return signed_in_page(
        "New template",
        rx.cond(
            SessionState.can_write,
            rx.grid(
                _form(),
                _preview(),
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="5",
                width="100%",
                align_items="start",
            ),
            rx.callout(
                "Creating templates needs the Operator or Admin role. You can browse the approved templates on the Templates page.",
                icon="lock",
                color_scheme="gray",
                id="template-read-only",
            ),
        ),
        actions=rx.link(rx.button(rx.icon("arrow-left", size=16), "All templates", variant="soft"), href="/templates"),
        subtitle="Compose a WhatsApp template and submit it for review",
    )


def register(app: rx.App) -> None:
    app.add_page(
        templates_page,
        route="/templates",
        title="Templates · WECARE",
        on_load=[SessionState.require_session, TemplateCatalogueState.load],
    )
    app.add_page(
        new_template_page,
        route="/templates/new",
        title="New template · WECARE",
        on_load=[SessionState.require_session, NewTemplateState.load],
    )
