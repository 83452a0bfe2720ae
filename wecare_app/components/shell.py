"""The app shell every signed-in page uses: sidebar by role, the signed-in user, a header, the content."""
from __future__ import annotations

import reflex as rx

from wecare_app.components.navigation import NAV_MODULES, NavEntry, NavModule

SIDEBAR_WIDTH = "240px"


def _visible_to(role: rx.Var, roles: tuple[str, ...]) -> rx.Var:
    return rx.Var.create(list(roles)).contains(role)


def _entry(entry: NavEntry, role: rx.Var, current_path: rx.Var) -> rx.Component:
    item = rx.link(
        rx.text(entry.label, size="2"),
        href=entry.href,
        underline="none",
        padding_x="12px",
        padding_y="5px",
        border_radius="6px",
        width="100%",
        display="block",
        color=rx.cond(current_path == entry.href, rx.color("accent", 11), rx.color("gray", 12)),
        background=rx.cond(current_path == entry.href, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
        class_name="nav-entry",
    )
    return rx.cond(_visible_to(role, entry.roles), item, rx.fragment())


def _module(module: NavModule, role: rx.Var, current_path: rx.Var) -> rx.Component | None:
    """A module's heading and its pages that exist (None when none does yet: a page of a later capability is
    not listed until it arrives)."""
    entries = [e for e in module.entries if e.ready]
    if not entries:
        return None
    roles = sorted({r for e in entries for r in e.roles})
    return rx.cond(
        _visible_to(role, tuple(roles)),
        rx.vstack(
            rx.hstack(
                rx.icon(module.icon, size=14, color=rx.color("gray", 10)),
                rx.text(module.label, size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase"),
                align="center",
                spacing="2",
                padding_x="12px",
            ),
            *[_entry(e, role, current_path) for e in entries],
            spacing="0",
            width="100%",
        ),
        rx.fragment(),
    )


def sidebar(role: rx.Var, user_name: rx.Var, current_path: rx.Var, on_sign_out) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("message-circle-heart", size=22, color=rx.color("accent", 10)),
            rx.heading("WECARE.DIGITAL", size="3", weight="bold"),
            align="center",
            padding="16px 12px 8px 12px",
        ),
        rx.scroll_area(
            rx.vstack(*filter(None, (_module(m, role, current_path) for m in NAV_MODULES)), spacing="4", width="100%"),
            type="hover",
            scrollbars="vertical",
            flex="1",
        ),
        rx.divider(),
        rx.hstack(
            rx.avatar(fallback=user_name.to(str)[:2].upper(), size="2", radius="full", flex_shrink="0"),
            rx.vstack(
                # a long address is cut with an ellipsis (its full text on hover) so the sign-out button stays in view
                rx.text(user_name, size="2", weight="medium", trim="both", id="signed-in-user", title=user_name,
                        white_space="nowrap", overflow="hidden", text_overflow="ellipsis", max_width="100%"),
                rx.badge(role, size="1", variant="soft", id="signed-in-role"),
                spacing="1",
                align="start",
                min_width="0",
                flex="1",
            ),
            rx.tooltip(
                rx.icon_button(rx.icon("log-out", size=16), variant="ghost", on_click=on_sign_out, aria_label="Sign out"),
                content="Sign out (ends your sessions on every device)",
            ),
            align="center",
            width="100%",
            padding="12px",
        ),
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        background=rx.color("gray", 2),
        border_right=f"1px solid {rx.color('gray', 5)}",
        spacing="2",
    )


def page_shell(title: str, *children: rx.Component, role, user_name, current_path, on_sign_out, actions=None, subtitle=None) -> rx.Component:
    header = rx.hstack(
        rx.vstack(
            rx.heading(title, size="6"),
            rx.text(subtitle, size="2", color=rx.color("gray", 10)) if subtitle is not None else rx.fragment(),
            spacing="1",
        ),
        rx.spacer(),
        actions if actions is not None else rx.fragment(),
        align="center",
        width="100%",
    )
    return rx.hstack(
        sidebar(role, user_name, current_path, on_sign_out),
        rx.box(
            rx.vstack(header, *children, spacing="5", width="100%", max_width="1200px"),
            padding="24px 32px",
            width="100%",
            min_height="100vh",
        ),
        spacing="0",
        align="start",
        width="100%",
    )


def loading_block(is_loading: rx.Var, content: rx.Component) -> rx.Component:
    return rx.cond(is_loading, rx.center(rx.spinner(size="3"), padding="48px", width="100%"), content)


def empty_state(icon: str, title: str, message, action: rx.Component | None = None) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=36, color=rx.color("gray", 8)),
            rx.heading(title, size="4"),
            rx.text(message, color=rx.color("gray", 10), text_align="center"),
            action if action is not None else rx.fragment(),
            align="center",
            spacing="3",
        ),
        padding="48px",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
    )
