"""Cognito sign-in in a browser (issue 15): the app in `WECARE_AUTH=cognito` mode sends the browser to the hosted
UI (a local authorization server shaped like Cognito's, tests/oidc_server.py), comes back to /auth/callback and
lands signed in with the role of the user's group; signing out goes through the hosted UI's logout back to
/login; a user in no group sees a page that says so.

The harness runs the app's backend in this process, so the mode is switched for these tests only (environment and
settings cache), and switched back after; the frontend reads the mode when the login page loads."""
from __future__ import annotations

import os
import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.services.platform import cognito_auth
from backend.settings import reset_settings_cache
from tests.e2e.conftest import E2EApp
from tests.oidc_server import CLIENT_ID, LocalOidcServer, OidcUser


@pytest.fixture
def hosted_ui(e2e_app: E2EApp):
    server = LocalOidcServer(redirect_uris=(e2e_app.at("/auth/callback"),)).start()
    settings = {"WECARE_AUTH": "cognito", "WECARE_COGNITO_ISSUER": server.issuer, "WECARE_COGNITO_CLIENT_ID": CLIENT_ID,
                "WECARE_COGNITO_DOMAIN": server.base_url, "WECARE_COGNITO_REDIRECT_URI": e2e_app.at("/auth/callback"),
                "WECARE_COGNITO_LOGOUT_URI": e2e_app.at("/login")}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    reset_settings_cache()
    cognito_auth.reset()
    try:
        yield server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings_cache()
        cognito_auth.reset()
        server.stop()


def test_signing_in_through_the_hosted_ui_lands_on_home_with_the_groups_role(page: Page, e2e_app: E2EApp, hosted_ui):
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    hosted_ui.sign_in_as(OidcUser(email, ("Operator",)))
    page.goto(e2e_app.at("/login?next=/contacts"))
    expect(page.locator("#login-email")).to_have_count(0)  # no password form in Cognito mode
    page.locator("#login-cognito").click()
    page.wait_for_url(e2e_app.at("/contacts"))
    expect(page.locator("#signed-in-role")).to_have_text("Operator")
    expect(page.locator("#signed-in-user")).to_have_text(email)
    e2e_app.screenshot(page, "cognito-signed-in")
    page.goto(e2e_app.at("/profile"))
    expect(page.locator("#profile-password-elsewhere")).to_contain_text("manages your password and MFA")
    expect(page.locator("#profile-submit")).to_have_count(0)

    page.get_by_label("Sign out").click()
    page.wait_for_url(e2e_app.at("/login"))
    expect(page.locator("#login-cognito")).to_be_visible()
    assert hosted_ui.logouts == [{"client_id": CLIENT_ID, "logout_uri": e2e_app.at("/login")}]
    page.goto(e2e_app.at("/contacts"))
    page.wait_for_url("**/login**")  # the session ended


def test_a_user_in_no_group_is_told_why_there_is_no_access(page: Page, e2e_app: E2EApp, hosted_ui):
    hosted_ui.sign_in_as(OidcUser(f"nobody-{uuid.uuid4().hex[:8]}@example.com", groups=()))
    page.goto(e2e_app.at("/login"))
    page.locator("#login-cognito").click()
    page.wait_for_url("**/auth/callback**")
    expect(page.locator("#callback-error")).to_contain_text("none of the groups Admin, Operator or Viewer")
    e2e_app.screenshot(page, "cognito-no-group")
    page.locator("#callback-retry").click()
    page.wait_for_url(e2e_app.at("/login"))
