"""Settings in a real browser: on /admin/rate-limits an Admin edits the SMS limit in place (a bad value is refused
under the box it names, and nothing changes), the new limit is what the outbox's bucket uses at once, and the page
shows the sends it then holds back, live; on /admin/config a bad value is refused under its setting, a good one
saved with who changed it, and the history tells both changes."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.conftest import FIRST_LOAD_TIMEOUT_MS  # noqa: E402
from tests.e2e.harness import E2EApp  # noqa: E402
from tests.e2e.test_contacts_browser import sign_in  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    "admin_rate_limits" not in (REPO / "wecare_app" / "wecare_app.py").read_text(),
    reason="wecare_app/wecare_app.py does not register wecare_app.pages.admin_rate_limits yet",
)


def open_as_admin(page: Page, app: E2EApp, path: str, ready: str) -> None:
    """Sign in as the Admin and open `path` (its first compile in the dev server can take a while)."""
    sign_in(page, app, app.admin_email, app.admin_password)
    expect(page.locator("#signed-in-role")).to_have_text("Admin", timeout=FIRST_LOAD_TIMEOUT_MS)
    page.goto(app.at(path), timeout=FIRST_LOAD_TIMEOUT_MS)
    page.locator(ready).wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)


def _admin():
    from backend.services.platform.access import Actor, Role

    return Actor(user_id="e2e-cleanup", email="e2e@wecare.test", role=Role.ADMIN)


def test_an_admin_changes_a_rate_limit_in_place_and_the_sender_obeys_it(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.platform import rate_limit, settings_catalog
    from backend.settings import get_settings

    sender = get_settings().sms_origination_identity
    try:
        open_as_admin(page, e2e_app, "/admin/rate-limits", "#rate-row-sms")
        row = page.locator("#rate-row-sms")
        expect(row).to_contain_text(sender)
        expect(row.locator(".rate-throttled")).to_have_text("0")

        # A bad value: refused under its box, nothing stored.
        page.locator("#rate-edit-sms").click()
        page.locator("#rate-edit-per-second").fill("0")
        page.locator("#rate-edit-save").click()
        expect(row).to_contain_text("greater than 0")
        assert settings_catalog.get_setting(_admin(), "rateLimit.sms").is_default
        e2e_app.screenshot(page, "admin-rate-limits-refused")

        # A good one: saved in place, and the bucket obeys it from the next take.
        page.locator("#rate-edit-per-second").fill("2")
        page.locator("#rate-edit-burst").fill("3")
        page.locator("#rate-edit-save").click()
        expect(row.locator(".rate-limit-value")).to_have_text("2/s")
        expect(row).to_contain_text("bursts of 3")
        expect(row).to_contain_text(f"changed by {e2e_app.admin_email}")
        assert rate_limit.bucket_config("sms", sender) == rate_limit.BucketConfig(2, 3)

        # Five sends at once: three tokens, two held back; the open page shows it without a reload.
        waits = [rate_limit.take("sms", sender) for _ in range(5)]
        assert sum(1 for wait in waits if wait > 0) == 2
        expect(row.locator(".rate-throttled")).to_have_text("2", timeout=15_000)
        e2e_app.screenshot(page, "admin-rate-limits")
    finally:
        settings_catalog.reset_setting(_admin(), "rateLimit.sms")


def test_an_admin_edits_a_setting_on_the_config_page(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.campaigns import jobs
    from backend.services.platform import settings_catalog

    key = "bulk.confirmThreshold"
    setting = f"[id='setting-{key}']"
    try:
        open_as_admin(page, e2e_app, "/admin/config", setting)
        box = page.locator(f"[id='setting-{key}-a']")
        expect(box).to_have_value("20")
        box.fill("2.5")
        page.locator(f"[id='setting-{key}-save']").click()
        expect(page.locator(setting)).to_contain_text("valid integer")
        assert jobs.confirm_threshold() == 20

        box.fill("50")
        page.locator(f"[id='setting-{key}-save']").click()
        expect(page.locator(setting)).to_contain_text(f"Changed by {e2e_app.admin_email}")
        expect(page.locator(setting)).to_contain_text("In force: 50 recipients")
        assert settings_catalog.get_setting(_admin(), key).value == 50

        page.locator(setting).get_by_role("button", name="History").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("20 recipients (the default) → 50 recipients")
        e2e_app.screenshot(page, "admin-config-history")
        dialog.get_by_role("button", name="Close").click()

        # The environment's settings are shown with where to change them, without a control.
        expect(page.locator("[id='setting-sendMode']")).to_contain_text("WECARE_SEND_MODE")
        expect(page.locator("[id='setting-sendMode-save']")).to_have_count(0)
        e2e_app.screenshot(page, "admin-config-settings")
    finally:
        settings_catalog.reset_setting(_admin(), key)
