"""Sign-in through Cognito's hosted UI (`WECARE_AUTH=cognito`): the OpenID Connect authorization-code flow with
PKCE, by authlib's OAuth2 client, and Cognito bearer tokens at the REST door.

- `begin(next)`: a fresh `state`, `nonce` and PKCE code verifier (kept server-side by the caller, never in the
  URL), and the hosted UI's authorize URL (S256 challenge).
- `complete(params, pending)`: the callback's `state` must be the one begun (and at most PENDING_SECONDS old); the
  code is exchanged with the verifier; the ID token is verified with the nonce and the access token too
  (backend/adapters/oidc_tokens.py: signature against the pool's JWKS, `iss`, `aud`/`client_id`, `exp`,
  `token_use`). The role comes from `cognito:groups` (Admin > Operator > Viewer); no group, no access, said
  plainly. The user's row (userId = the Cognito `sub`, `identityProvider` cognito) is created on the first sign-in
  and takes the groups' role on each; a row an Admin disabled refuses the sign-in. The app's own session token
  follows, so a disable or sign-out on /admin/users ends the session at once, as for local accounts.
- `refresh(actor, refresh_token)`: new tokens before the old ones expire; Cognito refuses it for a user disabled
  in the pool, and so the session ends within one token lifetime (an hour by default) even if nobody disables
  the row here.
- `logout_url()`: the hosted UI's logout endpoint, back to this app's /login.
- `actor_for_bearer(token)`: the REST door's caller from a Cognito access token (the same checks; a disabled row
  is anonymous).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from urllib.parse import urlencode

from pydantic import BaseModel

from backend.adapters.oidc_tokens import InvalidToken, TokenVerifier
from backend.errors import PermissionDenied, Unauthenticated, Unavailable
from backend.models.base import utcnow
from backend.models.user import TEAM_PARTITION, UserModel
from backend.services.platform import users
from backend.services.platform.access import Actor, Role
from backend.services.platform.audit import audit_row
from backend.settings import get_settings

PENDING_SECONDS = 600  # a sign-in must come back from the hosted UI within ten minutes
REFRESH_MARGIN_SECONDS = 300  # refresh when the tokens have less than five minutes left
SCOPE = "openid email profile"
GROUP_ROLES = (Role.ADMIN, Role.OPERATOR, Role.VIEWER)  # highest first
NO_ROLE = ("Your account signed in, but it is in none of the groups Admin, Operator or Viewer, so it has no access "
           "to WECARE yet. Ask an Admin to add you to one of them in the Cognito user pool.")
DISABLED = "Your WECARE account is disabled. Ask an Admin to enable it."


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    nonce: str
    code_verifier: str
    next_path: str
    started_at: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "PendingSignIn | None":
        try:
            return cls(**{name: (data or {})[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None


class CognitoSession(BaseModel):
    signed_in: users.SignedIn
    refresh_token: str | None
    expires_at: float  # epoch seconds when the Cognito tokens expire
    next_path: str


def enabled() -> bool:
    return get_settings().cognito_sign_in


def _need(value: str | None, name: str) -> str:
    if not value:
        raise Unavailable(f"Cognito sign-in is not configured: set WECARE_{name.upper()}.")
    return value


@lru_cache(maxsize=4)
def _verifier(issuer: str, client_id: str) -> TokenVerifier:
    return TokenVerifier(issuer, client_id)


def verifier() -> TokenVerifier:
    settings = get_settings()
    return _verifier(_need(settings.cognito_issuer, "cognito_issuer"), _need(settings.cognito_client_id, "cognito_client_id"))


def reset() -> None:
    """Forget the cached verifiers and their keys (tests, a changed configuration)."""
    _verifier.cache_clear()


def _oauth_client(**extra):
    from authlib.integrations.requests_client import OAuth2Session

    settings = get_settings()
    return OAuth2Session(
        _need(settings.cognito_client_id, "cognito_client_id"), scope=SCOPE,
        redirect_uri=_need(settings.cognito_redirect_uri, "cognito_redirect_uri"),
        code_challenge_method="S256", token_endpoint_auth_method="none", **extra,
    )


def _endpoint(path: str) -> str:
    return _need(get_settings().cognito_domain, "cognito_domain").rstrip("/") + path


def begin(next_path: str = "/") -> tuple[str, PendingSignIn]:
    """The hosted UI's authorize URL and what the callback must match (keep it server-side)."""
    pending = PendingSignIn(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                            code_verifier=secrets.token_urlsafe(64), next_path=next_path or "/",
                            started_at=time.time())
    with _oauth_client() as client:
        url, _state = client.create_authorization_url(_endpoint("/oauth2/authorize"), state=pending.state,
                                                      nonce=pending.nonce, code_verifier=pending.code_verifier)
    return url, pending


def role_of(groups) -> Role | None:
    names = {str(group) for group in (groups or [])} if isinstance(groups, (list, tuple)) else set(str(groups or "").split())
    return next((role for role in GROUP_ROLES if role.value in names), None)


def complete(params: dict[str, str], pending: PendingSignIn | dict | None, *, client: str | None = None) -> CognitoSession:
    """Finish the sign-in the callback brought back (see the module docstring). `pending`: what `begin` gave,
    or its `to_dict()` as the caller kept it."""
    if not isinstance(pending, PendingSignIn):
        pending = PendingSignIn.from_dict(pending)
    if pending is None or not params.get("state") or not secrets.compare_digest(str(params["state"]), pending.state):
        raise Unauthenticated("This sign-in link is not the one this browser started (or it was used already). "
                              "Sign in again.", field="state")
    if time.time() - pending.started_at > PENDING_SECONDS:
        raise Unauthenticated("The sign-in took too long to come back. Sign in again.", field="state")
    if params.get("error"):
        raise Unauthenticated(f"Cognito did not sign you in ({str(params['error'])[:60]}). Sign in again.",
                              field="code")
    if not params.get("code"):
        raise Unauthenticated("Cognito sent no authorization code. Sign in again.", field="code")
    try:
        with _oauth_client() as oauth:
            token = oauth.fetch_token(_endpoint("/oauth2/token"), grant_type="authorization_code",
                                      code=str(params["code"]), code_verifier=pending.code_verifier)
    except Exception as exc:  # noqa: BLE001 — authlib raises OAuthError, requests its own: one message for the page
        raise Unauthenticated("Cognito refused to complete the sign-in (the code expired or was used). Sign in "
                              "again.", field="code") from exc
    claims = _verified(token, nonce=pending.nonce)
    signed_in = _sign_in(claims, client=client)
    return CognitoSession(signed_in=signed_in, refresh_token=token.get("refresh_token"),
                          expires_at=_expires_at(token), next_path=pending.next_path)


def _verified(token: dict, *, nonce: str | None) -> dict:
    check = verifier()
    try:
        claims = check.verify(str(token.get("id_token") or ""), "id", nonce=nonce)
        access = check.verify(str(token.get("access_token") or ""), "access")
    except InvalidToken as bad:
        raise Unauthenticated(f"Cognito's answer could not be trusted ({bad.reason}). Sign in again.") from None
    if access.get("sub") != claims.get("sub"):
        raise Unauthenticated("Cognito's tokens name two different users. Sign in again.")
    return claims


def _expires_at(token: dict) -> float:
    try:
        return time.time() + float(token.get("expires_in") or 3600)
    except (TypeError, ValueError):
        return time.time() + 3600


def _sign_in(claims: dict, *, client: str | None) -> users.SignedIn:
    role = role_of(claims.get("cognito:groups"))
    sub, email = str(claims["sub"]), str(claims.get("email") or "")
    if role is None:
        audit_row(Actor.system("sign-in"), "user.sign_in_failed", users.RESOURCE, sub,
                  (), {"via": "cognito", "reason": "no group", "client": client}).save()
        raise PermissionDenied(NO_ROLE)
    row = _row_for(sub, email, role)
    if not row.active:
        audit_row(Actor.system("sign-in"), "user.sign_in_failed", users.RESOURCE, sub,
                  (), {"via": "cognito", "reason": "inactive account", "client": client}).save()
        raise Unauthenticated(DISABLED)
    now = utcnow()
    actions = [UserModel.lastLoginAt.set(now)]
    if row.role != role.value:  # the groups are the source of truth for a Cognito user's role
        actions += [UserModel.role.set(role.value), UserModel.updatedAt.set(now)]
    before = row.role
    row.update(actions=actions, add_version_condition=False)
    actor = Actor(user_id=row.userId, email=row.email, role=role)
    details = {"via": "cognito"} | ({"roleBefore": before, "role": role.value} if before != role.value else {})
    audit_row(actor, "user.sign_in", users.RESOURCE, row.userId, (), details, at=now).save()
    return users.SignedIn(token=users.issue_session(row), user=users.to_user(row))


def _row_for(sub: str, email: str, role: Role) -> UserModel:
    try:
        return UserModel.get(sub, consistent_read=True)
    except UserModel.DoesNotExist:
        pass
    if not email:
        raise Unauthenticated("Cognito sent no email address for your account; ask an Admin to add one.")
    now = utcnow()
    row = UserModel(userId=sub, email=email.lower(), role=role.value, identityProvider="cognito", passwordHash=None,
                    sessionEpoch=secrets.token_hex(4), createdAt=now, updatedAt=now, team=TEAM_PARTITION)
    users.insert_user(Actor.system("sign-in"), row, audit=audit_row(
        Actor.system("sign-in"), "user.create", users.RESOURCE, sub, ["email", "role"],
        {"role": role.value, "via": "cognito"}))
    return row


def refresh(actor: Actor, refresh_token: str) -> float:
    """New Cognito tokens for a signed-in user; the new expiry. Unauthenticated when Cognito refuses (the user was
    disabled or signed out in the pool), when the row is disabled here, or when the groups give no role any more."""
    if not actor.is_authenticated or not refresh_token:
        raise Unauthenticated("Your session has ended. Sign in again.")
    try:
        with _oauth_client() as oauth:
            token = oauth.refresh_token(_endpoint("/oauth2/token"), refresh_token=refresh_token)
    except Exception:  # noqa: BLE001 — any refusal ends the session
        raise Unauthenticated("Cognito ended your session. Sign in again.") from None
    claims = _verified(token, nonce=None)
    if str(claims["sub"]) != actor.user_id:
        raise Unauthenticated("Cognito's tokens are for another user. Sign in again.")
    if role_of(claims.get("cognito:groups")) is None:
        raise PermissionDenied(NO_ROLE)
    return _expires_at(token)


def needs_refresh(expires_at: float, now: float | None = None) -> bool:
    return expires_at - (now or time.time()) < REFRESH_MARGIN_SECONDS


def logout_url() -> str:
    settings = get_settings()
    query = urlencode({"client_id": _need(settings.cognito_client_id, "cognito_client_id"),
                       "logout_uri": _need(settings.cognito_logout_uri, "cognito_logout_uri")})
    return f"{_endpoint('/logout')}?{query}"


def signed_out_url() -> str:
    """Where a browser goes after signing out: the hosted UI's logout (Cognito), or /login."""
    return logout_url() if enabled() else "/login"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def actor_for_bearer(token: str) -> Actor:
    """The caller behind a Cognito access token, or anonymous (bad token, no role, a disabled row)."""
    settings = get_settings()
    if not (settings.cognito_issuer and settings.cognito_client_id):
        return Actor.anonymous()
    try:
        claims = verifier().verify(token, "access")
    except InvalidToken:
        return Actor.anonymous()
    role = role_of(claims.get("cognito:groups"))
    if role is None:
        return Actor.anonymous()
    sub = str(claims["sub"])
    try:
        row = UserModel.get(sub, consistent_read=True)
        if not row.active:
            return Actor.anonymous()
        email = row.email
    except UserModel.DoesNotExist:
        email = claims.get("username")
    return Actor(user_id=sub, email=email, role=role)
