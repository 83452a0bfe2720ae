"""Dashboard module. The live KPIs are a later capability; until then `/` opens the live inbox."""
from __future__ import annotations

import reflex as rx

from wecare_app.state.session_state import SessionState


def home_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


def register(app: rx.App) -> None:
    app.add_page(home_page, route="/", title="WECARE", on_load=[SessionState.require_session, rx.redirect("/inbox")])
