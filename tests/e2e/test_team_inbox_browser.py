"""The team inbox with two operators: one assigns a conversation to the other, who sees it arrive in Mine live,
answers the SMS-only customer by SMS, adds a note the customer never receives and resolves it; the customer's
next text re-opens it for both, without a reload."""
from __future__ import annotations

import json
import time
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as
from tests.e2e.test_inbox_browser import OPERATOR_EMAIL, OPERATOR_PASSWORD, ensure_operator

SECOND_EMAIL = "cleo@e2e.wecare.test"
SECOND_PASSWORD = "e2e-Cleo-password-42"
SECOND_NAME = "Cleo Second"


def ensure_second_operator() -> str:
    from backend.errors import Conflict
    from backend.models.user import UserEmailKey, UserModel
    from backend.services.platform.access import Actor, Role
    from backend.services.platform.users import create_user

    try:
        return create_user(Actor(user_id="e2e", role=Role.ADMIN), SECOND_EMAIL, "Operator", SECOND_PASSWORD, display_name=SECOND_NAME).user_id
    except Conflict:
        return UserModel.get(UserEmailKey.get(UserEmailKey.key_for(SECOND_EMAIL)).ownerId).userId


def customer_texts(phone: str, body: str) -> None:
    """The customer's SMS, as two-way SMS publishes it, through the SMS channel's own ingest."""
    from backend.services.channels.sms.inbound import ingest_sms_event

    ingest_sms_event(json.dumps({
        "originationNumber": phone, "destinationNumber": "+12065550152", "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body, "inboundMessageId": str(uuid.uuid4()), "previousPublishedMessageId": None,
    }))


def test_two_operators_assign_reply_by_sms_note_resolve_and_the_customer_re_opens(page: Page, browser, e2e_app: E2EApp) -> None:
    from backend.models.messaging import MessageModel
    from backend.services.contacts.contacts import create_contact
    from backend.services.messaging import messages
    from backend.services.platform.access import Actor, Role

    ensure_operator()
    ensure_second_operator()
    admin = Actor(user_id="e2e", role=Role.ADMIN)
    token = uuid.uuid4().hex[:6]
    name = f"Sms Only {token}"
    phone = f"+4477007{int(token, 16) % 100000:05d}"
    contact = create_contact(admin, {"name": name, "phone": phone, "optInSms": True})
    customer_texts(phone, f"Is order {token} ready?")

    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/inbox")
    other = browser.new_context(viewport={"width": 1600, "height": 950})
    other.set_default_timeout(30_000)
    cleo = other.new_page()
    try:
        signed_in_as(cleo, e2e_app, SECOND_EMAIL, SECOND_PASSWORD, "Operator", start="/inbox")
        cleo.locator("#view-mine").click()
        expect(cleo.locator(".conversation-row", has_text=name)).to_have_count(0)

        # The first operator opens the conversation and gives it to Cleo.
        page.locator(".conversation-row", has_text=name).first.click()
        page.wait_for_url(f"**/inbox/{contact.contact_id}")
        expect(page.locator(".bubble-in", has_text=f"Is order {token} ready?")).to_be_visible()
        page.locator("#assignee-select").click()
        page.get_by_role("option", name=SECOND_NAME, exact=True).click()
        expect(page.locator(".timeline-event", has_text=f"Assigned to {SECOND_NAME}")).to_be_visible()

        # Cleo's Mine view shows it, live.
        mine = cleo.locator(".conversation-row", has_text=name)
        expect(mine).to_have_count(1, timeout=15_000)
        mine.click()
        cleo.wait_for_url(f"**/inbox/{contact.contact_id}")

        # The reply box starts on SMS (the channel the customer wrote on; WhatsApp and email cannot reach them).
        expect(cleo.locator(".reply-channel[data-channel='sms']")).to_be_enabled()
        expect(cleo.locator(".reply-channel[data-channel='email']")).to_be_disabled()
        cleo.locator("#thread-draft").fill(f"Yes, order {token} is ready.")
        cleo.locator("#thread-send").click()
        expect(cleo.locator(".bubble-out", has_text=f"order {token} is ready")).to_contain_text("SMS")
        expect(page.locator(".bubble-out", has_text=f"order {token} is ready")).to_be_visible(timeout=15_000)  # live in the other browser

        # A private note: in both threads, never sent.
        cleo.locator("#tab-note").click()
        cleo.locator("#note-draft").fill(f"Collect at the back door {token}")
        cleo.locator("#note-add").click()
        expect(cleo.locator(".timeline-note", has_text=f"Collect at the back door {token}")).to_be_visible()
        expect(page.locator(".timeline-note", has_text=f"Collect at the back door {token}")).to_be_visible(timeout=15_000)

        # Resolved, for both.
        cleo.locator("#resolve").click()
        expect(cleo.locator("#conversation-status")).to_contain_text("Resolved")
        expect(page.locator("#conversation-status")).to_contain_text("Resolved", timeout=15_000)
        e2e_app.screenshot(cleo, "test_two_operators_resolved")

        # The customer writes again: open again for both, and back in Cleo's Mine.
        customer_texts(phone, f"One more thing about {token}")
        for browser_page in (page, cleo):
            expect(browser_page.locator(".bubble-in", has_text=f"One more thing about {token}")).to_be_visible(timeout=15_000)
            expect(browser_page.locator("#conversation-status")).to_contain_text("Open", timeout=15_000)
        cleo.locator("#view-mine").click()
        expect(cleo.locator(".conversation-row", has_text=name)).to_have_count(1, timeout=15_000)
        e2e_app.screenshot(page, "test_two_operators_re_opened")
    finally:
        other.close()

    items = messages.conversation(admin, contact.contact_id, limit=50).items
    outbound = [m for m in items if getattr(m, "direction", None) == "outbound"]
    assert [m.body for m in outbound] == [f"Yes, order {token} is ready."]  # the note was never sent
    assert [i.kind for i in items].count("note") == 1
    deadline = time.monotonic() + 10
    while MessageModel.get(outbound[0].message_id).status == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert MessageModel.get(outbound[0].message_id).channel == "sms"
