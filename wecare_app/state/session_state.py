"""The signed-in session: the token in browser storage, the actor resolved from it on the server, and the one
way a page calls the service layer: off the event loop.

Reflex runs a plain event handler inline on the server's asyncio loop, so a handler that waited on DynamoDB, a
provider or argon2 there would stall every websocket that worker serves. A page therefore calls services only
from a background event (`@rx.event(background=True)`), through `await self.run(service, ...)`: the call runs on
a worker thread as the session's actor, and the state lock is taken (`async with self`) only to read or write
vars, never around the call:

    @rx.event(background=True)
    async def save(self):
        async with self:
            payload = self._form_payload()
        try:
            contact = await self.run(contacts.update_contact, self.loaded_id, payload)
        except DomainError as error:
            yield error_toast(error)
            return
        async with self:
            self._show(contact)

`run` refuses to be called with the lock held or from a foreground handler, and `tests/unit/test_ui_off_loop.py`
fails when a page calls a service any other way.
"""
from __future__ import annotations

import asyncio
import contextvars
from urllib.parse import quote
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from reflex.istate.proxy import StateProxy

from backend.errors import DomainError
from backend.services.platform import cognito_auth, users
from backend.services.platform.access import Actor

SESSION_KEY = "wecare_session"
T = TypeVar("T")

# Each Reflex event runs in its own asyncio task, so this caches the actor for one event: resolved once however
# many services the event calls, and again by the next event (a revoked session stops at once).
_event_actor: contextvars.ContextVar[tuple[str, Actor] | None] = contextvars.ContextVar("wecare_event_actor", default=None)


def forget_event_actor() -> None:
    """Resolve the actor afresh on the next call: a live loop is one long event, and it calls this before each
    batch so a session revoked meanwhile stops receiving updates."""
    _event_actor.set(None)


class OnTheLoop(RuntimeError):
    """A service call that would block the event loop or hold the state lock while it waits."""


def _check_off_lock(state: Any) -> None:
    if not isinstance(state, StateProxy):
        raise OnTheLoop("call services from a background event (@rx.event(background=True)), not a foreground handler")
    if state._is_mutable():
        raise OnTheLoop("call services outside `async with self`: the state lock is only for reading and writing vars")


class SessionState(rx.State):
    # Browser storage; shared across tabs so signing out in one tab signs out all of them.
    session_token: str = rx.LocalStorage("", name=SESSION_KEY, sync=True)
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    must_change_password: bool = False
    can_change_password: bool = True
    password_reason: str = ""
    # Cognito sign-in (server-side only: backend vars never reach the browser)
    _pending_sign_in: dict = {}  # state, nonce, PKCE verifier of the sign-in this tab started
    _cognito_refresh: str = ""
    _cognito_expires_at: float = 0.0

    @rx.var
    def can_write(self) -> bool:
        return self.user_role in ("Operator", "Admin")

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == "Admin"

    async def actor(self) -> Actor:
        """The session's actor, resolved from the token on a worker thread once per event."""
        _check_off_lock(self)
        token = self.session_token
        cached = _event_actor.get()
        if cached is not None and cached[0] == token:
            return cached[1]
        actor = await asyncio.to_thread(users.actor_for_session, token)
        _event_actor.set((token, actor))
        return actor

    async def run(self, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`service(actor, *args, **kwargs)` on a worker thread, as the signed-in actor. The service checks the
        actor's role; an anonymous actor gets its `Unauthenticated` error."""
        actor = await self.actor()
        return await asyncio.to_thread(service, actor, *args, **kwargs)

    async def offload(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Work that needs no actor (reading an uploaded file, a heavy computation) on a worker thread."""
        _check_off_lock(self)
        return await asyncio.to_thread(work, *args, **kwargs)

    async def signed_in(self) -> bool:
        """Whether the session is live; pages' loaders stay quiet otherwise (require_session redirects)."""
        return (await self.actor()).is_authenticated

    @rx.event(background=True)
    async def require_session(self):
        """on_load of every signed-in page: unknown, expired or tampered sessions go to /login."""
        actor = await self.actor()
        user = None
        if actor.is_authenticated:
            try:
                user = await asyncio.to_thread(users.current_user, actor)
            except DomainError:
                user = None
        async with self:
            if user is None:
                self._forget()
                url = self.router.url
                path = (url.path or "/") + (f"?{url.query}" if url.query else "")
                yield rx.redirect(f"/login?next={quote(path, safe='/')}" if not actor.is_authenticated else "/login")
                return
            self.user_email = user.email
            self.user_name = user.display_name or user.email
            self.user_role = user.role.value
            self.must_change_password = user.must_change_password
            self.can_change_password = user.can_change_password
            self.password_reason = user.password_reason
            on_profile = self.router.url.path == "/profile"
            refresh, expires_at = self._cognito_refresh, self._cognito_expires_at
        if refresh and await self.offload(cognito_auth.needs_refresh, expires_at):
            try:
                expires_at = await asyncio.to_thread(cognito_auth.refresh, actor, refresh)
            except DomainError as ended:  # disabled in the pool, or no group any more: this session ends
                await asyncio.to_thread(users.sign_out, actor)
                async with self:
                    self._forget()
                yield rx.redirect("/login")
                yield rx.toast.error(ended.message)
                return
            async with self:
                self._cognito_expires_at = expires_at
        if user.must_change_password and not on_profile:
            yield rx.redirect("/profile")
            yield rx.toast.warning("Choose a new password before you continue.")

    def _forget(self) -> None:
        self._cognito_refresh = ""
        self._cognito_expires_at = 0.0
        self.session_token = ""
        self.user_email = self.user_name = self.user_role = ""
        self.must_change_password = False

    def _start(self, signed_in: users.SignedIn) -> None:
        self.session_token = signed_in.token
        self.user_email = signed_in.user.email
        self.user_name = signed_in.user.display_name or signed_in.user.email
        self.user_role = signed_in.user.role.value
        self.must_change_password = signed_in.user.must_change_password

    @rx.event(background=True)
    async def sign_out(self):
        actor = await self.actor()
        if actor.is_authenticated:
            await asyncio.to_thread(users.sign_out, actor)
        async with self:
            self._forget()
        # Cognito: through the hosted UI's logout, so its own session ends too (it returns to /login)
        yield rx.redirect(await self.offload(cognito_auth.signed_out_url))
