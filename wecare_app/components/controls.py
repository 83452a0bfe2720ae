"""Controls the list pages share: the filter bar and its labelled fields, the search box, the result table and
its pager, and the confirmation dialog. Like every component here they take vars, values and event handlers,
never a State class."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import reflex as rx

from wecare_app.components.shell import empty_state, loading_block


def segment_value(value: str | list[str]) -> str:
    """The value a segmented control sends to on_change: a string, or (typed as a multiple control) a list."""
    return value if isinstance(value, str) else (value[0] if value else "")


# ---------------------------------------------------------------- filters


def labelled(label: str, control: rx.Component, **props: Any) -> rx.Component:
    """A filter control under its small grey label."""
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 10), weight="medium"), control, spacing="1", **props)


def search_input(value, on_change, placeholder: str, *, icon_size: int = 16, **props: Any) -> rx.Component:
    """A text input with a magnifier in front."""
    return rx.input(
        rx.input.slot(rx.icon("search", size=icon_size)),
        placeholder=placeholder,
        value=value,
        on_change=on_change,
        **props,
    )


def clear_filters_button(filtered: rx.Var, on_clear) -> rx.Component:
    """A quiet "Clear" at the end of a filter bar, shown only while a filter is set."""
    return rx.cond(
        filtered,
        rx.button(rx.icon("x", size=14), "Clear", variant="ghost", color_scheme="gray", on_click=on_clear),
        rx.fragment(),
    )


def filter_bar(*controls: rx.Component) -> rx.Component:
    """Labelled filters side by side, aligned on their inputs, wrapping on narrow screens."""
    return rx.hstack(*controls, align="end", spacing="3", wrap="wrap", width="100%")


def no_matches(title: str, message, on_clear) -> rx.Component:
    """The empty state when filters hide everything, with a way back."""
    return empty_state("search-x", title, message, rx.button("Clear filters", variant="soft", on_click=on_clear))


# ---------------------------------------------------------------- results


def results(loading: rx.Var, rows: rx.Var, found: rx.Component, nothing: rx.Component) -> rx.Component:
    """A spinner while the first rows load, then `found` when there are rows and `nothing` when there are none
    (a reload keeps the rows on screen instead of the spinner)."""
    return loading_block(loading & (rows.length() == 0), rx.cond(rows.length() > 0, found, nothing))


def data_table(columns: Iterable[str | rx.Component], rows: rx.Var, render_row: Callable[[rx.Var], rx.Component], **props: Any) -> rx.Component:
    """A surface table: one header cell a column (a title, or a header cell of its own), one row an item."""
    return rx.table.root(
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(c) if isinstance(c, str) else c for c in columns])
        ),
        rx.table.body(rx.foreach(rows, render_row)),
        width="100%",
        variant="surface",
        **props,
    )


def token_pager(
    page_number: rx.Var,
    next_token: rx.Var,
    on_previous,
    on_next,
    *leading: rx.Component,
    previous_id: str = "",
    next_id: str = "",
    **props: Any,
) -> rx.Component:
    """Previous · Page n · Next for a state using wecare_app.state.paging.TokenPaging, after any `leading`."""
    return rx.hstack(
        *leading,
        rx.button(
            rx.icon("chevron-left", size=16),
            "Previous",
            variant="soft",
            disabled=page_number == 1,
            on_click=on_previous,
            **({"id": previous_id} if previous_id else {}),
        ),
        rx.text("Page ", page_number, size="2", color=rx.color("gray", 10)),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16),
            variant="soft",
            disabled=next_token == "",
            on_click=on_next,
            **({"id": next_id} if next_id else {}),
        ),
        **props,
        width="100%",
        align="center",
    )


# ---------------------------------------------------------------- dialogs


def _parts(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def confirm_dialog(
    title,
    description,
    confirm: rx.Component,
    *body: rx.Component,
    trigger: rx.Component | None = None,
    cancel_label: str = "Cancel",
    **root_props: Any,
) -> rx.Component:
    """An alert dialog asking to confirm: `title` and `description` (a value, or a tuple of parts), any `body`,
    then cancel and the `confirm` button. Opened by `trigger`, or controlled through `open`/`on_open_change`."""
    return rx.alert_dialog.root(
        *([rx.alert_dialog.trigger(trigger)] if trigger is not None else []),
        rx.alert_dialog.content(
            rx.alert_dialog.title(*_parts(title)),
            rx.alert_dialog.description(*_parts(description)),
            *body,
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(cancel_label, variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(confirm),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        **root_props,
    )
