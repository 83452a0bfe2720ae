import pytest

from backend.errors import PermissionDenied, Unauthenticated
from backend.services.platform.access import PERMISSIONS, Actor, Operation, Role, require


def test_anonymous_is_unauthenticated_not_forbidden():
    with pytest.raises(Unauthenticated):
        require(Actor.anonymous(), Operation.CONTACTS_READ)


@pytest.mark.parametrize(
    ("role", "operation", "allowed"),
    [
        (Role.VIEWER, Operation.CONTACTS_READ, True),
        (Role.VIEWER, Operation.CONTACTS_WRITE, False),
        (Role.VIEWER, Operation.MESSAGES_SEND, False),
        (Role.OPERATOR, Operation.CONTACTS_WRITE, True),
        (Role.OPERATOR, Operation.MESSAGES_SEND, True),
        (Role.OPERATOR, Operation.USERS_MANAGE, False),
        (Role.OPERATOR, Operation.CONFIG_MANAGE, False),
        (Role.ADMIN, Operation.USERS_MANAGE, True),
        (Role.ADMIN, Operation.DLQ_MANAGE, True),
    ],
)
def test_permission_table(role, operation, allowed):
    actor = Actor("u1", "a@example.com", role)
    if allowed:
        require(actor, operation)
    else:
        with pytest.raises(PermissionDenied) as raised:
            require(actor, operation)
        assert raised.value.http_status == 403


def test_admin_holds_every_operation_and_roles_nest():
    assert PERMISSIONS[Role.ADMIN] == frozenset(Operation)
    assert PERMISSIONS[Role.VIEWER] < PERMISSIONS[Role.OPERATOR] < PERMISSIONS[Role.ADMIN]


def test_pending_password_change_allows_only_the_profile():
    actor = Actor("u1", "a@example.com", Role.ADMIN, must_change_password=True)
    require(actor, Operation.PROFILE_SELF)
    with pytest.raises(PermissionDenied):
        require(actor, Operation.CONTACTS_READ)


def test_role_parse_is_case_insensitive_and_strict():
    assert Role.parse(" admin ") is Role.ADMIN
    assert Role.parse("superuser") is None


def test_refusal_names_the_role_and_the_act_in_plain_words():
    with pytest.raises(PermissionDenied) as raised:
        require(Actor("u1", "a@example.com", Role.VIEWER), Operation.DLQ_MANAGE)
    assert str(raised.value) == "Your role (Viewer) cannot manage the dead-letter queue."


def test_every_operation_has_a_human_label_without_internal_names():
    for operation in Operation:
        assert operation.label and ":" not in operation.label
