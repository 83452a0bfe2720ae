"""/admin/users (Admins): the team's accounts, searched by email or name; invite one (its one-time password
shown here once); change a role, disable or enable (behind a confirmation), reset a password (the new one-time
password shown once). What the Admin may do to each account, and why not, is the service's answer
(backend/services/platform/user_admin.py: `ManagedUser.can_*` and their reasons); the page only shows it.
Every call runs off the event loop. A one-time password lives in the state only while its dialog is open."""
from __future__ import annotations

from datetime import datetime

import reflex as rx

from backend.errors import DomainError, PermissionDenied
from backend.services.platform import user_admin
from backend.services.platform.user_admin import IssuedPassword, ManagedUser, UserList
from wecare_app.components.controls import data_table, search_input
from wecare_app.components.formatting import as_utc, within_a_day
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import add_signed_in_page, field_error, signed_in_page
from wecare_app.state.feedback import error_toast, field_errors
from wecare_app.state.session_state import SessionState

__all__ = ["UsersState", "admin_users_page", "register", "user_row", "last_sign_in"]

DENIED = "Only administrators can see and manage the team's accounts."
ROLE_COLORS = {"Admin": "crimson", "Operator": "blue", "Viewer": "gray"}
ROLE_HINTS = {
    "Viewer": "reads contacts and messages",
    "Operator": "also writes, sends and imports",
    "Admin": "everything, including users and settings",
}
# A disabled button gets no pointer events: let its wrapper take the hover, so the tooltip tells why.
_HOVER_THROUGH = {"&:disabled": {"pointer_events": "none"}}
CONFIRM_TEXT = {
    "disable": ("Disable this account?", "can no longer sign in, and every session they have open ends now.", "Disable", "red"),
    "enable": ("Enable this account?", "can sign in again with their current password.", "Enable", "green"),
    "reset": ("Reset the password?", "gets a new one-time password, to change at their next sign-in; every session they have "
              "open ends now. You will see the new password once.", "Reset password", "orange"),
}


def last_sign_in(moment: datetime | None, now: datetime) -> tuple[str, str]:
    """("never", "") or (how long ago, the UTC time): "3 h ago" / "5 days ago" / "12 Mar 2025"."""
    if moment is None:
        return "never", ""
    seconds = max(0, int((now - as_utc(moment)).total_seconds()))
    days = seconds // 86400
    relative = within_a_day(seconds) or (f"{days} day{'s' if days > 1 else ''} ago" if days < 60 else as_utc(moment).strftime("%d %b %Y"))
    return relative, as_utc(moment).strftime("%d %b %Y, %H:%M UTC")


def user_row(user: ManagedUser, now: datetime) -> dict:
    """What one table row shows and which of its controls work (the service's flags and reasons)."""
    relative, absolute = last_sign_in(user.last_sign_in_at, now)
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.display_name or "",
        "role": user.role,
        "role_color": ROLE_COLORS.get(user.role, "gray"),
        "active": user.active,
        "is_you": user.is_you,
        "must_change_password": user.must_change_password,
        "last_sign_in": relative,
        "last_sign_in_at": absolute,
        "created": as_utc(user.created_at).strftime("%d %b %Y"),
        "can_change_role": user.can_change_role,
        "change_role_reason": user.change_role_reason or "",
        "can_disable": user.can_disable,
        "disable_reason": user.disable_reason or "",
        "can_enable": user.can_enable,
        "enable_reason": user.enable_reason or "",
        "can_reset_password": user.can_reset_password,
        "reset_password_reason": user.reset_password_reason or "",
    }


class UsersState(SessionState):
    loading: bool = True
    denied: str = ""
    load_error: str = ""
    query: str = ""
    rows: list[dict] = []
    total: int = 0
    roles: list[str] = ["Viewer", "Operator", "Admin"]
    can_email_password: bool = False
    email_password_reason: str = ""
    can_invite: bool = True
    invite_reason: str = ""
    busy: bool = False  # a change is running (a second click does nothing)
    # the invitation dialog
    invite_open: bool = False
    invite_email: str = ""
    invite_name: str = ""
    invite_role: str = "Operator"
    invite_delivery: str = "show"
    invite_errors: dict[str, str] = {}
    # the one-time password, shown once
    secret_open: bool = False
    secret_title: str = ""
    secret_email: str = ""
    secret_password: str = ""
    # the confirmation of a disable, enable or password reset
    confirm_open: bool = False
    confirm_action: str = ""
    confirm_user_id: str = ""
    confirm_name: str = ""
    _load_request: int = 0

    @rx.var
    def confirm_title(self) -> str:
        return CONFIRM_TEXT.get(self.confirm_action, ("", "", "", ""))[0]

    @rx.var
    def confirm_description(self) -> str:
        text = CONFIRM_TEXT.get(self.confirm_action)
        return f"{self.confirm_name} {text[1]}" if text else ""

    @rx.var
    def confirm_label(self) -> str:
        return CONFIRM_TEXT.get(self.confirm_action, ("", "", "", ""))[2]

    @rx.var
    def confirm_color(self) -> str:
        return CONFIRM_TEXT.get(self.confirm_action, ("", "", "", "gray"))[3]

    @rx.var
    def searching(self) -> bool:
        return self.query.strip() != ""

    @rx.var
    def count_label(self) -> str:
        """ "3 accounts", or while searching "1 of 3 accounts"."""
        total = f"{self.total} account{'' if self.total == 1 else 's'}"
        return f"{len(self.rows)} of {total}" if self.query.strip() else total

    # -- loading

    def _show(self, listed: UserList) -> None:
        """Under the lock: the service's list."""
        now = datetime.now().astimezone()
        self.loading, self.denied, self.load_error = False, "", ""
        self.rows = [user_row(user, now) for user in listed.items]
        self.total = listed.total
        self.roles = list(listed.roles)
        self.can_email_password = listed.can_email_password
        self.email_password_reason = listed.email_password_reason or ""
        self.can_invite = listed.can_invite
        self.invite_reason = listed.invite_reason or ""

    async def _reload(self):
        """List again with the current search; an older load's answer never overwrites a newer one's."""
        async with self:
            self._load_request += 1
            request, query = self._load_request, self.query
        try:
            listed = await self.run(user_admin.list_users, query or None)
        except DomainError as error:
            async with self:
                if request != self._load_request:
                    return None
                self.loading = False
                if isinstance(error, PermissionDenied):
                    self.denied, self.rows = DENIED, []
                    return None
                self.load_error = error.message
            return error_toast(error)
        async with self:
            if request == self._load_request:
                self._show(listed)
        return None

    @rx.event(background=True)
    async def load(self):
        async with self:
            self.loading, self.load_error, self.secret_password, self.secret_open = True, "", "", False
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        return await self._reload()

    @rx.event(background=True)
    async def retry(self):
        async with self:
            self.loading = True
        return await self._reload()

    @rx.event(background=True)
    async def set_query(self, value: str):
        async with self:
            self.query = value
        return await self._reload()

    @rx.event(background=True)
    async def clear_query(self):
        async with self:
            self.query = ""
        return await self._reload()

    # -- invite

    @rx.event
    def open_invite(self):
        self.invite_open = True
        self.invite_email, self.invite_name, self.invite_role, self.invite_delivery = "", "", "Operator", "show"
        self.invite_errors = {}

    @rx.event
    def set_invite_open(self, value: bool):
        self.invite_open = value

    @rx.event
    def set_invite_email(self, value: str):
        self.invite_email = value
        self.invite_errors = {k: v for k, v in self.invite_errors.items() if k != "email"}

    @rx.event
    def set_invite_name(self, value: str):
        self.invite_name = value
        self.invite_errors = {k: v for k, v in self.invite_errors.items() if k != "displayName"}

    @rx.event
    def set_invite_role(self, value: str):
        self.invite_role = value

    @rx.event
    def set_invite_delivery(self, value: str):
        self.invite_delivery = value

    @rx.event(background=True)
    async def submit_invite(self):
        if not await self._start():
            return None
        async with self:
            email, name, role, delivery = self.invite_email, self.invite_name, self.invite_role, self.invite_delivery
        try:
            issued = await self.run(user_admin.invite_user, email, role, name or None, delivery)
        except DomainError as error:
            async with self:
                self.busy = False
                self.invite_errors = field_errors(error)
            return error_toast(error)
        async with self:
            self.busy, self.invite_open = False, False
            self._reveal(issued, "Account created")
        await self._reload()
        return rx.toast.success(f"{issued.user.email} can now sign in.")

    def _reveal(self, issued: IssuedPassword, title: str) -> None:
        """Under the lock: open the dialog that shows the one-time password (only delivery "show" has one)."""
        self.secret_title, self.secret_email = title, issued.user.email
        self.secret_password = issued.one_time_password or ""
        self.secret_open = bool(self.secret_password)

    @rx.event
    def close_secret(self, value: bool = False):
        if not value:
            self.secret_open, self.secret_password, self.secret_email = False, "", ""

    @rx.event
    def copy_secret(self):
        return [rx.set_clipboard(self.secret_password), rx.toast.success("Copied to the clipboard.")]

    # -- role, disable/enable, reset

    @rx.event(background=True)
    async def change_role(self, user_id: str, role: str):
        if not await self._start():
            return None
        async with self:
            self.rows = [{**row, "role": role, "role_color": ROLE_COLORS.get(role, "gray")} if row["user_id"] == user_id else row
                         for row in self.rows]
        try:
            user = await self.run(user_admin.change_role, user_id, role)
        except DomainError as error:
            await self._finish()
            return error_toast(error)
        await self._finish()
        return rx.toast.success(f"{user.name} is now {'an' if user.role in ('Admin', 'Operator') else 'a'} {user.role}.")

    @rx.event
    def ask(self, action: str, user_id: str, name: str):
        self.confirm_action, self.confirm_user_id, self.confirm_name, self.confirm_open = action, user_id, name, True

    @rx.event
    def set_confirm_open(self, value: bool):
        self.confirm_open = value

    @rx.event(background=True)
    async def confirm(self):
        if not await self._start():
            return None
        async with self:
            action, user_id = self.confirm_action, self.confirm_user_id
        service = {"disable": user_admin.disable_user, "enable": user_admin.enable_user, "reset": user_admin.reset_password}[action]
        try:
            done = await self.run(service, user_id)
        except DomainError as error:
            async with self:
                self.confirm_open = False
            await self._finish()
            return error_toast(error)
        async with self:
            self.confirm_open = False
            if isinstance(done, IssuedPassword):
                self._reveal(done, "Password reset")
        await self._finish()
        if isinstance(done, IssuedPassword):
            return rx.toast.success(f"{done.user.email}'s sessions have ended; give them the new password.")
        return rx.toast.success(f"{done.name} is {'disabled: their sessions have ended' if not done.active else 'enabled'}.")

    async def _start(self) -> bool:
        """Mark the page busy; False when a change is already running (a double click does nothing)."""
        async with self:
            if self.busy:
                return False
            self.busy = True
            return True

    async def _finish(self) -> None:
        """Reload (the rules' outcome may have changed on other rows too), then let the next change run."""
        await self._reload()
        async with self:
            self.busy = False


# ---------------------------------------------------------------- components


def _explained(control: rx.Component, allowed: rx.Var, why_not: rx.Var, what: str) -> rx.Component:
    """`control` with a tooltip: what it does, or (from the service's view) why it may not be done."""
    return rx.tooltip(rx.box(control, display="inline-flex"), content=rx.cond(allowed, what, why_not))


def role_badge(role: rx.Var, color: rx.Var) -> rx.Component:
    return rx.badge(role, color_scheme=color, variant="soft", class_name="user-role")


def _role_select(row: rx.Var) -> rx.Component:
    allowed = row["can_change_role"].to(bool)
    select = rx.select.root(
        rx.select.trigger(width="110px", variant="soft", color_scheme="gray", style=_HOVER_THROUGH, aria_label="Role",
                          class_name="user-role-select"),
        rx.select.content(rx.foreach(UsersState.roles, lambda role: rx.select.item(role, value=role))),
        value=row["role"].to(str),
        on_change=lambda role: UsersState.change_role(row["user_id"], role),
        disabled=~allowed | UsersState.busy,
        size="1",
    )
    return _explained(select, allowed, row["change_role_reason"], "Change the role (it counts at once)")


def _actions(row: rx.Var) -> rx.Component:
    name = rx.cond(row["name"] != "", row["name"], row["email"]).to(str)
    disable = _explained(
        rx.button(rx.icon("user-x", size=14), "Disable", size="1", variant="soft", color_scheme="red",
                  disabled=~row["can_disable"].to(bool) | UsersState.busy, style=_HOVER_THROUGH,
                  on_click=UsersState.ask("disable", row["user_id"], name), class_name="user-disable"),
        row["can_disable"].to(bool), row["disable_reason"], "Disable: they cannot sign in and their sessions end",
    )
    enable = _explained(
        rx.button(rx.icon("user-check", size=14), "Enable", size="1", variant="soft", color_scheme="green",
                  disabled=~row["can_enable"].to(bool) | UsersState.busy, style=_HOVER_THROUGH,
                  on_click=UsersState.ask("enable", row["user_id"], name), class_name="user-enable"),
        row["can_enable"].to(bool), row["enable_reason"], "Enable: they can sign in again",
    )
    reset = _explained(
        rx.button(rx.icon("key-round", size=14), "Reset password", size="1", variant="soft",
                  disabled=~row["can_reset_password"].to(bool) | UsersState.busy, style=_HOVER_THROUGH,
                  on_click=UsersState.ask("reset", row["user_id"], name), class_name="user-reset-password"),
        row["can_reset_password"].to(bool), row["reset_password_reason"], "A new one-time password, shown once",
    )
    return rx.hstack(_role_select(row), rx.cond(row["active"].to(bool), disable, enable), reset, spacing="2", align="center")


def _who(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(rx.cond(row["name"] != "", row["name"], row["email"]), weight="medium", size="2", class_name="user-name"),
            rx.cond(row["is_you"].to(bool), rx.badge("you", size="1", variant="outline"), rx.fragment()),
            spacing="2",
            align="center",
        ),
        rx.text(row["email"], size="1", color=rx.color("gray", 10), class_name="user-email", white_space="nowrap"),
        spacing="0",
    )


def _state_cell(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.cond(
            row["active"].to(bool),
            rx.badge("Active", color_scheme="green", variant="soft", class_name="user-state"),
            rx.badge("Disabled", color_scheme="gray", variant="solid", class_name="user-state"),
        ),
        rx.cond(row["must_change_password"].to(bool),
                rx.text("new password pending", size="1", color=rx.color("amber", 11)), rx.fragment()),
        spacing="1",
    )


def _last_sign_in_cell(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(row["last_sign_in"], size="2", class_name="user-last-sign-in"),
        rx.cond(row["last_sign_in_at"] != "",
                rx.text(row["last_sign_in_at"], size="1", color=rx.color("gray", 10), white_space="nowrap"), rx.fragment()),
        spacing="0",
    )


def _user_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_who(row)),
        rx.table.cell(role_badge(row["role"], row["role_color"])),
        rx.table.cell(_state_cell(row)),
        rx.table.cell(_last_sign_in_cell(row)),
        rx.table.cell(rx.text(row["created"], size="2", color=rx.color("gray", 11), white_space="nowrap")),
        rx.table.cell(_actions(row)),
        class_name="user-row",
        align="center",
        opacity=rx.cond(row["active"].to(bool), "1", "0.7"),
    )


def _invite_dialog() -> rx.Component:
    errors = UsersState.invite_errors
    delivery = rx.radio_group.root(
        rx.vstack(
            rx.text(rx.hstack(rx.radio_group.item(value="show"), rx.text("Show the one-time password here, once", size="2"),
                              spacing="2", align="center"), as_="label"),
            rx.text(rx.hstack(rx.radio_group.item(value="email", disabled=~UsersState.can_email_password),
                              rx.text("Email it to them", size="2",
                                      color=rx.cond(UsersState.can_email_password, rx.color("gray", 12), rx.color("gray", 9))),
                              spacing="2", align="center"), as_="label"),
            spacing="2",
        ),
        value=UsersState.invite_delivery,
        on_change=UsersState.set_invite_delivery,
        id="invite-delivery",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Invite a user"),
            rx.dialog.description("They sign in with a one-time password and choose their own at once.", size="2"),
            rx.vstack(
                rx.text("Email", size="2", weight="medium"),
                rx.input(value=UsersState.invite_email, on_change=UsersState.set_invite_email, placeholder="name@example.com",
                         type="email", width="100%", id="invite-email"),
                field_error(errors.get("email", "")),
                rx.text("Name", size="2", weight="medium"),
                rx.input(value=UsersState.invite_name, on_change=UsersState.set_invite_name, placeholder="Optional",
                         width="100%", id="invite-name"),
                field_error(errors.get("displayName", "")),
                rx.text("Role", size="2", weight="medium"),
                rx.select.root(
                    rx.select.trigger(width="100%", id="invite-role"),
                    rx.select.content(*[rx.select.item(f"{role}: {hint}", value=role) for role, hint in ROLE_HINTS.items()]),
                    value=UsersState.invite_role,
                    on_change=UsersState.set_invite_role,
                ),
                field_error(errors.get("role", "")),
                rx.text("Password", size="2", weight="medium"),
                delivery,
                rx.cond(UsersState.can_email_password, rx.fragment(),
                        rx.text(UsersState.email_password_reason, size="1", color=rx.color("gray", 10), id="invite-email-reason")),
                field_error(errors.get("delivery", "")),
                spacing="2",
                width="100%",
                margin_top="12px",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Invite", on_click=UsersState.submit_invite, loading=UsersState.busy, id="invite-submit"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
            max_width="480px",
        ),
        open=UsersState.invite_open,
        on_open_change=UsersState.set_invite_open,
    )


def _secret_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(UsersState.secret_title),
            rx.dialog.description("The one-time password for ", rx.text.strong(UsersState.secret_email), ":", size="2"),
            rx.hstack(
                rx.code(UsersState.secret_password, size="5", id="one-time-password", variant="outline",
                        padding="8px 12px", style={"user_select": "all"}),
                rx.tooltip(rx.icon_button(rx.icon("copy", size=16), variant="soft", on_click=UsersState.copy_secret,
                                          id="one-time-password-copy", aria_label="Copy the password"), content="Copy"),
                align="center",
                spacing="3",
                margin_y="16px",
            ),
            rx.callout(
                "This is the only time it is shown: WECARE keeps only a hash of it. Copy it now and give it to them "
                "privately; they must choose their own password when they first sign in.",
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
                id="one-time-password-warning",
            ),
            rx.hstack(
                rx.button("I have copied it", on_click=UsersState.close_secret(False), id="one-time-password-done"),
                justify="end",
                margin_top="16px",
            ),
            max_width="480px",
        ),
        open=UsersState.secret_open,
        on_open_change=UsersState.close_secret,
    )


def _confirm_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(UsersState.confirm_title),
            rx.alert_dialog.description(UsersState.confirm_description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(UsersState.confirm_label, color_scheme=UsersState.confirm_color, on_click=UsersState.confirm,
                          loading=UsersState.busy, id="user-confirm"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=UsersState.confirm_open,
        on_open_change=UsersState.set_confirm_open,
    )


def _invite_button() -> rx.Component:
    return rx.cond(
        UsersState.denied == "",
        rx.cond(
            UsersState.can_invite,
            rx.button(rx.icon("user-plus", size=16), "Invite user", on_click=UsersState.open_invite, id="users-invite"),
            rx.tooltip(rx.button(rx.icon("user-plus", size=16), "Invite user", disabled=True, id="users-invite"),
                       content=UsersState.invite_reason),
        ),
        rx.fragment(),
    )


def _table() -> rx.Component:
    return data_table(("User", "Role", "State", "Last sign-in", "Created", "Actions"), UsersState.rows, _user_row, id="users-table")


def _body() -> rx.Component:
    search = search_input(UsersState.query, UsersState.set_query, "Search by email or name", debounce_timeout=300,
                          width="320px", id="users-search")
    error = rx.callout(
        rx.hstack(rx.text("The users could not be loaded: ", UsersState.load_error),
                  rx.button("Try again", size="1", variant="soft", on_click=UsersState.retry, id="users-retry"), align="center"),
        icon="circle-alert", color_scheme="red", id="users-error",
    )
    nothing = rx.cond(
        UsersState.searching,
        empty_state("search-x", "No users match", "No email or name contains that text.",
                    rx.button("Clear search", variant="soft", on_click=UsersState.clear_query, id="users-clear-search")),
        empty_state("users", "No users yet", "Invite the first member of the team.", _invite_button()),
    )
    listing = rx.cond(UsersState.rows.length() > 0, _table(), nothing)
    return rx.vstack(
        rx.hstack(search, rx.spacer(),
                  rx.text(UsersState.count_label, size="2", color=rx.color("gray", 10), id="users-count"),
                  align="center", width="100%"),
        rx.cond(UsersState.load_error != "", error, rx.fragment()),
        rx.cond(UsersState.invite_reason != "",
                rx.callout(UsersState.invite_reason, icon="info", color_scheme="gray", size="1", id="users-invite-note"),
                rx.fragment()),
        loading_block(UsersState.loading, listing),
        _invite_dialog(),
        _secret_dialog(),
        _confirm_dialog(),
        spacing="4",
        width="100%",
    )


def admin_users_page() -> rx.Component:
    return signed_in_page(
        "Users",
        rx.cond(
            UsersState.denied != "",
            rx.box(empty_state("shield-alert", "Admins only", UsersState.denied + " Ask an administrator for a change."), id="users-denied", width="100%"),
            _body(),
        ),
        actions=_invite_button(),
        subtitle="Who can sign in, and what they may do",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, admin_users_page, route="/admin/users", title="Users", on_load=UsersState.load)
