"""The signed-in session: the token in browser storage, the actor resolved from it on the server."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.platform import users
from backend.services.platform.access import Actor

SESSION_KEY = "wecare_session"


class SessionState(rx.State):
    # Browser storage; shared across tabs so signing out in one tab signs out all of them.
    session_token: str = rx.LocalStorage("", name=SESSION_KEY, sync=True)
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    must_change_password: bool = False

    @rx.var
    def can_write(self) -> bool:
        return self.user_role in ("Operator", "Admin")

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == "Admin"

    def actor(self) -> Actor:
        """Resolved from the token on every call, so a revoked or expired session stops at once."""
        return users.actor_for_session(self.session_token)

    @rx.event
    def require_session(self):
        """on_load of every signed-in page: unknown, expired or tampered sessions go to /login."""
        actor = self.actor()
        if not actor.is_authenticated:
            self._forget()
            return rx.redirect(f"/login?next={self.router.page.raw_path or '/'}")
        try:
            user = users.current_user(actor)
        except DomainError:
            self._forget()
            return rx.redirect("/login")
        self.user_email = user.email
        self.user_name = user.display_name or user.email
        self.user_role = user.role.value
        self.must_change_password = user.must_change_password
        if user.must_change_password and self.router.page.path != "/profile":
            return [rx.redirect("/profile"), rx.toast.warning("Choose a new password before you continue.")]
        return None

    def _forget(self) -> None:
        self.session_token = ""
        self.user_email = self.user_name = self.user_role = ""
        self.must_change_password = False

    def _start(self, signed_in: users.SignedIn) -> None:
        self.session_token = signed_in.token
        self.user_email = signed_in.user.email
        self.user_name = signed_in.user.display_name or signed_in.user.email
        self.user_role = signed_in.user.role.value
        self.must_change_password = signed_in.user.must_change_password

    @rx.event
    def sign_out(self):
        users.sign_out(self.actor())
        self._forget()
        return rx.redirect("/login")
