"""Platform users and local sign-in: accounts, roles, sessions, own-password change, bootstrap admin."""
from __future__ import annotations

import secrets
import sys
import uuid
from datetime import datetime
from functools import lru_cache

from pydantic import BaseModel

from backend.adapters.passwords import hash_password, verify_password
from backend.adapters.session_tokens import SessionSigner, checked_secret, load_or_create_secret
from backend.errors import Conflict, NotFound, Unauthenticated, ValidationError
from backend.models.base import utcnow
from backend.models.runtime_config import SystemConfigModel
from backend.services.platform.team import forget_team
from backend.models.user import TEAM_PARTITION, UserEmailKey, UserModel
from backend.services.platform.access import Actor, Operation, Role, require
from backend.services.platform import sign_in_guard
from backend.services.platform.audit import audit_row
from backend.services.platform.sign_in_guard import guard_keys
from backend.services.platform.validation import normalise_email
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.settings import get_settings

RESOURCE = "user"
PASSWORD_MIN = 12
PASSWORD_MAX = 256
_BOOTSTRAP_MARKER = "bootstrap.admin"
_BAD_CREDENTIALS = "Email or password is incorrect."


class User(BaseModel):
    user_id: str
    email: str
    display_name: str | None
    role: Role
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None
    can_change_password: bool = True  # local accounts; Cognito manages its users' passwords (and MFA) itself
    password_reason: str = ""


class SignedIn(BaseModel):
    token: str
    user: User


def to_user(row: UserModel) -> User:
    return User(
        user_id=row.userId,
        email=row.email,
        display_name=row.displayName,
        role=Role(row.role),
        must_change_password=bool(row.mustChangePassword),
        created_at=row.createdAt,
        last_login_at=row.lastLoginAt,
        can_change_password=_password_here(row),
        password_reason="" if _password_here(row) else COGNITO_PASSWORD,
    )


COGNITO_PASSWORD = ("Your organisation's sign-in (Cognito) manages your password and MFA: change them there, "
                    "not here.")
COGNITO_ONLY = "This deployment signs in through your organisation's account (Cognito), not with a password here."


def _password_here(row: UserModel) -> bool:
    return (row.identityProvider or "local") == "local"


@lru_cache(maxsize=1)
def _signer() -> SessionSigner:
    settings = get_settings()
    if settings.session_secret is not None:
        secret = checked_secret(settings.session_secret.get_secret_value().encode(), "WECARE_SESSION_SECRET")
    else:
        secret = load_or_create_secret(settings.data_dir / "session.key")
    return SessionSigner(secret, settings.session_hours * 3600)


def issue_session(row: UserModel) -> str:
    """A session token for the user's current epoch (a sign-out or a disable ends it)."""
    return _signer().issue(row.userId, row.sessionEpoch)


def server_signer() -> SessionSigner:
    """The server's signer, for other short-lived links it hands out (media previews)."""
    return _signer()


def reset_session_signer() -> None:
    _signer.cache_clear()


def validate_password(password: str, field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise ValidationError(f"{field}: at least {PASSWORD_MIN} characters", field=field)
    if len(password) > PASSWORD_MAX:
        raise ValidationError(f"{field}: at most {PASSWORD_MAX} characters", field=field)


def _user_by_email(email: str) -> UserModel | None:
    try:
        owner = UserEmailKey.get(UserEmailKey.key_for(email), consistent_read=True).ownerId
        return UserModel.get(owner, consistent_read=True)
    except (UserEmailKey.DoesNotExist, UserModel.DoesNotExist):
        return None


def _new_user_row(email: str, role: Role, password: str, display_name: str | None, must_change: bool) -> UserModel:
    now = utcnow()
    return UserModel(
        userId=uuid.uuid4().hex,
        email=email,
        displayName=display_name,
        role=role.value,
        passwordHash=hash_password(password),
        mustChangePassword=must_change,
        sessionEpoch=secrets.token_hex(4),
        createdAt=now,
        updatedAt=now,
        team=TEAM_PARTITION,
    )


def insert_user(actor: Actor, row: UserModel, extra: UnitOfWork | None = None, *, audit=None) -> None:
    """Write a new user with its claim on the email and its audit row (`audit`, by default a "user.create"), all
    or nothing (with whatever `extra` holds); Conflict naming the email when another user has it."""
    work = extra or UnitOfWork()
    work.save(row, UserModel.userId.does_not_exist())
    work.save(UserEmailKey(userId=UserEmailKey.key_for(row.email), ownerId=row.userId), UserEmailKey.userId.does_not_exist(), label="email")
    work.save(audit or audit_row(actor, "user.create", RESOURCE, row.userId, ["email", "role"], {"role": row.role}))
    try:
        work.commit()
    except WriteConflict as conflict:
        if "email" in conflict.labels:
            raise Conflict(f"A user with email {row.email} already exists.", field="email") from None
        raise Conflict("The user could not be created; try again.") from None
    forget_team()  # assignable at once in this process (others see them within TEAM_CACHE_SECONDS)


def create_user(actor: Actor, email: str, role: str, password: str, display_name: str | None = None) -> User:
    require(actor, Operation.USERS_MANAGE)
    address = normalise_email(email)
    parsed_role = Role.parse(role)
    if parsed_role is None:
        raise ValidationError(f"role: one of {', '.join(r.value for r in Role)}", field="role")
    validate_password(password)
    row = _new_user_row(address, parsed_role, password, display_name, must_change=False)
    insert_user(actor, row)
    return to_user(row)


def sign_in(email: str, password: str, *, client: str | None = None) -> SignedIn:
    """Exchange local credentials for a session token. The error never says which part was wrong. Repeated
    failures lock the account and the client (`client`: the caller's address) for a while, see sign_in_guard."""
    if get_settings().cognito_sign_in:
        raise Unauthenticated(COGNITO_ONLY, field="email")
    keys = guard_keys(email or "", client)
    sign_in_guard.check_not_locked(keys)
    try:
        address = normalise_email(email or "")
    except ValidationError:
        verify_password(None, password or "")
        sign_in_guard.record_failure(keys)
        raise Unauthenticated(_BAD_CREDENTIALS, field="email") from None
    row = _user_by_email(address)
    if not verify_password(row.passwordHash if row else None, password or "") or not row or not row.active:
        reason = "unknown email" if row is None else "inactive account" if not row.active else "wrong password"
        locked = sign_in_guard.record_failure(keys)
        details = {"email": address, "reason": reason, "client": client} | ({"lockedSeconds": locked} if locked else {})
        _audit_sign_in(Actor.system("sign-in"), "user.sign_in_failed", row.userId if row else "unknown", details)
        raise Unauthenticated(_BAD_CREDENTIALS, field="email")
    sign_in_guard.record_success(keys)
    now = utcnow()
    row.update(actions=[UserModel.lastLoginAt.set(now)], add_version_condition=False)
    signed_in = SignedIn(token=issue_session(row), user=to_user(row))
    _audit_sign_in(Actor(user_id=row.userId, email=row.email, role=Role(row.role)), "user.sign_in", row.userId,
                   {"via": "local"}, at=now)
    return signed_in


def _audit_sign_in(actor: Actor, action: str, user_id: str, details: dict, at=None) -> None:
    """Sign-ins and sign-outs change no row the audit trail would otherwise show: their rows are written alone."""
    audit_row(actor, action, RESOURCE, user_id, (), details, at=at).save()


def actor_for_session(token: str | None) -> Actor:
    """The actor behind a session token, or anonymous if it is missing, forged, expired or revoked."""
    claims = _signer().verify(token or "")
    if claims is None:
        return Actor.anonymous()
    try:
        row = UserModel.get(claims.user_id, consistent_read=True)  # a sign-out elsewhere counts at once
    except UserModel.DoesNotExist:
        return Actor.anonymous()
    if not row.active or row.sessionEpoch != claims.epoch:
        return Actor.anonymous()
    return Actor(
        user_id=row.userId, email=row.email, role=Role(row.role), must_change_password=bool(row.mustChangePassword)
    )


def current_user(actor: Actor) -> User:
    require(actor, Operation.PROFILE_SELF)
    try:
        return to_user(UserModel.get(actor.user_id))
    except UserModel.DoesNotExist:
        raise NotFound("Your account no longer exists.") from None


def sign_out(actor: Actor) -> None:
    """End every session of this user (a new epoch makes all earlier tokens invalid)."""
    if not actor.is_authenticated:
        return
    try:
        row = UserModel.get(actor.user_id, consistent_read=True)
    except UserModel.DoesNotExist:
        return
    row.update(actions=[UserModel.sessionEpoch.set(secrets.token_hex(4))], add_version_condition=False)
    _audit_sign_in(actor, "user.sign_out", row.userId, {"sessions": "all ended"})


def change_own_password(actor: Actor, current_password: str, new_password: str) -> SignedIn:
    require(actor, Operation.PROFILE_SELF)
    row = UserModel.get(actor.user_id, consistent_read=True)
    if not _password_here(row):
        raise ValidationError(COGNITO_PASSWORD, field="currentPassword")
    if not verify_password(row.passwordHash, current_password or ""):
        raise ValidationError("currentPassword: is not your current password", field="currentPassword")
    validate_password(new_password, field="newPassword")
    if new_password == current_password:
        raise ValidationError("newPassword: must differ from the current password", field="newPassword")
    now = utcnow()
    row.passwordHash = hash_password(new_password)
    row.mustChangePassword = False
    row.sessionEpoch = secrets.token_hex(4)
    row.updatedAt = now
    work = UnitOfWork()
    work.save(row)
    work.save(audit_row(actor, "user.password_change", RESOURCE, row.userId, ["password"], at=now))
    try:
        work.commit()
    except WriteConflict:
        raise Conflict("Your account changed meanwhile; try again.") from None
    return SignedIn(token=issue_session(row), user=to_user(row))


def ensure_bootstrap_admin() -> str | None:
    """On first run create the first Admin, once across all processes. Returns its email if created.

    Uses WECARE_ADMIN_EMAIL / WECARE_ADMIN_PASSWORD; without a password a one-time one is printed to
    the console (never to the log) and must be changed at first sign-in.
    """
    settings = get_settings()
    system = Actor(user_id="system", email=None, role=Role.ADMIN)
    email = normalise_email(settings.admin_email or "admin@wecare.local")
    marker = SystemConfigModel(configKey=_BOOTSTRAP_MARKER, value={"email": email}, updatedBy="system", updatedAt=utcnow())
    if _marker_exists():
        return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    if given is not None:
        validate_password(given, field="WECARE_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    row = _new_user_row(email, Role.ADMIN, password, "Administrator", must_change=given is None)
    work = UnitOfWork()
    work.save(marker, SystemConfigModel.configKey.does_not_exist(), label="marker")
    try:
        insert_user(system, row, work)
    except Conflict:
        return None  # another process bootstrapped first, or the email is taken already
    if given is None:
        print(
            f"\n  WECARE first run: sign in as {email} with the one-time password {password}\n"
            "  (you will be asked to choose a new one).\n",
            file=sys.stderr,
            flush=True,
        )
    return email


def _marker_exists() -> bool:
    try:
        SystemConfigModel.get(_BOOTSTRAP_MARKER, consistent_read=True)
        return True
    except SystemConfigModel.DoesNotExist:
        return False
