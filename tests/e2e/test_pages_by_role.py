"""Every page the sidebar lists, visited as Viewer, Operator and Admin: it renders inside the shell for the role
without console errors (the `page` fixture fails a test on any), shows the role what it may do and hides what it
may not; an Admin's page opened by URL as anyone else is refused on the page and by the service; an address
that is no page gets the styled "not found" inside the shell."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import unique_phone
from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as
from wecare_app.components.navigation import NAV_MODULES

PASSWORD = "smoke-password-1234"
PAGES = [(entry.href, entry.roles) for module in NAV_MODULES for entry in module.entries if entry.ready]
ADMIN_ONLY = [href for href, roles in PAGES if roles == ("Admin",)]
# What a write control looks like on a page, to see it shown to writers and hidden from Viewers.
WRITE_CONTROLS = {"/contacts": "#new-contact-button", "/voice": "#voice-new-button"}


@pytest.fixture(scope="module")
def people() -> dict[str, tuple[str, str]]:
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform import users
    from backend.services.platform.access import Actor, Role

    admin = Actor(user_id="e2e", role=Role.ADMIN)
    made = {}
    for role in ("Viewer", "Operator"):
        email = f"smoke-{role.lower()}-{uuid.uuid4().hex[:6]}@example.com"
        users.create_user(admin, email, role, PASSWORD, display_name=f"Smoke {role}")
        made[role] = (email, PASSWORD)
    contact = create_contact(admin, {"name": "Smoke Customer", "phone": unique_phone(), "optInWhatsApp": True})
    made["contact"] = (contact.contact_id, "")
    return made


@pytest.mark.parametrize("role", ["Viewer", "Operator", "Admin"])
def test_every_page_renders_for_each_role_and_refuses_what_the_role_may_not_open(page: Page, e2e_app: E2EApp, people,
                                                                                   role: str) -> None:
    email, password = people[role] if role != "Admin" else (e2e_app.admin_email, e2e_app.admin_password)
    signed_in_as(page, e2e_app, email, password, role, start="/")
    sidebar = page.locator(".nav-entry")
    shown = {href for href, roles in PAGES if role in roles}
    expect(sidebar).to_have_count(len(shown))  # only the pages the role may open, and only pages that exist
    contact_id = people["contact"][0]
    for href in [href for href, _ in PAGES] + [f"/contacts/{contact_id}", f"/inbox/{contact_id}"]:
        page.goto(e2e_app.at(href))
        page.wait_for_url(e2e_app.at(href))
        expect(page.locator("#signed-in-role")).to_have_text(role)
        refused = page.get_by_text("Admins only", exact=True)
        if href in ADMIN_ONLY and role != "Admin":
            expect(refused).to_be_visible()
        else:
            expect(page.locator("h1").first).to_be_visible()
            expect(refused).to_have_count(0)
        if href in WRITE_CONTROLS:
            control = page.locator(WRITE_CONTROLS[href])
            if role == "Viewer":
                expect(control).to_have_count(0)
            else:
                expect(control).to_be_visible()
    page.goto(e2e_app.at(f"/no-such-page-{uuid.uuid4().hex[:6]}"))
    expect(page.get_by_text("There is no page at this address")).to_be_visible()
    expect(page.locator("#signed-in-role")).to_have_text(role)  # inside the shell
    e2e_app.screenshot(page, f"not-found-{role.lower()}")


def test_the_admins_services_refuse_anyone_else():
    from backend.errors import PermissionDenied
    from backend.services.messaging import dlq
    from backend.services.platform import user_admin, webhook_settings
    from backend.services.platform.access import Actor, Role

    for role in (Role.VIEWER, Role.OPERATOR):
        someone = Actor(user_id=f"smoke-{role.value}", role=role)
        for call in (lambda: user_admin.list_users(someone), lambda: dlq.list_dead_letters(someone),
                     lambda: webhook_settings.webhook_info(someone)):
            with pytest.raises(PermissionDenied):
                call()
