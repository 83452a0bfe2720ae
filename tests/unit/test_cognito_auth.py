"""Cognito sign-in (issue 15): tokens verified against the pool's JWKS (moto's cognito-idp issues real RS256
tokens and serves the key set; a local authorization server, tests/oidc_server.py, plays the hosted UI for the
code flow and mints the bad tokens); the code flow with PKCE, state and nonce; the role from the groups; a disabled
account; refresh; logout; and the REST door taking a Cognito access token."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from joserfc.jwk import RSAKey
from starlette.testclient import TestClient

from backend.adapters.oidc_tokens import InvalidToken, JwksCache, TokenVerifier
from backend.api import asgi_door
from backend.errors import Conflict, PermissionDenied, Unauthenticated, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.user import UserModel
from backend.services.platform import cognito_auth, user_admin, users
from backend.services.platform.access import Role
from backend.settings import reset_settings_cache
from tests.oidc_server import CLIENT_ID, LocalOidcServer, OidcUser

REDIRECT = "http://127.0.0.1:3999/auth/callback"
LOGOUT = "http://127.0.0.1:3999/login"


@pytest.fixture
def hosted_ui(monkeypatch):
    server = LocalOidcServer(redirect_uris=(REDIRECT,)).start()
    for name, value in {"AUTH": "cognito", "COGNITO_ISSUER": server.issuer, "COGNITO_CLIENT_ID": CLIENT_ID,
                        "COGNITO_DOMAIN": server.base_url, "COGNITO_REDIRECT_URI": REDIRECT,
                        "COGNITO_LOGOUT_URI": LOGOUT}.items():
        monkeypatch.setenv(f"WECARE_{name}", value)
    reset_settings_cache()
    cognito_auth.reset()
    yield server
    server.stop()
    monkeypatch.undo()
    reset_settings_cache()
    cognito_auth.reset()


def browse(url: str) -> dict[str, str]:
    """What the browser would do at the hosted UI: follow its redirect back, and read the callback's query."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def sign_in(server: LocalOidcServer, user: OidcUser, next_path: str = "/"):
    server.sign_in_as(user)
    url, pending = cognito_auth.begin(next_path)
    return cognito_auth.complete(browse(url), pending)


# ---------------------------------------------------------------- tokens (moto's Cognito)


@pytest.fixture
def pool():
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = idp.create_user_pool(PoolName="wecare")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web",
                                            ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.create_group(GroupName="Operator", UserPoolId=pool_id)
    idp.admin_create_user(UserPoolId=pool_id, Username="ann@example.com", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "ann@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username="ann@example.com", Password="Long-password-123!",
                                Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="ann@example.com", GroupName="Operator")
    tokens = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": "ann@example.com",
                                                     "PASSWORD": "Long-password-123!"})["AuthenticationResult"]
    return f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}", client_id, tokens


def test_cognitos_own_tokens_verify_against_its_key_set(pool):
    issuer, client_id, tokens = pool
    check = TokenVerifier(issuer, client_id)
    claims = check.verify(tokens["IdToken"], "id")
    assert claims["cognito:groups"] == ["Operator"] and claims["aud"] == client_id
    assert check.verify(tokens["AccessToken"], "access")["client_id"] == client_id
    with pytest.raises(InvalidToken, match="'access' token where an 'id'"):
        check.verify(tokens["AccessToken"], "id")
    with pytest.raises(InvalidToken, match="another app client"):
        TokenVerifier(issuer, "another-client").verify(tokens["IdToken"], "id")
    with pytest.raises(InvalidToken, match="another user pool"):
        TokenVerifier(issuer + "x", client_id, check.jwks).verify(tokens["IdToken"], "id")
    assert cognito_auth.role_of(claims["cognito:groups"]) is Role.OPERATOR


@pytest.fixture
def server():
    running = LocalOidcServer().start()
    yield running
    running.stop()


def test_bad_tokens_are_refused_each_with_its_reason(server):
    ann = server.add_user(OidcUser("ann@example.com", ("Viewer",)))
    check = TokenVerifier(server.issuer, CLIENT_ID)
    assert check.verify(server.mint(ann, "id"), "id")["sub"] == ann.sub
    forger = RSAKey.generate_key(2048, parameters={"kid": server.keys[0].kid})  # the pool's key id, another key
    cases = {
        "the signature does not verify": server.mint(ann, "id", key=forger),
        "expired": server.mint(ann, "id", exp=int(time.time()) - 120),
        "another app client": server.mint(ann, "id", aud="someone-else"),
        "another user pool": server.mint(ann, "id", iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"),
        "'access' token where an 'id'": server.mint(ann, "access"),
        "issued in the future": server.mint(ann, "id", iat=int(time.time()) + 3600),
        "not a JSON Web Token": "not.a-token",
    }
    for reason, token in cases.items():
        with pytest.raises(InvalidToken, match=reason):
            check.verify(token, "id")
    with pytest.raises(InvalidToken, match="nonce"):
        check.verify(server.mint(ann, "id", nonce="one"), "id", nonce="another")
    unsigned = server.mint(ann, "id").split(".")
    header = "eyJhbGciOiJub25lIiwia2lkIjoia2V5LTEifQ"  # {"alg":"none","kid":"key-1"}
    with pytest.raises(InvalidToken, match="not RS256"):
        check.verify(f"{header}.{unsigned[1]}.", "id")


def test_a_rotated_key_is_fetched_once_and_unknown_key_ids_do_not_hammer_the_pool(server):
    ann = server.add_user(OidcUser("ann@example.com"))
    clock = [1000.0]
    jwks = JwksCache(f"{server.issuer}/.well-known/jwks.json", clock=lambda: clock[0])
    check = TokenVerifier(server.issuer, CLIENT_ID, jwks)
    check.verify(server.mint(ann, "access"), "access")
    assert jwks.fetches == 1
    server.rotate()
    clock[0] += 61  # past the refetch interval: a new key id is fetched
    check.verify(server.mint(ann, "access"), "access")
    assert jwks.fetches == 2
    stranger = RSAKey.generate_key(2048, parameters={"kid": "made-up"})
    for _ in range(5):  # within the interval: refused without asking the pool again
        with pytest.raises(InvalidToken, match="not one of the user pool's"):
            check.verify(server.mint(ann, "access", key=stranger), "access")
    assert jwks.fetches == 2


# ---------------------------------------------------------------- the code flow


def test_the_code_flow_signs_in_with_the_groups_role(hosted_ui):
    url, pending = cognito_auth.begin("/inbox")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{hosted_ui.base_url}/oauth2/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [pending.state]
    assert query["nonce"] == [pending.nonce] and pending.code_verifier not in url
    assert query["redirect_uri"] == [REDIRECT] and query["client_id"] == [CLIENT_ID]

    ann = OidcUser("Ann@Example.com", ("Viewer", "Operator"))
    hosted_ui.sign_in_as(ann)
    session = cognito_auth.complete(browse(url), pending)
    assert session.next_path == "/inbox" and session.refresh_token
    assert session.signed_in.user.role is Role.OPERATOR and session.signed_in.user.email == "ann@example.com"
    actor = users.actor_for_session(session.signed_in.token)
    assert (actor.user_id, actor.role) == (ann.sub, Role.OPERATOR)
    row = UserModel.get(ann.sub)
    assert row.identityProvider == "cognito" and row.passwordHash is None and row.lastLoginAt is not None

    ann.groups = ("Admin",)  # the groups are the source of truth: the next sign-in takes the new role
    again = sign_in(hosted_ui, ann)
    assert again.signed_in.user.role is Role.ADMIN and UserModel.get(ann.sub).role == "Admin"
    actions = [entry.action for entry in AuditLogModel.scan() if entry.resourceId == ann.sub]
    assert actions.count("user.sign_in") == 2 and "user.create" in actions


def test_a_callback_that_is_not_this_browsers_sign_in_is_refused(hosted_ui):
    ann = hosted_ui.add_user(OidcUser("ann@example.com"))
    hosted_ui.sign_in_as(ann)
    url, pending = cognito_auth.begin()
    params = browse(url)
    with pytest.raises(Unauthenticated, match="not the one this browser started"):
        cognito_auth.complete(params | {"state": "forged"}, pending)
    with pytest.raises(Unauthenticated, match="not the one this browser started"):
        cognito_auth.complete(params, None)
    cognito_auth.complete(params, pending)
    with pytest.raises(Unauthenticated, match="code expired or was used"):
        cognito_auth.complete(params, pending)  # a code works once
    late = cognito_auth.PendingSignIn(**(pending.to_dict() | {"started_at": time.time() - 3600}))
    with pytest.raises(Unauthenticated, match="too long"):
        cognito_auth.complete(params, late)
    with pytest.raises(Unauthenticated, match="access_denied"):
        cognito_auth.complete({"state": pending.state, "error": "access_denied"}, pending)


def test_a_tampered_nonce_is_refused(hosted_ui):
    ann = hosted_ui.add_user(OidcUser("ann@example.com"))
    hosted_ui.sign_in_as(ann)
    url, pending = cognito_auth.begin()
    params = browse(url)
    other = cognito_auth.PendingSignIn(**(pending.to_dict() | {"nonce": "not-the-one-sent"}))
    with pytest.raises(Unauthenticated, match="nonce"):
        cognito_auth.complete(params, other)
    assert UserModel.count() == 0


def test_no_group_means_no_access_said_plainly(hosted_ui):
    with pytest.raises(PermissionDenied) as refused:
        sign_in(hosted_ui, OidcUser("nobody@example.com", groups=()))
    assert "none of the groups Admin, Operator or Viewer" in refused.value.message
    assert UserModel.count() == 0


def test_a_disabled_account_cannot_sign_in_and_loses_its_session_at_once(hosted_ui, admin):
    ann = OidcUser("ann@example.com", ("Operator",))
    session = sign_in(hosted_ui, ann)
    assert users.actor_for_session(session.signed_in.token).is_authenticated
    user_admin.disable_user(admin, ann.sub)
    assert not users.actor_for_session(session.signed_in.token).is_authenticated  # at once
    with pytest.raises(Unauthenticated, match="disabled"):
        sign_in(hosted_ui, ann)


def test_refresh_renews_and_a_user_disabled_in_the_pool_is_signed_out(hosted_ui):
    ann = OidcUser("ann@example.com", ("Viewer",))
    session = sign_in(hosted_ui, ann)
    actor = users.actor_for_session(session.signed_in.token)
    assert cognito_auth.refresh(actor, session.refresh_token) > time.time() + 3000
    assert cognito_auth.needs_refresh(time.time() + 60) and not cognito_auth.needs_refresh(time.time() + 3600)
    ann.enabled = False
    with pytest.raises(Unauthenticated, match="ended your session"):
        cognito_auth.refresh(actor, session.refresh_token)


def test_logout_goes_through_the_hosted_ui_back_to_the_login_page(hosted_ui):
    url = cognito_auth.logout_url()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{hosted_ui.base_url}/logout?")
    assert query == {"client_id": [CLIENT_ID], "logout_uri": [LOGOUT]}


# ---------------------------------------------------------------- the REST door


def test_the_rest_door_takes_a_cognito_access_token(hosted_ui, admin):
    api = TestClient(asgi_door.build_api(), raise_server_exceptions=False)
    ann = hosted_ui.add_user(OidcUser("ann@example.com", ("Viewer",)))

    def get(token: str):
        return api.get("/api/contacts", headers={"Authorization": f"Bearer {token}"})

    assert get(hosted_ui.mint(ann, "access")).status_code == 200
    assert get(hosted_ui.mint(ann, "id")).status_code == 401  # an ID token is not a bearer token
    assert get(hosted_ui.mint(ann, "access", exp=int(time.time()) - 300)).status_code == 401
    forger = RSAKey.generate_key(2048, parameters={"kid": hosted_ui.keys[0].kid})
    assert get(hosted_ui.mint(ann, "access", key=forger)).status_code == 401
    nobody = hosted_ui.add_user(OidcUser("nobody@example.com", groups=()))
    assert get(hosted_ui.mint(nobody, "access")).status_code == 401
    created = api.post("/api/contacts", headers={"Authorization": f"Bearer {hosted_ui.mint(ann, 'access')}"},
                       json={"name": "Zed", "phone": "+447700900123"})
    assert created.status_code == 403  # a Viewer's token
    sign_in(hosted_ui, ann)
    user_admin.disable_user(admin, ann.sub)
    assert get(hosted_ui.mint(ann, "access")).status_code == 401  # a disabled row: at once


def test_in_cognito_mode_passwords_are_not_this_apps(hosted_ui):
    with pytest.raises(Unauthenticated, match="signs in through your organisation's account"):
        users.sign_in("admin@example.com", "any-password-at-all")
    ann = OidcUser("ann@example.com", ("Operator",))
    session = sign_in(hosted_ui, ann)
    actor = users.actor_for_session(session.signed_in.token)
    me = users.current_user(actor)
    assert not me.can_change_password and "manages your password and MFA" in me.password_reason
    with pytest.raises(ValidationError) as refused:
        users.change_own_password(actor, "", "a-new-password-123")
    assert refused.value.field == "currentPassword"


def test_in_cognito_mode_people_are_invited_and_given_roles_in_the_pool(hosted_ui, admin):
    listed = user_admin.list_users(admin)
    assert not listed.can_invite and "added in the Cognito user pool" in listed.invite_reason
    with pytest.raises(Conflict) as refused:
        user_admin.invite_user(admin, "new@example.com", "Operator")
    assert refused.value.field == "email" and UserModel.count() == 0
    ann = OidcUser("ann@example.com", ("Viewer",))
    sign_in(hosted_ui, ann)
    view = user_admin.get_user(admin, ann.sub)
    assert not view.can_change_role and "group in the Cognito user pool" in view.change_role_reason
    assert not view.can_reset_password and view.can_disable  # disabling stays here: the row is checked at once
    with pytest.raises(Conflict, match="group in the Cognito user pool"):
        user_admin.change_role(admin, ann.sub, "Admin")
    assert user_admin.disable_user(admin, ann.sub).active is False
