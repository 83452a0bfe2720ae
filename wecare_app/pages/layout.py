"""Binds the shell to the session so each page only supplies its title and content."""
from __future__ import annotations

import reflex as rx

from wecare_app.components.shell import page_shell
from wecare_app.state.session_state import SessionState


def signed_in_page(title: str, *children: rx.Component, actions=None, subtitle=None) -> rx.Component:
    return rx.cond(
        SessionState.user_role != "",
        page_shell(
            title,
            *children,
            role=SessionState.user_role,
            user_name=SessionState.user_name,
            current_path=SessionState.router.url.path,
            on_sign_out=SessionState.sign_out,
            actions=actions,
            subtitle=subtitle,
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )


def add_signed_in_page(app: rx.App, page, *, route: str, title: str, on_load=()) -> None:
    """Register a signed-in page: `require_session` runs first on every load (unknown, expired or revoked
    sessions go to /login), then the page's own loaders. The page function builds its body with
    `signed_in_page`, which draws the shell once the session is known."""
    loads = list(on_load) if isinstance(on_load, (list, tuple)) else [on_load]
    app.add_page(page, route=route, title=f"{title} · WECARE", on_load=[SessionState.require_session, *loads])


def writers_only(component: rx.Component) -> rx.Component:
    """Hide write controls from Viewers (the service refuses their writes regardless)."""
    return rx.cond(SessionState.can_write, component, rx.fragment())


def field_error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, size="1", color=rx.color("red", 11)), rx.fragment())
