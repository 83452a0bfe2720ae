"""/templates/new: compose a WhatsApp template with a live preview and submit it for review."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.layout import field_error, signed_in_page
from wecare_app.pages.templates.display import BODY_MAX, CATEGORIES, FOOTER_MAX, HEADER_MAX, LANGUAGES, OTHER_LANGUAGE, bubble
from wecare_app.pages.templates.new_state import NewTemplateState
from wecare_app.state.session_state import SessionState


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
                bubble(
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
