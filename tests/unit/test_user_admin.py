"""User administration: each action with its audit row (before/after, never a password), the one-time password
shown once and never stored, the self-lockout and last-active-Admin rules in the views and in the changes (two
Admins demoting each other at once leave one), sessions that end at once, bad input named by field, and every
other role refused."""
from __future__ import annotations

import json

import pytest

from backend.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.user import UserModel
from backend.services.platform import team, user_admin, users
from backend.services.platform.access import Role
from backend.services.platform.audit import resource_history
from backend.services.storage.unit_of_work import UnitOfWork

PASSWORD = "correct horse battery"


def account(admin, email: str, role: str = "Operator", name: str | None = None):
    """A local account and its open session: (actor, token)."""
    users.create_user(admin, email, role, PASSWORD, display_name=name)
    token = users.sign_in(email, PASSWORD).token
    return users.actor_for_session(token), token


@pytest.fixture
def boss(admin):
    """A real Admin account, signed in (the `admin` fixture is an actor with no account, like a system caller)."""
    return account(admin, "boss@example.com", "Admin", "The Boss")[0]


def only(entries, action):
    found = [e for e in entries if e.action == action]
    assert len(found) == 1, [e.action for e in entries]
    return found[0]


def all_audit_text() -> str:
    return json.dumps([(row.action, row.details) for row in AuditLogModel.scan()], default=str)


# ---------------------------------------------------------------- listing


def test_the_list_shows_every_account_with_role_state_sign_in_and_searches_email_and_name(admin, boss):
    account(admin, "ann@example.com", "Viewer", "Ann Lee")
    users.create_user(admin, "bob@sample.org", "Operator", PASSWORD, display_name="Bob Stone")
    listed = user_admin.list_users(boss)
    assert [u.email for u in listed.items] == ["ann@example.com", "bob@sample.org", "boss@example.com"]
    assert listed.total == 3 and listed.active_admins == 1 and listed.roles == ["Viewer", "Operator", "Admin"]
    ann, bob, me = listed.items
    assert (ann.role, ann.active, ann.name) == ("Viewer", True, "Ann Lee") and ann.last_sign_in_at is not None
    assert bob.last_sign_in_at is None and bob.created_at is not None and bob.name == "Bob Stone"
    assert me.is_you and not ann.is_you
    assert [u.email for u in user_admin.list_users(boss, "SAMPLE").items] == ["bob@sample.org"]
    assert [u.email for u in user_admin.list_users(boss, "  lee ").items] == ["ann@example.com"]
    assert user_admin.list_users(boss, "nobody").items == [] and user_admin.list_users(boss, "nobody").total == 3
    assert listed.to_api()["items"][0]["lastSignInAt"] is not None


def test_the_views_carry_the_rules_for_the_admin_looking(admin, boss):
    ann, _ = account(admin, "ann@example.com", "Admin")
    account(admin, "gone@example.com", "Viewer")
    gone = next(u for u in user_admin.list_users(boss).items if u.email == "gone@example.com")
    user_admin.disable_user(boss, gone.user_id)
    views = {u.email: u for u in user_admin.list_users(boss).items}
    me = views["boss@example.com"]
    assert not me.can_change_role and "your own role" in me.change_role_reason
    assert not me.can_disable and "lock yourself out" in me.disable_reason
    assert not me.can_reset_password and "profile" in me.reset_password_reason
    assert not me.can_enable and me.enable_reason == "The account is active."
    other = views["ann@example.com"]
    assert other.can_change_role and other.can_disable and other.can_reset_password and not other.can_enable
    assert other.change_role_reason is None and other.disable_reason is None
    disabled = views["gone@example.com"]
    assert disabled.can_enable and not disabled.can_disable and disabled.disable_reason == "The account is already disabled."
    # Seen by a caller with no account of their own (a system or API caller), each Admin's view is the same
    # while there are two; with one, the last active Admin can be neither demoted nor disabled.
    assert all(v.can_change_role for v in user_admin.list_users(admin).items)
    user_admin.change_role(boss, ann.user_id, "Operator")
    last = next(u for u in user_admin.list_users(admin).items if u.email == "boss@example.com")
    assert not last.can_change_role and not last.can_disable and "last active Admin" in last.change_role_reason
    assert last.disable_reason == last.change_role_reason and last.can_reset_password


# ---------------------------------------------------------------- invite


def test_an_invitation_shows_the_one_time_password_once_and_stores_only_its_hash(admin, boss):
    issued = user_admin.invite_user(boss, " New.Person@Example.com ", "operator", "  New   Person ")
    password = issued.one_time_password
    assert password and len(password) >= users.PASSWORD_MIN and issued.delivery == "show"
    assert password not in repr(issued) and password not in str(issued)
    user = issued.user
    assert (user.email, user.name, user.role, user.active, user.must_change_password) == (
        "new.person@example.com", "New Person", "Operator", True, True)
    row = UserModel.get(user.user_id)
    assert row.passwordHash and password not in row.passwordHash and row.mustChangePassword
    signed_in = users.sign_in("new.person@example.com", password)
    invited = users.actor_for_session(signed_in.token)
    assert invited.role is Role.OPERATOR and invited.must_change_password  # chooses a new one before anything else
    entry = only(resource_history("user", user.user_id), "user.invite")
    assert entry.actor_email == "boss@example.com"
    assert entry.details == {"before": None, "after": {"email": "new.person@example.com", "displayName": "New Person", "role": "Operator",
                                                       "active": True, "mustChangePassword": True}, "delivery": "show"}
    assert password not in all_audit_text()
    again = user_admin.invite_user(boss, "other@example.com", "Viewer")
    assert again.one_time_password != password and again.user.display_name is None


def test_emailing_the_password_is_refused_for_local_accounts_and_nothing_is_created(boss):
    listed = user_admin.list_users(boss)
    assert not listed.can_email_password and "message log" in listed.email_password_reason
    with pytest.raises(ValidationError) as raised:
        user_admin.invite_user(boss, "mail@example.com", "Viewer", delivery="email")
    assert raised.value.field == "delivery" and "never be stored" in raised.value.message
    assert user_admin.list_users(boss).total == 1


@pytest.mark.parametrize(("email", "role", "name", "delivery", "field"), [
    ("not-an-email", "Viewer", None, "show", "email"),
    ("", "Viewer", None, "show", "email"),
    ("x@example.com", "Root", None, "show", "role"),
    ("x@example.com", "", None, "show", "role"),
    ("x@example.com", "Viewer", "n" * 101, "show", "displayName"),
    ("x@example.com", "Viewer", None, "fax", "delivery"),
])
def test_bad_invitations_name_the_field_and_create_nothing(boss, email, role, name, delivery, field):
    with pytest.raises(ValidationError) as raised:
        user_admin.invite_user(boss, email, role, name, delivery)
    assert raised.value.field == field and raised.value.message
    assert user_admin.list_users(boss).total == 1


def test_an_email_already_taken_is_a_conflict_on_the_email(admin, boss):
    account(admin, "ann@example.com")
    with pytest.raises(Conflict) as raised:
        user_admin.invite_user(boss, "ANN@example.com", "Viewer")
    assert raised.value.field == "email" and "already exists" in raised.value.message


# ---------------------------------------------------------------- role, disable, enable


def test_a_role_change_is_audited_with_before_and_after_and_counts_at_once(admin, boss):
    ann, token = account(admin, "ann@example.com", "Operator")
    changed = user_admin.change_role(boss, ann.user_id, "Admin")
    assert changed.role == "Admin" and users.actor_for_session(token).role is Role.ADMIN  # the open session too
    entry = only(resource_history("user", ann.user_id), "user.role_change")
    assert entry.details == {"before": {"role": "Operator"}, "after": {"role": "Admin"}}
    assert entry.changed_fields == ["role"] and entry.actor_email == "boss@example.com"
    assert user_admin.change_role(boss, ann.user_id, "admin").role == "Admin"  # no change: no second row
    assert len([e for e in resource_history("user", ann.user_id) if e.action == "user.role_change"]) == 1


def test_disabling_ends_the_open_session_at_once_and_enabling_lets_them_sign_in_again(admin, boss):
    ann, token = account(admin, "ann@example.com", "Operator")
    members = {m.email: m for m in team.team_members(boss)}  # the team cache is now warm
    assert members["ann@example.com"].assignable
    disabled = user_admin.disable_user(boss, ann.user_id)
    assert not disabled.active and disabled.can_enable
    assert not users.actor_for_session(token).is_authenticated  # the very next request is anonymous
    assert not {m.email: m for m in team.team_members(boss)}["ann@example.com"].active  # forget_team: seen at once
    with pytest.raises(Unauthenticated):
        users.sign_in("ann@example.com", PASSWORD)
    entry = only(resource_history("user", ann.user_id), "user.disable")
    assert entry.details == {"before": {"active": True}, "after": {"active": False}, "sessions": "all ended"}
    enabled = user_admin.enable_user(boss, ann.user_id)
    assert enabled.active and not users.actor_for_session(token).is_authenticated  # the old session stays ended
    assert users.actor_for_session(users.sign_in("ann@example.com", PASSWORD).token).is_authenticated
    assert only(resource_history("user", ann.user_id), "user.enable").details == {"before": {"active": False}, "after": {"active": True}}


def test_one_put_can_change_role_and_active_together_with_one_audit_row(admin, boss):
    ann, token = account(admin, "ann@example.com", "Operator")
    changed = user_admin.update_user(boss, ann.user_id, {"role": "Viewer", "active": False})
    assert (changed.role, changed.active) == ("Viewer", False) and not users.actor_for_session(token).is_authenticated
    entry = only(resource_history("user", ann.user_id), "user.update")
    assert entry.details["before"] == {"role": "Operator", "active": True}
    assert entry.details["after"] == {"role": "Viewer", "active": False}
    with pytest.raises(ValidationError) as raised:
        user_admin.update_user(boss, ann.user_id, {})
    assert raised.value.field == "role"
    with pytest.raises(ValidationError) as raised:
        user_admin.update_user(boss, ann.user_id, {"role": "Owner"})
    assert raised.value.field == "role" and "Viewer, Operator, Admin" in raised.value.message
    with pytest.raises(ValidationError) as raised:
        user_admin.update_user(boss, ann.user_id, {"active": "perhaps"})
    assert raised.value.field == "active"
    with pytest.raises(ValidationError) as raised:
        user_admin.update_user(boss, ann.user_id, {"rol": "Viewer"})
    assert raised.value.field == "rol"


# ---------------------------------------------------------------- password reset


def test_a_reset_gives_a_new_one_time_password_once_and_ends_the_sessions(admin, boss):
    ann, token = account(admin, "ann@example.com", "Viewer")
    issued = user_admin.reset_password(boss, ann.user_id)
    password = issued.one_time_password
    assert password and issued.user.must_change_password and password not in repr(issued)
    assert not users.actor_for_session(token).is_authenticated
    with pytest.raises(Unauthenticated):
        users.sign_in("ann@example.com", PASSWORD)
    assert users.actor_for_session(users.sign_in("ann@example.com", password).token).must_change_password
    entry = only(resource_history("user", ann.user_id), "user.password_reset")
    assert entry.details == {"before": {"mustChangePassword": False}, "after": {"mustChangePassword": True},
                             "sessions": "all ended", "delivery": "show"}
    assert password not in all_audit_text() and password not in UserModel.get(ann.user_id).passwordHash


# ---------------------------------------------------------------- the rules, in the changes


def test_an_admin_cannot_lock_themself_out(boss):
    for change, field in ((lambda: user_admin.change_role(boss, boss.user_id, "Operator"), "role"),
                          (lambda: user_admin.disable_user(boss, boss.user_id), "active"),
                          (lambda: user_admin.update_user(boss, boss.user_id, {"active": False}), "active"),
                          (lambda: user_admin.reset_password(boss, boss.user_id), "password")):
        with pytest.raises(Conflict) as raised:
            change()
        assert raised.value.field == field
    row = UserModel.get(boss.user_id)
    assert (row.role, row.active, row.mustChangePassword) == ("Admin", True, False)
    assert [e.action for e in resource_history("user", boss.user_id)] == ["user.sign_in", "user.create"]


def test_the_last_active_admin_is_never_demoted_or_disabled(admin, boss):
    ann, _ = account(admin, "ann@example.com", "Admin")
    user_admin.disable_user(boss, ann.user_id)  # two active Admins: one may go
    for change in (lambda: user_admin.change_role(admin, boss.user_id, "Viewer"), lambda: user_admin.disable_user(admin, boss.user_id)):
        with pytest.raises(Conflict) as raised:
            change()
        assert "last active Admin" in raised.value.message
    assert is_admin(boss.user_id)
    user_admin.enable_user(admin, ann.user_id)  # a disabled Admin enabled again counts again
    assert user_admin.change_role(admin, boss.user_id, "Operator").role == "Operator"


def is_admin(user_id: str) -> bool:
    row = UserModel.get(user_id, consistent_read=True)
    return row.role == "Admin" and row.active


def test_two_admins_demoting_each_other_at_once_leave_one(admin, monkeypatch):
    """A reads B as an Admin and demotes them; between A's read and A's commit, B demotes A. A's transaction
    then finds its witness (A) no longer an Admin, reads again and is refused: one Admin is left."""
    a, _ = account(admin, "a@example.com", "Admin")
    b, _ = account(admin, "b@example.com", "Admin")
    commit = UnitOfWork.commit
    crossed = []

    def b_first(work):
        if not crossed:
            crossed.append(True)
            user_admin.change_role(b, a.user_id, "Operator")  # B's request, committed in between
        return commit(work)

    monkeypatch.setattr(UnitOfWork, "commit", b_first)
    with pytest.raises(Conflict) as raised:
        user_admin.change_role(a, b.user_id, "Operator")
    assert "b@example.com is the last active Admin" in raised.value.message
    assert is_admin(b.user_id) and not is_admin(a.user_id)
    assert [e.action for e in resource_history("user", b.user_id) if e.action != "user.sign_in"] == ["user.create"]


def test_a_disabling_crossing_a_demotion_leaves_one_admin_too(admin, monkeypatch):
    a, _ = account(admin, "a@example.com", "Admin")
    b, _ = account(admin, "b@example.com", "Admin")
    commit = UnitOfWork.commit
    crossed = []

    def b_first(work):
        if not crossed:
            crossed.append(True)
            user_admin.disable_user(b, a.user_id)
        return commit(work)

    monkeypatch.setattr(UnitOfWork, "commit", b_first)
    with pytest.raises(Conflict):
        user_admin.change_role(a, b.user_id, "Viewer")
    assert is_admin(b.user_id) and not UserModel.get(a.user_id).active


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_are_refused_everything(request, admin, who):
    actor = request.getfixturevalue(who)
    ann, _ = account(admin, "ann@example.com", "Viewer")
    for call in (lambda: user_admin.list_users(actor), lambda: user_admin.invite_user(actor, "x@example.com", "Admin"),
                 lambda: user_admin.change_role(actor, ann.user_id, "Admin"), lambda: user_admin.disable_user(actor, ann.user_id),
                 lambda: user_admin.enable_user(actor, ann.user_id), lambda: user_admin.reset_password(actor, ann.user_id),
                 lambda: user_admin.update_user(actor, ann.user_id, {"role": "Admin"}), lambda: user_admin.get_user(actor, ann.user_id)):
        with pytest.raises(PermissionDenied):
            call()
    row = UserModel.get(ann.user_id)
    assert (row.role, row.active) == ("Viewer", True)


def test_an_unknown_user_is_not_found(boss):
    for user_id in ("nobody", "email#boss@example.com", ""):
        with pytest.raises(NotFound) as raised:
            user_admin.change_role(boss, user_id, "Viewer")
        assert raised.value.field == "userId"
    with pytest.raises(NotFound):
        user_admin.reset_password(boss, "nobody")


# ---------------------------------------------------------------- the REST endpoints (before the route table has them)


def test_the_endpoints_answer_with_the_views_and_the_statuses(admin, boss, operator):
    from backend.api import users_api
    from backend.api.http import ApiRequest, invoke
    from backend.services.platform.access import Operation

    def call(endpoint, actor, method, body=None, **params):
        raw = json.dumps(body).encode() if body is not None else b""
        request = ApiRequest(method, path_params=params.pop("path", {}), query=params, raw_body=raw,
                             headers={"content-type": "application/json"})
        return invoke(endpoint, actor, request, Operation.USERS_MANAGE)

    created = call(users_api.invite, boss, "POST", {"email": "api@example.com", "role": "Viewer", "displayName": "Api User"})
    assert created.status == 201 and created.body["user"]["email"] == "api@example.com" and created.body["oneTimePassword"]
    user_id = created.body["user"]["userId"]
    listed = call(users_api.list_users, boss, "GET", q="api")
    assert listed.status == 200 and [u["email"] for u in listed.body["items"]] == ["api@example.com"]
    assert listed.body["items"][0]["canDisable"] is True and listed.body["canEmailPassword"] is False
    changed = call(users_api.change, boss, "PUT", {"role": "Operator"}, path={"userId": user_id})
    assert changed.status == 200 and changed.body["role"] == "Operator"
    reset = call(users_api.reset_password, boss, "POST", path={"userId": user_id})
    assert reset.status == 200 and reset.body["oneTimePassword"] != created.body["oneTimePassword"]
    assert call(users_api.change, boss, "PUT", {"active": False}, path={"userId": boss.user_id}).status == 409
    bad = call(users_api.invite, boss, "POST", {"email": "x@example.com", "role": "Viewer", "extra": 1})
    assert bad.status == 422 and bad.body["error"]["field"] == "extra"
    assert call(users_api.change, boss, "PUT", {"role": "Viewer"}, path={"userId": "nobody"}).status == 404
    assert call(users_api.list_users, operator, "GET").status == 403
