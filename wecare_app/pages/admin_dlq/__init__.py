"""/admin/dlq (Admins): messages that failed every retry. Inspect the payload and the error, replay (at most
MAX_REPLAYS times) or discard them one by one, as a selection, or everything the filter shows.

display.py words the entries, state.py loads them and acts on them (off the event loop), table.py and
dialogs.py draw them."""
from __future__ import annotations

import reflex as rx

from backend.services.messaging.dlq import MAX_REPLAYS
from wecare_app.components.shell import empty_state
from wecare_app.pages.admin_dlq.dialogs import inspect_dialog, replay_all_dialog
from wecare_app.pages.admin_dlq.state import DeadLetterState
from wecare_app.pages.admin_dlq.table import bulk_bar, entries, filters, outcome_panel
from wecare_app.pages.layout import add_signed_in_page, signed_in_page

__all__ = ["DeadLetterState", "admin_dlq_page", "register"]


def _admins_only() -> rx.Component:
    return empty_state(
        "shield-alert",
        "Admins only",
        DeadLetterState.denied
        + " It holds messages that failed every retry; replaying or discarding them is an administrator's decision.",
    )


def admin_dlq_page() -> rx.Component:
    return signed_in_page(
        "Dead-letter queue",
        rx.cond(
            DeadLetterState.denied != "",
            _admins_only(),
            rx.fragment(filters(), bulk_bar(), outcome_panel(), entries(), inspect_dialog(), replay_all_dialog()),
        ),
        actions=rx.cond(
            DeadLetterState.denied != "",
            rx.fragment(),
            rx.button(rx.icon("refresh-cw", size=16), "Reload", variant="soft", on_click=DeadLetterState.refresh, id="dlq-reload"),
        ),
        subtitle=f"Messages that failed every retry: inspect, replay (up to {MAX_REPLAYS} times) or discard",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, admin_dlq_page, route="/admin/dlq", title="Dead-letter queue", on_load=DeadLetterState.load)
