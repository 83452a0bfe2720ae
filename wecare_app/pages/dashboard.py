"""Dashboard module. The live KPIs are a later capability; until then `/` opens the live inbox."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.layout import add_signed_in_page


def home_page() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


def register(app: rx.App) -> None:
    add_signed_in_page(app, home_page, route="/", title="Home", on_load=rx.redirect("/inbox"))
