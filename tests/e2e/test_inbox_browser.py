"""The live inbox in two browsers: a customer's message appears in both without a reload, an operator's reply
appears in the other browser's thread, and the delivery status follows."""
from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid

from playwright.sync_api import Page, expect

from tests.conftest import unique_phone
from tests.e2e.harness import WEBHOOK_SECRET, E2EApp
from tests.e2e.test_contacts_browser import signed_in_as
from tests.whatsapp_events import make_wamid, meta_message, signed_webhook_headers, sns_message, webhook_entry

OPERATOR_EMAIL = "operator@e2e.wecare.test"
OPERATOR_PASSWORD = "e2e-Operator-password-42"


def customer_writes(app: E2EApp, phone: str, name: str, text: str) -> None:
    entry = webhook_entry([meta_message("text", wamid=make_wamid(phone, uuid.uuid4().hex), from_phone=phone, text=text, ts=int(time.time()))], from_phone=phone, profile_name=name)
    body = sns_message(entry).encode()
    request = urllib.request.Request(
        app.api_url + "/webhooks/whatsapp", data=body, headers=signed_webhook_headers(WEBHOOK_SECRET, body)
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["stored"] == 1


def ensure_operator() -> None:
    from backend.errors import Conflict
    from backend.services.platform.access import Actor, Role
    from backend.services.platform.users import create_user

    try:
        create_user(Actor(user_id="e2e", role=Role.ADMIN), OPERATOR_EMAIL, "Operator", OPERATOR_PASSWORD)
    except Conflict:
        pass


def test_two_browsers_see_each_others_traffic_live(page: Page, browser, e2e_app: E2EApp) -> None:
    ensure_operator()
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/inbox")
    other = browser.new_context(viewport={"width": 1366, "height": 900})
    other.set_default_timeout(30_000)
    operator = other.new_page()
    try:
        signed_in_as(operator, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/inbox")
        token = uuid.uuid4().hex[:6]
        phone = f"4477009{int(token, 16) % 100000:05d}"

        # The customer writes: both open inboxes show it, nobody reloads.
        customer_writes(e2e_app, phone, f"Live Customer {token}", f"Where is parcel {token}?")
        for browser_page in (page, operator):
            row = browser_page.locator(".conversation-row", has_text=f"Live Customer {token}")
            expect(row).to_contain_text(f"Where is parcel {token}?", timeout=15_000)
            expect(row.locator(".unread-badge")).to_have_text("1")

        # The admin opens the conversation; the operator replies from theirs.
        page.locator(".conversation-row", has_text=f"Live Customer {token}").click()
        expect(page.locator("#window-state")).to_contain_text("Window open")
        operator.locator(".conversation-row", has_text=f"Live Customer {token}").click()
        operator.locator("#thread-draft").fill(f"On its way, {token}!")
        operator.locator("#thread-send").click()

        # The admin's open thread shows the reply and then its delivery (the sandbox reports sent, delivered).
        reply = page.locator(".bubble-out", has_text=f"On its way, {token}!")
        expect(reply).to_be_visible(timeout=15_000)
        expect(reply).to_have_class(re.compile(r"status-(DELIVERED|READ)"), timeout=15_000)

        # A second customer message reaches the admin's open thread too.
        customer_writes(e2e_app, phone, f"Live Customer {token}", f"Thanks {token}")
        expect(page.locator(".bubble-in", has_text=f"Thanks {token}")).to_be_visible(timeout=15_000)
        e2e_app.screenshot(page, "test_two_browsers_see_each_others_traffic_live")
    finally:
        other.close()


def test_a_viewer_reads_the_inbox_but_cannot_reply(page: Page, e2e_app: E2EApp) -> None:
    from backend.errors import Conflict
    from backend.services.platform.access import Actor, Role
    from backend.services.platform.users import create_user

    try:
        create_user(Actor(user_id="e2e", role=Role.ADMIN), "viewer-inbox@e2e.wecare.test", "Viewer", "e2e-Viewer-password-42")
    except Conflict:
        pass
    token = uuid.uuid4().hex[:6]
    customer_writes(e2e_app, f"4477008{int(token, 16) % 100000:05d}", f"Viewer Sees {token}", f"hello {token}")
    signed_in_as(page, e2e_app, "viewer-inbox@e2e.wecare.test", "e2e-Viewer-password-42", "Viewer", start="/inbox")
    page.locator(".conversation-row", has_text=f"Viewer Sees {token}").click()
    expect(page.locator(".bubble-in", has_text=f"hello {token}")).to_be_visible()
    expect(page.locator("#thread-draft")).to_have_count(0)
    expect(page.locator("#template-picker")).to_have_count(0)


def test_outside_the_window_an_operator_sends_a_template_with_its_parameter(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.messaging import messages
    from backend.services.platform.access import Actor, Role
    from backend.services.contacts.contacts import create_contact

    admin = Actor(user_id="e2e", role=Role.ADMIN)
    ensure_operator()
    token = uuid.uuid4().hex[:6]
    contact = create_contact(admin, {"name": f"Template Taker {token}", "phone": unique_phone(), "optInWhatsApp": True})

    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start=f"/inbox/{contact.contact_id}")
    expect(page.locator("#thread-draft")).to_have_count(0)  # no message from them yet: the window is closed
    page.locator("#template-select").click()
    page.get_by_role("option", name="order_update (en_US)", exact=True).click()
    expect(page.locator("#template-picker")).to_contain_text("Your order {{1}} is on its way")
    page.locator(".template-param input").fill(f"WD-{token}")
    e2e_app.screenshot(page, "test_outside_the_window_an_operator_sends_a_template")
    page.locator("#template-send").click()

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        sent = [m for m in messages.conversation(admin, contact.contact_id, limit=10).items if m.direction == "outbound"]
        if sent:
            break
        time.sleep(0.2)
    assert len(sent) == 1 and sent[0].kind == "template"
    assert f"WD-{token}" in (sent[0].body or "")
