import os

import pytest

from backend.errors import Conflict, PermissionDenied, Unauthenticated, ValidationError
from backend.models.user import UserModel
from backend.services.platform import users
from backend.services.platform.access import Role
from backend.settings import reset_settings_cache

PASSWORD = "correct horse battery"


def test_sign_in_issues_a_session_that_resolves_to_the_actor(admin):
    user = users.create_user(admin, "Op@Example.com", "Operator", PASSWORD)
    signed_in = users.sign_in("op@example.com", PASSWORD)
    actor = users.actor_for_session(signed_in.token)
    assert (actor.user_id, actor.email, actor.role) == (user.user_id, "op@example.com", Role.OPERATOR)


@pytest.mark.parametrize(("email", "password"), [("op@example.com", "wrong password!!"), ("nobody@example.com", PASSWORD), ("not-an-email", PASSWORD)])
def test_bad_credentials_get_one_vague_answer(admin, email, password):
    users.create_user(admin, "op@example.com", "Operator", PASSWORD)
    with pytest.raises(Unauthenticated) as raised:
        users.sign_in(email, password)
    assert raised.value.message == "Email or password is incorrect."


def test_only_admins_create_users_and_emails_are_unique(admin, operator):
    with pytest.raises(PermissionDenied):
        users.create_user(operator, "x@example.com", "Viewer", PASSWORD)
    users.create_user(admin, "x@example.com", "Viewer", PASSWORD)
    with pytest.raises(Conflict):
        users.create_user(admin, "X@example.com", "Admin", PASSWORD)
    with pytest.raises(ValidationError):
        users.create_user(admin, "y@example.com", "Root", PASSWORD)
    with pytest.raises(ValidationError):
        users.create_user(admin, "y@example.com", "Viewer", "short")


def test_password_change_revokes_older_sessions(admin):
    users.create_user(admin, "v@example.com", "Viewer", PASSWORD)
    old = users.sign_in("v@example.com", PASSWORD)
    actor = users.actor_for_session(old.token)
    with pytest.raises(ValidationError):
        users.change_own_password(actor, "wrong one", "another long password")
    fresh = users.change_own_password(actor, PASSWORD, "another long password")
    assert not users.actor_for_session(old.token).is_authenticated
    assert users.actor_for_session(fresh.token).is_authenticated
    assert users.sign_in("v@example.com", "another long password").user.email == "v@example.com"


def test_sign_out_ends_the_session(admin):
    users.create_user(admin, "v@example.com", "Viewer", PASSWORD)
    session = users.sign_in("v@example.com", PASSWORD)
    users.sign_out(users.actor_for_session(session.token))
    assert not users.actor_for_session(session.token).is_authenticated


def test_bootstrap_admin_happens_once(monkeypatch, capsys):
    monkeypatch.setenv("WECARE_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.delenv("WECARE_ADMIN_PASSWORD", raising=False)
    reset_settings_cache()
    assert users.ensure_bootstrap_admin() == "boss@example.com"
    printed = capsys.readouterr().err
    one_time = printed.split("one-time password ")[1].split()[0]
    assert users.ensure_bootstrap_admin() is None
    assert sum(1 for u in UserModel.scan() if "#" not in u.userId) == 1
    signed_in = users.sign_in("boss@example.com", one_time)
    assert signed_in.user.role is Role.ADMIN and signed_in.user.must_change_password
    actor = users.actor_for_session(signed_in.token)
    with pytest.raises(PermissionDenied):
        from backend.services.contacts.contacts import search_contacts

        search_contacts(actor, "")
    reset_settings_cache()


def test_bootstrap_admin_with_configured_password(monkeypatch, capsys):
    monkeypatch.setenv("WECARE_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("WECARE_ADMIN_PASSWORD", PASSWORD)
    reset_settings_cache()
    users.ensure_bootstrap_admin()
    assert "one-time" not in capsys.readouterr().err
    assert not users.sign_in("boss@example.com", PASSWORD).user.must_change_password
    reset_settings_cache()
    assert os.environ["WECARE_ADMIN_PASSWORD"] == PASSWORD
