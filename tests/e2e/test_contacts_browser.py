"""The contacts console in a real browser: sign-in, create and find a contact, the Viewer's read-only view,
and a tampered session. Each test starts in a fresh browser context (no storage, no session)."""
from __future__ import annotations

import base64
import json
import re
import uuid

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.conftest import E2EApp  # noqa: E402

SESSION_KEY = "wecare_session"
CONTACT_PAGE = re.compile(r".*/contacts/(?!new$|import$)[^/?#]+$")


def sign_in(page: Page, app: E2EApp, email: str, password: str) -> None:
    page.goto(app.at("/login"))
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()


def signed_in_as(page: Page, app: E2EApp, email: str, password: str, role: str, start: str = "/contacts") -> None:
    """Sign in (which lands on the dashboard, /), then open `start`."""
    sign_in(page, app, email, password)
    page.wait_for_url(app.at("/"))
    expect(page.locator("#signed-in-role")).to_have_text(role)
    if start != "/":
        page.goto(app.at(start))
        page.wait_for_url(f"**{start}")
        expect(page.locator("#signed-in-role")).to_have_text(role)


def search(page: Page, text: str) -> None:
    box = page.locator("#contacts-search")
    box.fill("")
    box.press_sequentially(text, delay=40)  # typed key by key: search-as-you-type


def test_sign_in_as_admin_wrong_password_and_no_session(page: Page, e2e_app: E2EApp) -> None:
    # No session: a signed-in page sends the browser to /login.
    page.goto(e2e_app.at("/contacts"))
    page.wait_for_url(re.compile(r".*/login(\?.*)?$"))
    expect(page.locator("#login-email")).to_be_visible()

    # A wrong password shows the error and stays on /login.
    page.locator("#login-email").fill(e2e_app.admin_email)
    page.locator("#login-password").fill("not-the-right-password")
    page.locator("#login-submit").click()
    expect(page.locator("#login-error")).to_contain_text("Email or password is incorrect.")
    assert "/login" in page.url
    expect(page.locator("#signed-in-role")).to_have_count(0)

    # The right password goes back to the page asked for (/contacts), as Admin.
    page.locator("#login-password").fill(e2e_app.admin_password)
    page.locator("#login-submit").click()
    page.wait_for_url("**/contacts")
    expect(page.locator("#signed-in-role")).to_have_text("Admin")
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    e2e_app.screenshot(page, "test_sign_in_as_admin_wrong_password_and_no_session")


def test_create_contact_then_find_it_by_name_prefix_and_phone(page: Page, e2e_app: E2EApp) -> None:
    suffix = uuid.uuid4().hex[:6]
    name = f"Quillon Varga {suffix}"
    email_typed = f"Quillon.Varga.{suffix}@Example.COM"
    email_stored = email_typed.lower()

    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin")
    page.locator("#new-contact-button").click()
    page.wait_for_url("**/contacts/new")
    expect(page.get_by_role("heading", name="New contact", exact=True)).to_be_visible()

    page.locator("#contact-name").fill(name)
    page.locator("#contact-phone").fill("+44 7911 123458")
    page.locator("#contact-email").fill(email_typed)
    page.locator("#contact-tags").fill("vip, e2e")
    sms = page.locator("#consent-sms")
    sms.click()
    expect(sms).to_have_attribute("aria-checked", "true")
    expect(page.locator("#contact-name")).to_have_value(name)
    page.locator("#contact-create").click()

    # Lands on the new contact's page, which shows what was stored: E.164 phone, lowercased email.
    page.wait_for_url(CONTACT_PAGE)
    contact_url = page.url
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.locator("#contact-phone")).to_have_value("+447911123458")
    expect(page.locator("#contact-email")).to_have_value(email_stored)
    expect(page.locator("#contact-tags")).to_have_value(re.compile(r"vip.*e2e|e2e.*vip"))
    expect(page.locator("#consent-sms")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#consent-whatsapp")).to_have_attribute("aria-checked", "false")

    # Found on /contacts by typing the start of the name.
    page.get_by_role("link", name="All contacts").first.click()
    page.wait_for_url("**/contacts")
    search(page, "quillon v")
    row = page.locator(".contact-row", has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+447911123458")
    expect(row).to_contain_text(email_stored)
    expect(row).to_contain_text("SMS")

    # A name nobody has: no rows, the "No matches" state.
    search(page, "Zzyzx")
    expect(page.get_by_text("No matches")).to_be_visible()
    expect(page.locator(".contact-row")).to_have_count(0)

    # Found by its phone written the national way (default region GB).
    search(page, "07911 123458")
    row = page.locator(".contact-row", has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+447911123458")
    expect(page.locator(".contact-row")).to_have_count(1)
    e2e_app.screenshot(page, "test_create_contact_then_find_it_by_name_prefix_and_phone")

    # The row links to the same contact page.
    row.get_by_role("link", name=name).click()
    page.wait_for_url(contact_url)


def test_viewer_sees_no_write_controls(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.contacts import contacts

    from backend.services.platform import users
    admin = users.actor_for_session(users.sign_in(e2e_app.admin_email, e2e_app.admin_password).token)
    suffix = uuid.uuid4().hex[:6]
    viewer_email = f"viewer.{suffix}@e2e.wecare.test"
    viewer_password = f"viewer-password-{suffix}"
    users.create_user(admin, viewer_email, "Viewer", viewer_password, display_name="Vera Viewer")
    contact = contacts.create_contact(admin, {"name": f"Read Only {suffix}", "phone": "+44 7911 123459"}, via="e2e")

    signed_in_as(page, e2e_app, viewer_email, viewer_password, "Viewer")
    # The list has loaded (a row is shown) before we look for what must be absent.
    expect(page.locator(".contact-row", has_text=contact.name)).to_have_count(1)
    expect(page.locator("#new-contact-button")).to_have_count(0)
    expect(page.get_by_role("button", name="New contact")).to_have_count(0)
    expect(page.get_by_role("button", name="Import CSV")).to_have_count(0)
    expect(page.get_by_role("link", name="All contacts")).to_be_visible()
    expect(page.get_by_role("link", name="New contact")).to_have_count(0)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)

    page.goto(e2e_app.at(f"/contacts/{contact.contact_id}"))
    expect(page.get_by_role("heading", name=contact.name, exact=True)).to_be_visible()
    expect(page.locator("#contact-name")).to_have_value(contact.name)
    expect(page.locator("#signed-in-role")).to_have_text("Viewer")
    expect(page.locator("#contact-name")).to_have_attribute("readonly", "")
    expect(page.locator("#consent-sms")).to_be_disabled()
    expect(page.locator("#contact-save")).to_have_count(0)
    expect(page.locator("#contact-delete")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Save|Delete"))).to_have_count(0)
    expect(page.get_by_role("link", name="New contact")).to_have_count(0)
    e2e_app.screenshot(page, "test_viewer_sees_no_write_controls")


def _forge(token: str) -> str:
    """The same signature over a payload that claims another user and a later expiry."""
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["u"] = claims["u"][:-1] + ("0" if claims["u"][-1] != "0" else "1")
    claims["x"] = claims["x"] + 86_400
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


def test_tampered_session_token_goes_back_to_login(page: Page, e2e_app: E2EApp) -> None:
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin")
    token = page.evaluate(f"() => window.localStorage.getItem({SESSION_KEY!r})")
    assert token and token.count(".") == 1, f"no session token in localStorage: {token!r}"

    # The genuine token survives a full page load: the session really lives in localStorage.
    page.goto(e2e_app.at("/contacts"))
    expect(page.locator("#signed-in-role")).to_have_text("Admin")
    assert page.url.endswith("/contacts")

    page.evaluate(f"(value) => window.localStorage.setItem({SESSION_KEY!r}, value)", _forge(token))
    page.goto(e2e_app.at("/contacts"))
    page.wait_for_url(re.compile(r".*/login(\?.*)?$"))
    expect(page.locator("#login-email")).to_be_visible()
    expect(page.locator("#signed-in-role")).to_have_count(0)
    # The app forgets the bad token.
    page.wait_for_function(f"() => !window.localStorage.getItem({SESSION_KEY!r})")
    e2e_app.screenshot(page, "test_tampered_session_token_goes_back_to_login")
