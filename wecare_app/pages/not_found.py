"""The "not found" page, inside the app shell: an address that is no page (a mistyped link, a page of a later
release) says so in words and offers the way back, instead of a bare "404"."""
from __future__ import annotations

import reflex as rx

from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import add_signed_in_page, signed_in_page
from wecare_app.state.session_state import SessionState


def not_found_page() -> rx.Component:
    return signed_in_page(
        "Page not found",
        rx.box(
            empty_state(
                "map-pin-off",
                "There is no page at this address",
                rx.fragment("Nothing lives at ", rx.code(SessionState.router.url.path, id="not-found-path"),
                            ". The link may be mistyped, or the page may have moved."),
                rx.hstack(
                    rx.link(rx.button(rx.icon("layout-dashboard", size=16), "Overview"), href="/", id="not-found-home"),
                    rx.link(rx.button(rx.icon("inbox", size=16), "Inbox", variant="soft"), href="/inbox"),
                    spacing="3",
                ),
            ),
            id="not-found",
            width="100%",
        ),
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, not_found_page, route="404", title="Page not found")
