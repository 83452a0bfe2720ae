"""/admin/config (Admins): the app's settings. For now one card, the inbound WhatsApp webhook: the URL to give the
provider, where the signing secret comes from, the secret masked, Reveal (audited) and, for a local run's own
secret, Rotate behind a confirmation. Which of these an Admin can do, and why not, is the service's answer
(backend/services/platform/webhook_settings.py); the page only shows it. Every call runs off the event loop."""
from __future__ import annotations

import reflex as rx
from reflex.config import get_config

from backend.errors import DomainError, PermissionDenied
from backend.services.platform import webhook_settings
from backend.services.platform.webhook_settings import WebhookInfo
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.inbox_settings_card import InboxSettingsState, inbox_settings_section
from wecare_app.pages.layout import add_signed_in_page, signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

__all__ = ["ConfigState", "admin_config_page", "register"]

DENIED = "Only administrators can see or change the app's configuration."


def webhook_url(path: str) -> str:
    """Where the provider posts: the app's API address (Reflex's api_url) and the webhook's path."""
    return get_config().api_url.rstrip("/") + path


class ConfigState(SessionState):
    loading: bool = True
    denied: str = ""
    busy: bool = False  # a reveal or a rotation is running
    url: str = ""
    source_label: str = ""
    configured: bool = False
    masked_secret: str = ""
    revealed: str = ""  # the full secret, only after Reveal, until Hide or the next load
    can_reveal: bool = False
    can_rotate: bool = False
    rotate_reason: str = ""
    meta_secret_configured: bool = False
    rotate_open: bool = False

    def _show(self, info: WebhookInfo) -> None:
        """Under the lock: the service's view of the webhook."""
        self.loading, self.denied = False, ""
        self.url = webhook_url(info.path)
        self.source_label = info.source_label
        self.configured = info.configured
        self.masked_secret = info.masked_secret
        self.can_reveal, self.can_rotate, self.rotate_reason = info.can_reveal, info.can_rotate, info.rotate_reason
        self.meta_secret_configured = info.meta_secret_configured

    @rx.event(background=True)
    async def load(self):
        async with self:
            self.loading, self.revealed, self.rotate_open = True, "", False
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            info = await self.run(webhook_settings.webhook_info)
        except DomainError as error:
            async with self:
                self.loading = False
                self.denied = DENIED if isinstance(error, PermissionDenied) else ""
            return None if isinstance(error, PermissionDenied) else error_toast(error)
        async with self:
            self._show(info)
        return None

    @rx.event(background=True)
    async def reveal(self):
        if not await self._start():
            return None
        try:
            secret = await self.run(webhook_settings.reveal_secret)
        except DomainError as error:
            async with self:
                self.busy = False
            return error_toast(error)
        async with self:
            self.busy, self.revealed = False, secret
        return None

    @rx.event
    def hide(self):
        self.revealed = ""

    @rx.event
    def set_rotate_open(self, value: bool):
        self.rotate_open = value

    @rx.event(background=True)
    async def rotate(self):
        if not await self._start():
            return None
        try:
            info = await self.run(webhook_settings.rotate_secret)
        except DomainError as error:
            async with self:
                self.busy, self.rotate_open = False, False
            return error_toast(error)
        async with self:
            self.busy, self.rotate_open, self.revealed = False, False, ""
            self._show(info)
        return rx.toast.success("New webhook secret in force: give it to the provider (Reveal shows it).")

    async def _start(self) -> bool:
        """Mark the card busy; False when an action is already running (a double click does nothing)."""
        async with self:
            if self.busy:
                return False
            self.busy = True
            return True


def _row(label: str, *value: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(label, weight="medium", size="2", width="120px", flex_shrink="0"), *value, align="center", width="100%")


def _secret_value() -> rx.Component:
    return rx.cond(
        ConfigState.configured,
        rx.hstack(
            rx.code(rx.cond(ConfigState.revealed != "", ConfigState.revealed, ConfigState.masked_secret), id="webhook-secret", word_break="break-all"),
            rx.cond(
                ConfigState.revealed != "",
                rx.button("Hide", size="1", variant="soft", color_scheme="gray", on_click=ConfigState.hide, id="webhook-hide"),
                rx.button("Reveal", size="1", variant="soft", on_click=ConfigState.reveal, loading=ConfigState.busy,
                          disabled=~ConfigState.can_reveal, id="webhook-reveal"),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.badge("Not configured: every delivery is refused", color_scheme="red"),
    )


def _rotate_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("rotate-cw", size=16), "Rotate secret", color_scheme="orange", variant="soft", id="webhook-rotate")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Rotate the webhook secret?"),
            rx.alert_dialog.description(
                "A new random secret replaces the current one at once. Deliveries signed with the old secret will be "
                "refused from now on, until the provider is given the new one."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep the current secret", variant="soft", color_scheme="gray")),
                rx.button("Rotate", color_scheme="orange", on_click=ConfigState.rotate, loading=ConfigState.busy, id="webhook-rotate-confirm"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=ConfigState.rotate_open,
        on_open_change=ConfigState.set_rotate_open,
    )


def _webhook_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Webhook", size="4"),
            rx.text("Inbound WhatsApp events are posted here, signed with the secret below.", size="2", color=rx.color("gray", 10)),
            _row("URL", rx.code(ConfigState.url, id="webhook-url")),
            _row("Secret from", rx.text(ConfigState.source_label, size="2", id="webhook-source")),
            _row("Secret", _secret_value()),
            _row("Meta's format", rx.text(
                rx.cond(ConfigState.meta_secret_configured, "checked with WECARE_META_APP_SECRET",
                        "refused: WECARE_META_APP_SECRET is not set"), size="2")),
            rx.cond(
                ConfigState.can_rotate,
                _rotate_dialog(),
                rx.callout(ConfigState.rotate_reason, icon="info", color_scheme="gray", size="1", id="webhook-rotate-reason"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="760px",
    )


def admin_config_page() -> rx.Component:
    return signed_in_page(
        "Configuration",
        rx.cond(
            ConfigState.denied != "",
            empty_state("shield-alert", "Admins only", ConfigState.denied + " Ask an administrator for a change."),
            loading_block(ConfigState.loading, rx.vstack(_webhook_card(), rx.box(inbox_settings_section(), max_width="760px", width="100%"), spacing="6", width="100%")),
        ),
        subtitle="The app's settings",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, admin_config_page, route="/admin/config", title="Configuration", on_load=[ConfigState.load, InboxSettingsState.load])
