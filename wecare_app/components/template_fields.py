"""The template picker's fields for a state that mixes in `TemplatePicker`: choose an approved template,
see its text, fill in its parameters. The page adds its own send control around them."""
from __future__ import annotations

import reflex as rx


def template_fields(state, *, select_id: str, param_class: str, extra: rx.Component | None = None) -> rx.Component:
    return rx.vstack(
        rx.cond(
            state.template_options.length() > 0,
            rx.select.root(
                rx.select.trigger(placeholder="Choose an approved template", width="100%", id=select_id),
                rx.select.content(rx.foreach(state.template_options, lambda t: rx.select.item(t["label"], value=t["key"].to(str)))),
                value=state.template_key,
                on_change=state.choose_template,
            ),
            # The callout's root, not rx.callout(...): that wraps its content in a <p>, and a <p> in a <p> is
            # invalid HTML (React's hydration warning on every page with the picker).
            rx.callout.root(
                rx.callout.icon(rx.icon("file-text")),
                rx.hstack(rx.text("No approved templates yet.", size="1"), rx.link("Create one", href="/templates/new", size="1"),
                          spacing="1"),
                size="1",
                width="100%",
                id="template-none",
            ),
        ),
        rx.cond(
            state.template_key != "",
            rx.vstack(
                rx.box(
                    rx.text(state.selected_template["body"].to(str), size="2", white_space="pre-wrap"),
                    background=rx.color("grass", 3),
                    border=f"1px solid {rx.color('grass', 5)}",
                    padding="10px 12px",
                    border_radius="4px 12px 12px 12px",
                    width="100%",
                ),
                rx.foreach(
                    state.template_params,
                    lambda value, index: rx.input(
                        placeholder=state.template_param_labels[index],
                        value=value,
                        on_change=lambda v: state.set_template_param(index, v),
                        width="100%",
                        class_name=param_class,
                    ),
                ),
                *([extra] if extra is not None else []),
                spacing="2",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )
