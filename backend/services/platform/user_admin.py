"""User administration (Admins only): the team's accounts listed and searched, invited with a one-time password,
their role changed, disabled and enabled, their password reset.

Every change and its audit row commit in one transaction; the row's `details` carry the fields' `before` and
`after` values (never a password). A one-time password is generated here, returned once to the caller and kept
only as its argon2 hash: it is never stored, logged or audited.

**Two rules, one function each**, decide both what a view offers (`ManagedUser.can_*` with a reason) and what a
change may do:

* `self_lockout`: an Admin never changes their own role, disables themself or resets their own password here
  (their profile changes their password);
* `last_admin`: the last active Admin is never demoted or disabled.

**Two Admins demoting each other at once** must not leave none. A change that takes an active Admin away
(demotion or disabling) names a *witness*: another active Admin, read consistently. The transaction writes the
target (conditional on the role and active flag it was read with) and touches the witness with the condition
that it is still an active Admin. DynamoDB transactions are serialisable, so of two crossing demotions the
second finds its witness demoted by the first and fails; it is then evaluated once more from fresh reads, where
`last_admin` refuses it. (The touch is an update that sets the witness's `team` to the value it has; it bumps
the witness's version, which only makes a versioned save of that row racing it retry.)

**Identity backend.** Everything that is about *credentials* (a one-time password, ending sessions, which
deliveries are possible) goes through `IdentityBackend`; the rules, the views, the User rows and the audit stay
here. Today the one backend is `LocalAccounts` (argon2 hashes on the User row, sessions ended by a new
`sessionEpoch`). A Cognito backend implements the same methods with AdminCreateUser (Cognito emails the
temporary password itself: `delivery="email"` becomes possible without us ever holding it),
AdminDisableUser/AdminEnableUser with AdminUserGlobalSignOut, AdminSetUserPassword(Permanent=False) and the
group of the role (`cognito:groups`), called from `after_commit` once the rules' transaction has committed.
"""
from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import Field
from pynamodb.exceptions import TransactWriteError

from backend.adapters.passwords import hash_password
from backend.errors import Conflict, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.user import TEAM_PARTITION, UserModel
from backend.services.platform.access import Actor, Operation, Role, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.audit import audit_row
from backend.services.platform.team import TEAM_MAX, forget_team
from backend.services.platform.users import insert_user
from backend.services.platform.validation import normalise_email, parse_input
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.settings import get_settings

RESOURCE = "user"
NAME_MAX = 100
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
DELIVERIES: tuple[str, ...] = ("show", "email")
# Letters and digits a person reads back without doubt (no 0/O, 1/l/I); 4 groups of 4: about 92 bits.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
_ATTEMPTS = 2  # a change that lost a race is evaluated once more from fresh reads


# ---------------------------------------------------------------- views and requests


class ManagedUser(ApiView):
    """One account as the Admin's user list shows it, with what the viewing Admin may do to it and why not."""

    user_id: str
    email: str
    display_name: str | None
    name: str  # the display name, else the email
    role: str
    active: bool
    must_change_password: bool
    identity_provider: str
    created_at: datetime
    last_sign_in_at: datetime | None
    is_you: bool
    can_change_role: bool
    change_role_reason: str | None = None
    can_disable: bool
    disable_reason: str | None = None
    can_enable: bool
    enable_reason: str | None = None
    can_reset_password: bool
    reset_password_reason: str | None = None


class UserList(ApiView):
    """GET /admin/users: the accounts matching the search (all without one), by email, and what an invitation can do."""

    items: list[ManagedUser]
    total: int  # accounts on the team, before the search
    active_admins: int
    roles: list[str]
    can_email_password: bool
    email_password_reason: str | None = None
    can_invite: bool = True
    invite_reason: str | None = None  # why not (Cognito: people are added in the user pool)


class UserInvite(ApiModel):
    """POST /admin/users."""

    email: str = Field(max_length=254)
    role: str
    display_name: str | None = Field(default=None, max_length=NAME_MAX)
    delivery: Literal["show", "email"] = "show"


class UserChange(ApiModel):
    """PUT /admin/users/{userId}: the new role, or active false (disable) / true (enable), or both."""

    role: str | None = None
    active: bool | None = None


class IssuedPassword(ApiView):
    """An invitation or a password reset: the account, how the one-time password went, and (delivery "show")
    the password itself, this once."""

    user: ManagedUser
    delivery: str
    one_time_password: str | None = Field(default=None, repr=False)


# ---------------------------------------------------------------- identity backend


class IdentityBackend(Protocol):
    """Credentials and sessions, behind the rules (see the module's docstring)."""

    name: str

    def delivery_refusal(self, delivery: str) -> str | None:
        """Why a one-time password cannot go out by `delivery`, or None."""

    def set_one_time_password(self, row: UserModel) -> str:
        """Give the (unsaved) row a new one-time password that must be changed at first sign-in; return it."""

    def end_sessions(self, row: UserModel) -> list:
        """The update actions that end every open session of the row's user."""

    def after_commit(self, action: str, row: UserModel) -> None:
        """Mirror a committed change in the identity provider (nothing to do for local accounts)."""


class LocalAccounts:
    """Local accounts: an argon2 hash on the User row; a new `sessionEpoch` ends every session at once, since
    `users.actor_for_session` compares it with the token's on every request."""

    name = "local"
    EMAIL_REFUSAL = (
        "emailing a password is not available for local accounts: the email channel sends only to contacts who "
        "opted in to email, and keeps each message's text in the message log for 30 days where every user can "
        "read it, and a one-time password must never be stored. Choose \"show\" and hand it over yourself"
    )

    def delivery_refusal(self, delivery: str) -> str | None:
        return self.EMAIL_REFUSAL if delivery == "email" else None

    def set_one_time_password(self, row: UserModel) -> str:
        password = one_time_password()
        row.passwordHash = hash_password(password)
        row.mustChangePassword = True
        return password

    def end_sessions(self, row: UserModel) -> list:
        return [UserModel.sessionEpoch.set(secrets.token_hex(4))]

    def after_commit(self, action: str, row: UserModel) -> None:
        return None


_LOCAL = LocalAccounts()


def identity_backend() -> IdentityBackend:
    """The backend accounts live in (only local accounts so far; Cognito is a later change)."""
    return _LOCAL


def one_time_password() -> str:
    """A random password to read out or paste once: 'Xk7m-Qp2r-…' (19 characters, about 92 bits)."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


# ---------------------------------------------------------------- the rules


def self_lockout(actor: Actor, user_id: str, change: Literal["role", "active", "password"]) -> str | None:
    """Why the actor may not make `change` to their own account (they would lock themself out), or None."""
    if actor.user_id != user_id:
        return None
    return {
        "role": "You cannot change your own role: another Admin must do it.",
        "active": "You cannot disable your own account: you would lock yourself out.",
        "password": "This is your own account: change your password on your profile.",
    }[change]


COGNITO_INVITE = ("People are added in the Cognito user pool, in one of its groups Admin, Operator or Viewer; they "
                  "appear here at their first sign-in.")
COGNITO_ROLE = ("This account's role is its group in the Cognito user pool: change the group there (it takes effect "
                "at the next sign-in).")


def managed_in_cognito(row: UserModel | None, change: Literal["invite", "role"]) -> str | None:
    """Why a change is the user pool's to make, not this page's, or None. Under `WECARE_AUTH=cognito` people are
    invited in the pool; a Cognito account's role follows its groups at every sign-in, so a role set here would
    not last. (Disabling stays here: the app refuses a disabled row at once, whatever the pool says.)"""
    if change == "invite":
        return COGNITO_INVITE if get_settings().cognito_sign_in else None
    return COGNITO_ROLE if row is not None and (row.identityProvider or "local") == "cognito" else None


def is_active_admin(row: UserModel) -> bool:
    return row.role == Role.ADMIN.value and bool(row.active)


def last_admin(row: UserModel, other_active_admins: Sequence[UserModel]) -> str | None:
    """Why the account may not stop being an active Admin (no other active Admin would be left), or None."""
    if is_active_admin(row) and not other_active_admins:
        return f"{row.displayName or row.email} is the last active Admin: make someone else an Admin first."
    return None


# ---------------------------------------------------------------- reads


def _team_rows() -> list[UserModel]:
    """Every account (the byTeam index: one Query, by email)."""
    return list(UserModel.by_team.query(TEAM_PARTITION, page_size=200, limit=TEAM_MAX))


def _row(user_id: str) -> UserModel:
    if not user_id or "#" in user_id:  # "email#…" rows are email claims, not accounts
        raise NotFound("No such user.", field="userId")
    try:
        return UserModel.get(user_id, consistent_read=True)
    except UserModel.DoesNotExist:
        raise NotFound("No such user.", field="userId") from None


def _other_active_admins(row: UserModel, team: Sequence[UserModel]) -> list[UserModel]:
    return [other for other in team if other.userId != row.userId and is_active_admin(other)]


def _witness(actor: Actor, row: UserModel) -> UserModel | None:
    """Another active Admin, confirmed by a consistent read (the index may lag): the witness of a change that
    takes `row` away from the active Admins. The actor first, when they are one (they are the likeliest to
    stay one); None when there is none."""
    candidates = sorted(_other_active_admins(row, _team_rows()), key=lambda other: other.userId != actor.user_id)
    for candidate in candidates:
        try:
            fresh = UserModel.get(candidate.userId, consistent_read=True)
        except UserModel.DoesNotExist:
            continue
        if is_active_admin(fresh):
            return fresh
    return None


def _view(actor: Actor, row: UserModel, others: Sequence[UserModel]) -> ManagedUser:
    """The account with the rules' outcome for `actor`; `others`: the other active Admins."""
    local = (row.identityProvider or "local") == "local"
    role_refusal = managed_in_cognito(row, "role") or self_lockout(actor, row.userId, "role") or last_admin(row, others)
    if row.active:
        disable_refusal = self_lockout(actor, row.userId, "active") or last_admin(row, others)
        enable_refusal = "The account is active."
    else:
        disable_refusal = "The account is already disabled."
        enable_refusal = None
    reset_refusal = self_lockout(actor, row.userId, "password") or (
        None if local else f"This account signs in through {row.identityProvider}: reset the password there."
    )
    return ManagedUser(
        user_id=row.userId,
        email=row.email,
        display_name=row.displayName,
        name=row.displayName or row.email,
        role=row.role,
        active=bool(row.active),
        must_change_password=bool(row.mustChangePassword),
        identity_provider=row.identityProvider or "local",
        created_at=row.createdAt,
        last_sign_in_at=row.lastLoginAt,
        is_you=actor.user_id == row.userId,
        can_change_role=role_refusal is None,
        change_role_reason=role_refusal,
        can_disable=disable_refusal is None,
        disable_reason=disable_refusal,
        can_enable=enable_refusal is None,
        enable_reason=enable_refusal,
        can_reset_password=reset_refusal is None,
        reset_password_reason=reset_refusal,
    )


def _matches(row: UserModel, q: str) -> bool:
    needle = q.casefold()
    return needle in row.email.casefold() or needle in (row.displayName or "").casefold()


def list_users(actor: Actor, q: str | None = None) -> UserList:
    """Every account, or those whose email or name contains `q` (any case), by email."""
    require(actor, Operation.USERS_MANAGE)
    team = _team_rows()
    search = (q or "").strip()
    shown = [row for row in team if not search or _matches(row, search)]
    admins = [row for row in team if is_active_admin(row)]
    refusal = identity_backend().delivery_refusal("email")
    return UserList(
        items=[_view(actor, row, [a for a in admins if a.userId != row.userId]) for row in shown],
        total=len(team),
        active_admins=len(admins),
        roles=list(ROLES),
        can_email_password=refusal is None,
        email_password_reason=_sentence(refusal),
        can_invite=managed_in_cognito(None, "invite") is None,
        invite_reason=managed_in_cognito(None, "invite"),
    )


def get_user(actor: Actor, user_id: str) -> ManagedUser:
    """One account, read consistently, with the rules' outcome."""
    require(actor, Operation.USERS_MANAGE)
    return _fresh_view(actor, _row(user_id))


def _fresh_view(actor: Actor, row: UserModel) -> ManagedUser:
    return _view(actor, row, _other_active_admins(row, _team_rows()))


def _sentence(reason: str | None) -> str | None:
    return reason[:1].upper() + reason[1:] + "." if reason else None


# ---------------------------------------------------------------- invite


def _role(value: str | None, field: str = "role") -> Role:
    role = Role.parse(value)
    if role is None:
        raise ValidationError(f"{field}: one of {', '.join(ROLES)}", field=field)
    return role


def invite_user(actor: Actor, email: str, role: str, display_name: str | None = None, delivery: str = "show") -> IssuedPassword:
    """Create an account with a one-time password that must be changed at first sign-in. `delivery` "show":
    the password is in the answer, this once; "email": the identity backend sends it (local accounts cannot)."""
    require(actor, Operation.USERS_MANAGE)
    if refusal := managed_in_cognito(None, "invite"):
        raise Conflict(f"email: {refusal}", field="email")
    request = parse_input(UserInvite, {"email": email, "role": role, "displayName": display_name, "delivery": delivery})
    address = normalise_email(request.email)
    new_role = _role(request.role)
    name = " ".join((request.display_name or "").split()) or None
    backend = identity_backend()
    refusal = backend.delivery_refusal(request.delivery)
    if refusal:
        raise ValidationError(f"delivery: {refusal}", field="delivery")
    now = utcnow()
    row = UserModel(userId=uuid.uuid4().hex, email=address, displayName=name, role=new_role.value, identityProvider=backend.name,
                    active=True, sessionEpoch=secrets.token_hex(4), createdAt=now, updatedAt=now, team=TEAM_PARTITION)
    password = backend.set_one_time_password(row)
    after = {"email": row.email, "displayName": row.displayName, "role": row.role, "active": True, "mustChangePassword": True}
    insert_user(actor, row, audit=audit_row(actor, "user.invite", RESOURCE, row.userId,
                                            ["email", "displayName", "role", "active", "password"],
                                            {"before": None, "after": after, "delivery": request.delivery}, at=row.createdAt))
    backend.after_commit("user.invite", row)
    return IssuedPassword(user=_fresh_view(actor, row), delivery=request.delivery,
                          one_time_password=password if request.delivery == "show" else None)


# ---------------------------------------------------------------- role and active


def _active_is(value: bool):
    """The condition that the stored flag is `value` (an item written before the attribute existed is active)."""
    return (UserModel.active == value) | UserModel.active.does_not_exist() if value else UserModel.active == value


def update_user(actor: Actor, user_id: str, change: UserChange | dict) -> ManagedUser:
    """PUT /admin/users/{userId}: a new role and/or active flag, in one transaction with one audit row."""
    require(actor, Operation.USERS_MANAGE)
    request = parse_input(UserChange, change)
    if request.role is None and request.active is None:
        raise ValidationError("role: give role or active (or both)", field="role")
    return _change(actor, user_id, role=_role(request.role) if request.role is not None else None, active=request.active)


def change_role(actor: Actor, user_id: str, role: str) -> ManagedUser:
    require(actor, Operation.USERS_MANAGE)
    return _change(actor, user_id, role=_role(role))


def disable_user(actor: Actor, user_id: str) -> ManagedUser:
    """The user can no longer sign in, and every session they have open ends at once."""
    require(actor, Operation.USERS_MANAGE)
    return _change(actor, user_id, active=False)


def enable_user(actor: Actor, user_id: str) -> ManagedUser:
    """The user can sign in again (sessions ended by the disabling stay ended)."""
    require(actor, Operation.USERS_MANAGE)
    return _change(actor, user_id, active=True)


def _change(actor: Actor, user_id: str, *, role: Role | None = None, active: bool | None = None) -> ManagedUser:
    for attempt in range(_ATTEMPTS):
        row = _row(user_id)
        before = {"role": row.role, "active": bool(row.active)}
        wanted = {"role": role.value if role else row.role, "active": before["active"] if active is None else active}
        changed = [name for name in ("role", "active") if wanted[name] != before[name]]
        if not changed:
            return _fresh_view(actor, row)  # nothing to change, nothing to audit
        if "role" in changed and (refusal := managed_in_cognito(row, "role")):
            raise Conflict(f"role: {refusal}", field="role")
        for name in changed:
            refusal = self_lockout(actor, row.userId, name)
            if refusal:
                raise Conflict(f"{name}: {refusal}", field=name)
        witness = None
        if is_active_admin(row) and not (wanted["role"] == Role.ADMIN.value and wanted["active"]):
            witness = _witness(actor, row)
            refusal = last_admin(row, [witness] if witness else [])
            if refusal:
                raise Conflict(f"{changed[0]}: {refusal}", field=changed[0])
        action = _action_name(changed, wanted)
        if _commit_change(actor, row, before, wanted, changed, witness, action):
            forget_team()
            identity_backend().after_commit(action, row)
            return get_user(actor, user_id)
    raise Conflict(f"{changed[0]}: the account or another Admin changed meanwhile; reload and try again", field=changed[0])


def _action_name(changed: list[str], wanted: dict) -> str:
    if changed == ["role"]:
        return "user.role_change"
    if changed == ["active"]:
        return "user.enable" if wanted["active"] else "user.disable"
    return "user.update"


def _commit_change(actor: Actor, row: UserModel, before: dict, wanted: dict, changed: list[str],
                   witness: UserModel | None, action: str) -> bool:
    """One transaction: the account (as it was read), the witness (still an active Admin), the audit row.
    False when a condition failed or the transaction met another (the caller reads afresh)."""
    now = utcnow()
    actions = [UserModel.updatedAt.set(now)]
    details: dict = {"before": {name: before[name] for name in changed}, "after": {name: wanted[name] for name in changed}}
    if "role" in changed:
        actions.append(UserModel.role.set(wanted["role"]))
    if "active" in changed:
        actions.append(UserModel.active.set(wanted["active"]))
        if not wanted["active"]:
            actions.extend(identity_backend().end_sessions(row))
            details["sessions"] = "all ended"
    work = UnitOfWork()
    work.update(row, actions, (UserModel.role == before["role"]) & _active_is(before["active"]), label="user")
    if witness is not None:
        work.update(witness, [UserModel.team.set(TEAM_PARTITION)],
                    (UserModel.role == Role.ADMIN.value) & _active_is(True), label="witness")
    work.save(audit_row(actor, action, RESOURCE, row.userId, changed, details, at=now))
    try:
        work.commit()
    except (WriteConflict, TransactWriteError):
        return False
    return True


# ---------------------------------------------------------------- password reset


def reset_password(actor: Actor, user_id: str) -> IssuedPassword:
    """A new one-time password (shown once), to be changed at the next sign-in; every open session ends."""
    require(actor, Operation.USERS_MANAGE)
    row = _row(user_id)
    refusal = self_lockout(actor, row.userId, "password")
    if refusal:
        raise Conflict(f"password: {refusal}", field="password")
    backend = identity_backend()
    if (row.identityProvider or "local") != backend.name:
        raise Conflict(f"password: this account signs in through {row.identityProvider}; reset it there", field="password")
    was_forced = bool(row.mustChangePassword)
    password = backend.set_one_time_password(row)
    now = utcnow()
    actions = [UserModel.passwordHash.set(row.passwordHash), UserModel.mustChangePassword.set(True),
               UserModel.updatedAt.set(now), *backend.end_sessions(row)]
    details = {"before": {"mustChangePassword": was_forced}, "after": {"mustChangePassword": True},
               "sessions": "all ended", "delivery": "show"}
    work = UnitOfWork()
    work.update(row, actions, UserModel.userId.exists(), label="user")
    work.save(audit_row(actor, "user.password_reset", RESOURCE, row.userId, ["password", "mustChangePassword"], details, at=now))
    try:
        work.commit()
    except (WriteConflict, TransactWriteError):
        raise Conflict("password: the account changed meanwhile; try again", field="password") from None
    forget_team()
    backend.after_commit("user.password_reset", row)
    return IssuedPassword(user=get_user(actor, user_id), delivery="show", one_time_password=password)
