"""/admin/users without a browser: an Admin lists and searches the accounts, invites one (the one-time password
is shown once and gone when its dialog closes), changes a role, disables, enables and resets a password through
the page's own (background) handlers, each control following the service's flags; anyone else gets the "Admins
only" state; a failed load shows its error."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from backend.errors import Unauthenticated
from backend.services.platform import user_admin, users
from wecare_app.pages import admin_users
from wecare_app.pages.admin_users import UsersState

PASSWORD = "correct horse battery"
BACKGROUND = ("load", "retry", "set_query", "clear_query", "submit_invite", "change_role", "confirm")


class PageDouble:
    """UsersState's handlers run outside Reflex: vars are attributes, the lock is a no-op, `run` calls the service
    as `actor` on a worker thread as SessionState.run does."""

    _show, _reload, _reveal, _start, _finish = (UsersState._show, UsersState._reload, UsersState._reveal,
                                                 UsersState._start, UsersState._finish)

    def __init__(self, actor):
        self.actor = actor
        for name, var in UsersState.get_fields().items():
            if name in UsersState.base_vars or name == "_load_request":
                setattr(self, name, var.default if not isinstance(var.default, (list, dict)) else type(var.default)(var.default))

    def __getattr__(self, name):
        handler = UsersState.event_handlers.get(name)
        if handler is None:
            raise AttributeError(name)
        result = handler.fn.__get__(self)
        return (lambda *args: asyncio.run(result(*args))) if name in BACKGROUND else result

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def signed_in(self) -> bool:
        return self.actor.is_authenticated

    async def run(self, service, *args, **kwargs):
        return await asyncio.to_thread(service, self.actor, *args, **kwargs)

    def row(self, email: str) -> dict:
        return next(row for row in self.rows if row["email"] == email)


@pytest.fixture
def boss(admin):
    users.create_user(admin, "boss@example.com", "Admin", PASSWORD, display_name="The Boss")
    return users.actor_for_session(users.sign_in("boss@example.com", PASSWORD).token)


def test_the_handlers_that_call_services_are_background_events():
    assert all(UsersState.event_handlers[name].is_background for name in BACKGROUND)


def test_an_admin_sees_the_team_with_the_services_flags_and_searches_it(admin, boss):
    users.create_user(admin, "ann@example.com", "Viewer", PASSWORD, display_name="Ann Lee")
    page = PageDouble(boss)
    page.load()
    assert (page.loading, page.denied, page.load_error, page.total) == (False, "", "", 2)
    me, ann = page.row("boss@example.com"), page.row("ann@example.com")
    assert me["is_you"] and not me["can_disable"] and "lock yourself out" in me["disable_reason"]
    assert not me["can_change_role"] and "your own role" in me["change_role_reason"]
    assert me["last_sign_in"] == "just now" and me["last_sign_in_at"].endswith("UTC")
    assert (ann["role"], ann["role_color"], ann["active"], ann["last_sign_in"], ann["last_sign_in_at"]) == ("Viewer", "gray", True, "never", "")
    assert ann["can_disable"] and ann["can_change_role"] and ann["can_reset_password"] and ann["disable_reason"] == ""
    assert not page.can_email_password and "message log" in page.email_password_reason
    page.set_query("lee")
    assert [row["email"] for row in page.rows] == ["ann@example.com"] and page.total == 2
    assert UsersState.computed_vars["count_label"].fget(page) == "1 of 2 accounts"
    page.set_query("nobody")
    assert page.rows == []
    page.clear_query()
    assert len(page.rows) == 2 and page.query == ""


def test_an_invitation_shows_the_password_once_then_forgets_it(boss):
    page = PageDouble(boss)
    page.load()
    page.open_invite()
    page.set_invite_email("not an email")
    page.submit_invite()
    assert page.invite_open and "email" in page.invite_errors and not page.secret_open and not page.busy
    page.set_invite_email("new@example.com")
    assert "email" not in page.invite_errors
    page.set_invite_name("New Person")
    page.set_invite_role("Admin")
    page.submit_invite()
    assert not page.invite_open and page.secret_open and page.secret_email == "new@example.com"
    password = page.secret_password
    new = page.row("new@example.com")
    assert (new["name"], new["role"], new["must_change_password"], new["last_sign_in"]) == ("New Person", "Admin", True, "never")
    assert users.sign_in("new@example.com", password).user.must_change_password
    page.close_secret(False)
    assert (page.secret_open, page.secret_password) == (False, "")
    page.open_invite()
    assert (page.invite_email, page.invite_role, page.invite_delivery, page.invite_errors) == ("", "Operator", "show", {})
    page.set_invite_email("mailed@example.com")
    page.set_invite_delivery("email")
    page.submit_invite()
    assert "delivery" in page.invite_errors and page.invite_open and not page.secret_open
    assert all(row["email"] != "mailed@example.com" for row in page.rows)


def test_role_disable_enable_and_reset_through_the_page(admin, boss):
    users.create_user(admin, "ann@example.com", "Operator", PASSWORD)
    token = users.sign_in("ann@example.com", PASSWORD).token
    page = PageDouble(boss)
    page.load()
    ann_id = page.row("ann@example.com")["user_id"]
    page.change_role(ann_id, "Viewer")
    assert page.row("ann@example.com")["role"] == "Viewer" and not page.busy
    assert users.actor_for_session(token).role.value == "Viewer"

    page.ask("disable", ann_id, "ann@example.com")
    assert page.confirm_open and page.confirm_action == "disable"
    page.confirm()
    ann = page.row("ann@example.com")
    assert not ann["active"] and ann["can_enable"] and not ann["can_disable"] and not page.confirm_open
    assert not users.actor_for_session(token).is_authenticated

    page.ask("enable", ann_id, "ann@example.com")
    page.confirm()
    assert page.row("ann@example.com")["active"]

    page.ask("reset", ann_id, "ann@example.com")
    page.confirm()
    assert page.secret_open and page.secret_title == "Password reset" and page.secret_email == "ann@example.com"
    assert users.sign_in("ann@example.com", page.secret_password).user.must_change_password
    with pytest.raises(Unauthenticated):
        users.sign_in("ann@example.com", PASSWORD)


def test_a_refused_change_is_a_toast_and_the_row_shows_the_truth_again(boss):
    page = PageDouble(boss)
    page.load()
    page.change_role(boss.user_id, "Viewer")  # the select is disabled on one's own row; the service refuses too
    assert page.row("boss@example.com")["role"] == "Admin" and not page.busy


def test_other_roles_get_the_admins_only_state_and_no_rows(operator, viewer):
    for actor in (operator, viewer):
        page = PageDouble(actor)
        page.load()
        assert page.denied == admin_users.DENIED and not page.loading and page.rows == []


def test_a_failed_load_shows_its_error_and_a_retry(boss, monkeypatch):
    page = PageDouble(boss)

    def broken(actor, q=None):
        from backend.errors import Conflict

        raise Conflict("The table is busy.")

    monkeypatch.setattr(user_admin, "list_users", broken)
    page.load()
    assert page.load_error == "The table is busy." and not page.loading and page.denied == ""
    monkeypatch.undo()
    page.retry()
    assert page.load_error == "" and page.total == 1


def test_last_sign_in_reads_never_or_relative_with_the_utc_time():
    now = datetime(2025, 3, 20, 12, 0, tzinfo=timezone.utc)
    assert admin_users.last_sign_in(None, now) == ("never", "")
    assert admin_users.last_sign_in(now - timedelta(minutes=5), now) == ("5 min ago", "20 Mar 2025, 11:55 UTC")
    assert admin_users.last_sign_in(now - timedelta(days=1, hours=2), now)[0] == "1 day ago"
    assert admin_users.last_sign_in(now - timedelta(days=3), now)[0] == "3 days ago"
    assert admin_users.last_sign_in(now - timedelta(days=90), now)[0] == "20 Dec 2024"


def test_the_page_draws_the_table_the_dialogs_and_the_warning():
    rendered = str(admin_users._body().render())
    for element_id in ("users-search", "users-table", "invite-email", "invite-name", "invite-role", "invite-delivery",
                       "invite-submit", "one-time-password", "one-time-password-copy", "one-time-password-done", "user-confirm"):
        assert element_id in rendered, element_id
    assert "This is the only time it is shown" in rendered
    for class_name in ("user-row", "user-role-select", "user-disable", "user-enable", "user-reset-password"):
        assert class_name in rendered, class_name
