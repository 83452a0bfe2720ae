"""The dashboard and analytics in a real browser: the dashboard's figures move live while messages flow (no
reload, no polling), each tile links to its page (the dead letters only for an Admin), and /analytics charts the
counted days, switches range and exports the range as CSV."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.conftest import unique_phone
from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as
from tests.unit.people import customer_writes

PASSWORD = "viewer-password-123"


def kpi(page: Page, tile: str) -> int:
    return int(page.locator(f"#{tile} .kpi-value").inner_text().replace(",", "").rstrip("+"))


def test_the_dashboard_moves_live_while_messages_flow(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform.access import Actor, Role

    admin = Actor(user_id="e2e", role=Role.ADMIN)
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/")
    expect(page.locator("#dashboard-kpis .kpi-tile")).to_have_count(7)
    before_messages, before_open = kpi(page, "kpi-messages"), kpi(page, "kpi-inbox")

    person = create_contact(admin, {"name": f"Live Dashboard {uuid.uuid4().hex[:6]}", "phone": unique_phone(),
                                    "optInWhatsApp": True})
    customer_writes(person.phone, "Is the shop open on Sunday?")  # a customer's message arrives meanwhile
    expect(page.locator("#kpi-messages .kpi-value")).to_have_text(str(before_messages + 1))  # live: no reload
    expect(page.locator("#kpi-inbox .kpi-value")).to_have_text(str(before_open + 1))
    expect(page.locator(".channel-row-whatsapp")).to_be_visible()
    e2e_app.screenshot(page, "dashboard-live")

    page.locator("#kpi-dlq").click()  # an Admin's dead-letter tile opens the queue
    page.wait_for_url("**/admin/dlq")


def test_a_viewer_sees_the_dashboard_and_analytics_but_no_link_to_the_admins_pages(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.platform import users
    from backend.services.platform.access import Actor, Role

    from backend.services.contacts.contacts import create_contact

    admin = Actor(user_id="e2e", role=Role.ADMIN)
    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    users.create_user(admin, email, "Viewer", PASSWORD, display_name="Dana Viewer")
    person = create_contact(admin, {"name": "Counted Customer", "phone": unique_phone(), "optInWhatsApp": True})
    customer_writes(person.phone, "Something to count")
    signed_in_as(page, e2e_app, email, PASSWORD, "Viewer", start="/")
    expect(page.locator("#kpi-dlq")).to_be_visible()
    expect(page.locator("#kpi-dlq a")).to_have_count(0)  # the number, but not the Admins' page
    expect(page.locator("#kpi-inbox a")).to_have_attribute("href", "/inbox")

    page.goto(e2e_app.at("/analytics"))
    expect(page.locator("#analytics-period")).to_contain_text("(30 days, UTC)")
    expect(page.locator("#analytics-funnel .funnel-step-sent")).to_be_visible()
    page.get_by_role("radio", name="7 days").click()
    expect(page.locator("#analytics-period")).to_contain_text("(7 days, UTC)")
    with page.expect_download() as download:
        page.locator("#analytics-export").click()
    assert download.value.suggested_filename == "wecare-analytics-7d.csv"
    assert open(download.value.path()).readline().startswith("day,channel,direction,total,sent")
    page.get_by_role("radio", name="Custom").click()
    page.locator("#analytics-start").fill("2026-11-10")
    page.locator("#analytics-end").fill("2026-11-01")
    page.locator("#analytics-apply").click()
    expect(page.get_by_text("end: on or after the start")).to_be_visible()
    e2e_app.screenshot(page, "analytics-viewer")
