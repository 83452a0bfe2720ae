import re
from playwright.sync_api import expect
from tests.e2e.test_contacts_browser import signed_in_as
from backend.services import contacts, users

def test_admin_does_see_write_controls(page, e2e_app):
    admin = users.actor_for_session(users.sign_in(e2e_app.admin_email, e2e_app.admin_password).token)
    c = contacts.create_contact(admin, {"name": "Mutation Check", "phone": "+447700900123"}, via="e2e")
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin")
    expect(page.locator(".contact-row", has_text=c.name)).to_have_count(1)
    expect(page.locator("#new-contact-button")).to_have_count(1)
    expect(page.get_by_role("button", name="New contact")).to_have_count(1)
    expect(page.get_by_role("button", name="Import CSV")).to_have_count(1)
    expect(page.get_by_role("link", name="New contact")).to_have_count(2)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(2)
    page.goto(e2e_app.at(f"/contacts/{c.contact_id}"))
    expect(page.locator("#contact-name")).to_have_value(c.name)
    expect(page.locator("#contact-name")).not_to_have_attribute("readonly", "")
    expect(page.locator("#consent-sms")).to_be_enabled()
    expect(page.locator("#contact-save")).to_have_count(1)
    expect(page.locator("#contact-delete")).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("Save|Delete"))).to_have_count(2)
