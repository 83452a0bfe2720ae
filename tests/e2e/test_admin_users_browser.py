"""User administration in a real browser: an Admin invites a user and sees the one-time password once; the user
signs in with it in their own browser and must choose a password; the Admin changes their role (they see "Admins
only" on /admin/users either way), then disables them behind a confirmation, and the user's open page is sent to
/login on its next load. The Admin's own row offers no way to lock themself out."""
from __future__ import annotations

import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.e2e.conftest import FIRST_LOAD_TIMEOUT_MS, STEP_TIMEOUT_MS  # noqa: E402
from tests.e2e.harness import E2EApp  # noqa: E402
from tests.e2e.test_contacts_browser import sign_in  # noqa: E402

NEW_PASSWORD = "a-password-of-my-own-42"


def open_users_page(page: Page, app: E2EApp) -> None:
    """Sign in as the Admin and open /admin/users (its first compile in the dev server can take a while)."""
    sign_in(page, app, app.admin_email, app.admin_password)
    expect(page.locator("#signed-in-role")).to_have_text("Admin", timeout=FIRST_LOAD_TIMEOUT_MS)  # on the landing page
    page.goto(app.at("/admin/users"), timeout=FIRST_LOAD_TIMEOUT_MS)
    page.locator("#users-table").wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)


def test_an_admin_invites_changes_the_role_and_disables_and_the_users_session_ends(page: Page, browser: Browser, e2e_app: E2EApp) -> None:
    from backend.models.user import UserModel
    from backend.services.platform.audit import resource_history
    from backend.services.platform import users

    email = f"invited-{uuid.uuid4().hex[:8]}@e2e.wecare.test"
    open_users_page(page, e2e_app)
    me = page.locator(".user-row", has_text=e2e_app.admin_email)
    expect(me).to_contain_text("you")
    expect(me.locator(".user-disable")).to_be_disabled()  # no way to lock oneself out…
    expect(me.locator(".user-role-select")).to_be_disabled()
    me.locator(".user-disable").locator("..").hover()  # …and the tooltip says why
    expect(page.get_by_role("tooltip")).to_contain_text("lock yourself out")

    # A search that matches nobody says so, with a way back.
    page.locator("#users-search").fill("nobody-like-this")
    expect(page.get_by_text("No users match")).to_be_visible()
    e2e_app.screenshot(page, "admin-users-no-match")
    expect(page.locator("#users-count")).to_have_text(re.compile(r"^0 of \d+ accounts?$"))  # other tests add users
    page.locator("#users-clear-search").click()
    expect(me).to_be_visible()

    # Invite: the one-time password is shown once, with the warning.
    page.locator("#users-invite").click()
    page.locator("#invite-email").fill(email)
    page.locator("#invite-name").fill("Invited Person")
    page.locator("#invite-role").click()
    page.get_by_role("option", name=re.compile("^Viewer")).click()
    expect(page.locator("#invite-email-reason")).to_contain_text("never be stored")
    e2e_app.screenshot(page, "admin-users-invite")
    page.locator("#invite-submit").click()
    secret = page.locator("#one-time-password")
    expect(secret).to_be_visible()
    password = secret.inner_text().strip()
    assert len(password) >= 12
    expect(page.locator("#one-time-password-warning")).to_contain_text("This is the only time it is shown")
    e2e_app.screenshot(page, "admin-users-one-time-password")
    page.locator("#one-time-password-done").click()
    expect(secret).to_have_count(0)
    assert password not in page.content()
    row = page.locator(".user-row", has_text=email)
    expect(row).to_contain_text("Invited Person")
    expect(row.locator(".user-role")).to_have_text("Viewer")
    expect(row.locator(".user-last-sign-in")).to_have_text("never")
    expect(row).to_contain_text("new password pending")

    # The invited user, in their own browser: the one-time password works once, then a password of their own.
    theirs = browser.new_context(viewport={"width": 1366, "height": 900})
    theirs.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        user_page = theirs.new_page()
        sign_in(user_page, e2e_app, email, password)
        user_page.wait_for_url("**/profile")
        user_page.locator("#profile-current_password").fill(password)
        user_page.locator("#profile-new_password").fill(NEW_PASSWORD)
        user_page.locator("#profile-confirm_password").fill(NEW_PASSWORD)
        user_page.locator("#profile-submit").click()
        expect(user_page.get_by_text("Password changed.")).to_be_visible()
        user_page.goto(e2e_app.at("/admin/users"), timeout=FIRST_LOAD_TIMEOUT_MS)
        expect(user_page.locator("#users-denied")).to_contain_text("Admins only")  # the service refuses a Viewer
        expect(user_page.locator("#users-table")).to_have_count(0)
        e2e_app.screenshot(user_page, "admin-users-refused-to-a-viewer")

        # The Admin changes their role: it counts at once, audited with before and after.
        page.reload()
        row = page.locator(".user-row", has_text=email)
        expect(row.locator(".user-last-sign-in")).not_to_have_text("never")
        row.locator(".user-role-select").click()
        page.get_by_role("option", name="Operator", exact=True).click()
        expect(page.get_by_text("Invited Person is now an Operator.")).to_be_visible()
        expect(row.locator(".user-role")).to_have_text("Operator")
        user_id = UserModel.by_team.query("TEAM", UserModel.email == email).next().userId
        assert UserModel.get(user_id, consistent_read=True).role == "Operator"
        e2e_app.screenshot(page, "admin-users-list")

        # The user's page is open; the Admin disables them behind a confirmation.
        user_page.goto(e2e_app.at("/contacts"))
        expect(user_page.locator("#signed-in-role")).to_have_text("Operator")
        row.locator(".user-disable").click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_contain_text("every session they have open ends now")
        e2e_app.screenshot(page, "admin-users-disable-confirm")
        dialog.locator("#user-confirm").click()
        expect(row.locator(".user-state")).to_have_text("Disabled")
        expect(row.locator(".user-enable")).to_be_enabled()
        e2e_app.screenshot(page, "admin-users-disabled")

        # Their open page goes to /login on its next load, and the password no longer signs in.
        user_page.reload()
        user_page.wait_for_url(re.compile(r".*/login(\?.*)?$"))
        expect(user_page.locator("#login-email")).to_be_visible()
        with pytest.raises(Exception):
            users.sign_in(email, NEW_PASSWORD)
    finally:
        theirs.close()
    actions = [entry.action for entry in resource_history("user", user_id)]
    assert {"user.invite", "user.role_change", "user.disable"} <= set(actions)
    change = next(e for e in resource_history("user", user_id) if e.action == "user.role_change")
    assert change.details == {"before": {"role": "Viewer"}, "after": {"role": "Operator"}}
