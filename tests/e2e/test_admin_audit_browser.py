"""The audit log in a real browser: an Admin's label changes are listed newest first; filtering by user and action
keeps only them; an entry's detail shows its before and after side by side; the page says how long entries are
kept. An Operator gets the "Admins only" state."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import FIRST_LOAD_TIMEOUT_MS
from tests.e2e.test_contacts_browser import sign_in
from tests.e2e.harness import E2EApp

PASSWORD = "e2e-audit-password-42"


def _people(note: str) -> tuple[str, str]:
    """An Admin who changes the label catalog twice (before/after in the trail) and creates a contact, and an
    Operator; their emails."""
    from backend.services.contacts.contacts import create_contact
    from backend.services.messaging import inbox_settings
    from backend.services.platform import users
    from backend.services.platform.access import Actor, Role

    boot = Actor(user_id="e2e", role=Role.ADMIN)
    admin_email, operator_email = f"audit-admin-{note}@example.com", f"audit-op-{note}@example.com"
    made = users.create_user(boot, admin_email, "Admin", PASSWORD)
    users.create_user(boot, operator_email, "Operator", PASSWORD)
    admin = Actor(user_id=made.user_id, email=admin_email, role=Role.ADMIN)
    inbox_settings.save_labels(admin, {"labels": [{"name": f"VIP {note}", "color": "red"}]})
    inbox_settings.save_labels(admin, {"labels": [{"name": f"VIP {note}", "color": "green"}, {"name": "Billing", "color": "blue"}]})
    create_contact(admin, {"name": f"Audit {note}", "email": f"audit-contact-{note}@example.com"})
    return admin_email, operator_email


def open_audit_as(page: Page, app: E2EApp, email: str, role: str) -> None:
    """Sign in (wherever that lands), then open /admin/audit."""
    sign_in(page, app, email, PASSWORD)
    expect(page.locator("#signed-in-role")).to_have_text(role, timeout=FIRST_LOAD_TIMEOUT_MS)
    page.goto(app.at("/admin/audit"), timeout=FIRST_LOAD_TIMEOUT_MS)
    expect(page.locator("#signed-in-role")).to_have_text(role, timeout=FIRST_LOAD_TIMEOUT_MS)


def test_an_admin_filters_by_action_and_opens_an_entrys_before_and_after(page: Page, e2e_app: E2EApp) -> None:
    note = uuid.uuid4().hex[:8]
    admin_email, _ = _people(note)
    open_audit_as(page, e2e_app, admin_email, "Admin")
    expect(page.locator("#audit-retention")).to_contain_text("Entries are kept for 180 days")

    rows = page.locator(".audit-row")
    expect(rows.filter(has_text=admin_email).first).to_be_visible(timeout=FIRST_LOAD_TIMEOUT_MS)
    page.locator("#audit-user").fill(admin_email)
    page.locator("#audit-action").fill("inbox.")
    page.locator("#audit-search").click()
    expect(rows).to_have_count(2)  # the two label changes, not the contact nor anyone else's
    expect(rows.first.locator(".audit-action")).to_have_text("inbox.labels")
    expect(rows.first).to_contain_text("before/after")
    expect(page.locator("#audit-count")).to_have_text("2 entries shown")
    e2e_app.screenshot(page, "audit-filtered")

    rows.first.locator(".audit-open").click()  # the newest: the second change
    dialog = page.locator("#audit-detail")
    expect(dialog.locator("#audit-detail-title")).to_have_text("inbox.labels")
    expect(dialog).to_contain_text(admin_email)
    change = dialog.locator(".audit-change")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("changed")
    expect(change.locator("pre").nth(0)).to_have_text(f"name: VIP {note} · color: red")
    expect(change.locator("pre").nth(1)).to_have_text(f"name: VIP {note} · color: green\nname: Billing · color: blue")
    expect(dialog.locator("#audit-kept-until")).not_to_be_empty()
    e2e_app.screenshot(page, "audit-detail")
    page.locator("#audit-detail-close").click()
    expect(dialog).to_have_count(0)

    page.locator("#audit-action").fill("nothing.")
    page.locator("#audit-action").press("Enter")
    expect(page.get_by_text("No entries match")).to_be_visible()


def test_an_operator_gets_the_admins_only_state(page: Page, e2e_app: E2EApp) -> None:
    _, operator_email = _people(uuid.uuid4().hex[:8])
    open_audit_as(page, e2e_app, operator_email, "Operator")
    expect(page.get_by_text("Admins only")).to_be_visible(timeout=FIRST_LOAD_TIMEOUT_MS)
    expect(page.locator(".audit-row")).to_have_count(0)
    expect(page.locator("#audit-export")).to_have_count(0)
