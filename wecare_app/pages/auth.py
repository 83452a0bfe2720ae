"""Auth module: /login, /auth/callback, /profile."""
from __future__ import annotations

from urllib.parse import urlsplit

import reflex as rx

from backend.errors import DomainError
from backend.services.platform import cognito_auth, users
from wecare_app.pages.layout import add_signed_in_page, field_error, signed_in_page
from wecare_app.state.feedback import error_toast, field_errors
from wecare_app.state.session_state import SessionState


def _safe_next(target: str | None) -> str:
    """Only a path on this site; anything else falls back to the home page. Browsers read `\\` as `/` and drop
    tabs and newlines, so `/\\evil.example` or `/<tab>/evil.example` would leave the site like `//evil.example`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


class LoginState(SessionState):
    error: str = ""
    busy: bool = False
    cognito: bool = False  # WECARE_AUTH=cognito: the hosted UI signs people in, not the form

    @rx.event(background=True)
    async def redirect_if_signed_in(self):
        if await self.signed_in():
            return rx.redirect("/")
        cognito = await self.offload(cognito_auth.enabled)
        async with self:
            self.cognito = cognito
        return None

    @rx.event(background=True)
    async def start_cognito(self):
        """To the hosted UI; the state, nonce and PKCE verifier stay here, server-side, for the callback."""
        async with self:
            if self.busy:
                return None
            self.busy = True
            self.error = ""
            target = _safe_next(self.router.url.query_parameters.get("next"))
        try:
            url, pending = await self.offload(cognito_auth.begin, target)
        except DomainError as error:
            async with self:
                self.error = error.message
                self.busy = False
            return None
        async with self:
            self._pending_sign_in = pending.to_dict()
            self.busy = False
        return rx.redirect(url)

    @rx.event(background=True)
    async def submit(self, form: dict):
        async with self:
            if self.busy:
                return None  # one sign-in at a time per tab: a double submit must not hash twice
            self.error = ""
            self.busy = True
        try:
            # argon2 takes ~64 MiB and tens of milliseconds: always on a worker thread
            client = self.router.session.client_ip or self.router.session.client_token
            signed_in = await self.offload(users.sign_in, form.get("email", ""), form.get("password", ""), client=client)
        except DomainError as error:
            async with self:
                self.error = error.message
                self.busy = False
            return None
        async with self:
            self._start(signed_in)
            self.busy = False
            target = _safe_next(self.router.url.query_parameters.get("next"))
        return rx.redirect(target)


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.cond(LoginState.cognito, _cognito_sign_in(), _password_sign_in()),
            width="380px",
            size="4",
        ),
        height="100vh",
        background=rx.color("gray", 2),
    )


def _brand() -> rx.Component:
    return rx.fragment(
        rx.hstack(
            rx.icon("message-circle-heart", size=28, color=rx.color("accent", 10)),
            rx.heading("WECARE.DIGITAL", size="5"),
            align="center",
        ),
        rx.text("Sign in to the messaging console", color=rx.color("gray", 10), size="2"),
    )


def _login_error() -> rx.Component:
    return rx.cond(
        LoginState.error != "",
        rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red", size="1", width="100%", id="login-error"),
        rx.fragment(),
    )


def _cognito_sign_in() -> rx.Component:
    return rx.vstack(
        _brand(),
        rx.text("Your organisation signs you in with its WECARE user pool; your role comes from your group there.",
                size="2"),
        _login_error(),
        rx.button("Sign in with your organisation account", on_click=LoginState.start_cognito, width="100%",
                  size="3", id="login-cognito", loading=LoginState.busy),
        spacing="3",
        width="100%",
    )


def _password_sign_in() -> rx.Component:
    return rx.form(
                rx.vstack(
                    _brand(),
                    rx.text("Email", size="2", weight="medium"),
                    rx.input(name="email", type="email", placeholder="you@company.com", required=True, width="100%", id="login-email", auto_focus=True),
                    rx.text("Password", size="2", weight="medium"),
                    rx.input(name="password", type="password", required=True, width="100%", id="login-password"),
                    _login_error(),
                    rx.button("Sign in", type="submit", width="100%", size="3", id="login-submit", loading=LoginState.busy),
                    spacing="3",
                    width="100%",
                ),
                on_submit=LoginState.submit,
                reset_on_submit=False,
            )


class ProfileState(SessionState):
    errors: dict[str, str] = {}

    @rx.event(background=True)
    async def change_password(self, form: dict):
        async with self:
            self.errors = {}
            if form.get("new_password") != form.get("confirm_password"):
                self.errors = {"confirmPassword": "does not match the new password"}
                return None
        try:
            signed_in = await self.run(users.change_own_password, form.get("current_password", ""), form.get("new_password", ""))
        except DomainError as error:
            async with self:
                self.errors = field_errors(error)
            return error_toast(error)
        async with self:
            self._start(signed_in)
        return [rx.toast.success("Password changed. Your other sessions have been signed out."), rx.redirect("/profile")]


def _password_field(label: str, name: str, error_key: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, type="password", required=True, width="100%", id=f"profile-{name}"),
        field_error(ProfileState.errors.get(error_key, "")),
        spacing="1",
        width="100%",
    )


def profile_page() -> rx.Component:
    return signed_in_page(
        "Profile",
        rx.cond(
            SessionState.must_change_password,
            rx.callout(
                "You signed in with a one-time password. Choose your own password to continue.",
                icon="key-round",
                color_scheme="amber",
            ),
            rx.fragment(),
        ),
        rx.card(
            rx.data_list.root(
                rx.data_list.item(rx.data_list.label("Name"), rx.data_list.value(SessionState.user_name)),
                rx.data_list.item(rx.data_list.label("Email"), rx.data_list.value(SessionState.user_email)),
                rx.data_list.item(rx.data_list.label("Role"), rx.data_list.value(rx.badge(SessionState.user_role))),
            ),
            width="100%",
            max_width="560px",
        ),
        rx.cond(
            SessionState.can_change_password,
            _password_card(),
            rx.callout(SessionState.password_reason, icon="shield-check", color_scheme="gray", id="profile-password-elsewhere",
                       width="100%", max_width="560px"),
        ),
        subtitle="Your account and password",
    )


def _password_card() -> rx.Component:
    return rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Change password", size="4"),
                    rx.text(f"At least {users.PASSWORD_MIN} characters. Changing it signs out your other sessions.", size="2", color=rx.color("gray", 10)),
                    _password_field("Current password", "current_password", "currentPassword"),
                    _password_field("New password", "new_password", "newPassword"),
                    _password_field("Confirm new password", "confirm_password", "confirmPassword"),
                    rx.button("Change password", type="submit", id="profile-submit"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=ProfileState.change_password,
                reset_on_submit=True,
            ),
            width="100%",
            max_width="560px",
        )


class AuthCallbackState(SessionState):
    error: str = ""

    @rx.event(background=True)
    async def finish(self):
        """The hosted UI sent the browser back: complete the sign-in this tab started (local mode: to /login)."""
        if not await self.offload(cognito_auth.enabled):
            return rx.redirect("/login")
        async with self:
            params = dict(self.router.url.query_parameters)
            pending = dict(self._pending_sign_in)
            self._pending_sign_in = {}  # one use, whatever happens
            self.error = ""
            client = self.router.session.client_ip or self.router.session.client_token
        try:
            session = await self.offload(cognito_auth.complete, params, pending, client=client)
        except DomainError as error:
            async with self:
                self.error = error.message
            return None
        async with self:
            self._start(session.signed_in)
            self._cognito_refresh = session.refresh_token or ""
            self._cognito_expires_at = session.expires_at
        return rx.redirect(_safe_next(session.next_path))


def auth_callback_page() -> rx.Component:
    """Cognito's OIDC redirect target: signing in, or why it failed with a way back."""
    return rx.center(
        rx.cond(
            AuthCallbackState.error != "",
            rx.card(
                rx.vstack(
                    rx.heading("Sign-in did not complete", size="4"),
                    rx.callout(AuthCallbackState.error, icon="triangle-alert", color_scheme="red", id="callback-error"),
                    rx.link(rx.button("Back to sign-in", id="callback-retry"), href="/login"),
                    spacing="3",
                ),
                max_width="460px",
                size="4",
            ),
            rx.vstack(rx.spinner(), rx.text("Signing you in…"), align="center"),
        ),
        height="100vh",
        background=rx.color("gray", 2),
    )


def register(app: rx.App) -> None:
    app.add_page(login_page, route="/login", title="Sign in · WECARE", on_load=LoginState.redirect_if_signed_in)
    app.add_page(auth_callback_page, route="/auth/callback", title="Signing in · WECARE", on_load=AuthCallbackState.finish)
    add_signed_in_page(app, profile_page, route="/profile", title="Profile")
