"""Composing and calling in a real browser: an SMS to two contacts where the reachability list explains why one
cannot be reached and only the other is queued (with the live segment counter), and a voice call placed from
/voice/new whose page follows it live to "completed" on the sandbox's events."""
from __future__ import annotations

import re
import uuid

import pytest
from backend.services.messaging.statuses import STATUS_LABELS
from playwright.sync_api import Page, expect

from tests.conftest import unique_phone
from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as

CALL_PAGE = re.compile(r".*/voice/[0-9a-f]{32}$")
CALL_ORDER = ["Queued", "Dialling", "Ringing", "Answered", "Completed"]
# 161 characters of the GSM-7 alphabet: one more than a single SMS holds, so two parts of up to 153.
LONG_SMS = ("Your parcel is ready for collection at the Main Street counter. Bring photo ID and this code: 4471. "
            "Open 9-5 weekdays, 10-2 Saturdays. See you soon, WECARE team.")


def _admin():
    from backend.services.platform.access import Actor, Role

    return Actor(user_id="e2e", role=Role.ADMIN)


def _type(page: Page, selector: str, text: str) -> None:
    box = page.locator(selector)
    box.fill("")
    box.press_sequentially(text, delay=30)  # search-as-you-type


def test_compose_an_sms_the_reach_list_explains_the_refusal_and_one_is_queued(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.messaging import messages
    from backend.services.contacts.contacts import create_contact

    assert len(LONG_SMS) == 161
    token = uuid.uuid4().hex[:6]
    willing = create_contact(_admin(), {"name": f"Segment Yes {token}", "phone": unique_phone(), "optInSms": True})
    unwilling = create_contact(_admin(), {"name": f"Segment No {token}", "phone": unique_phone()})

    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/inbox/compose")
    page.locator("#compose-channel").get_by_role("radio", name="SMS").click()

    for contact in (willing, unwilling):
        _type(page, "#compose-search", contact.name)
        page.locator(".compose-suggestion", has_text=contact.name).click()
        expect(page.locator(".compose-recipient", has_text=contact.name)).to_be_visible()
    expect(page.locator(".compose-recipient")).to_have_count(2)

    # Before sending: who can't be reached, and why (the SMS send rule's own words).
    expect(page.locator(".reach-row")).to_have_count(2)
    refused = page.locator(".reach-row", has_text=unwilling.name)
    expect(refused).to_contain_text(f"{unwilling.name} has not opted in to SMS")
    expect(refused).to_have_class(re.compile(r"reach-refused"))
    expect(page.locator(".reach-row", has_text=willing.name)).to_have_class(re.compile(r"reach-ok"))
    expect(page.locator("#compose-reach-summary")).to_have_text("1 of 2 reachable")

    # The live segment counter: 161 GSM-7 characters are two parts.
    page.locator("#compose-body").fill(LONG_SMS[:160])
    expect(page.locator("#compose-segments")).to_have_text("GSM-7 · 160 characters · 1 part")
    page.locator("#compose-body").fill(LONG_SMS)
    expect(page.locator("#compose-segments")).to_have_text("GSM-7 · 161 characters · 2 parts")

    send = page.locator("#compose-send")
    expect(send).to_have_text("Send to 1 recipient")
    send.click()

    # The summary: one queued, one refused with its reason, and the way to the thread.
    expect(page.get_by_text("1 queued, 1 refused")).to_be_visible()
    queued = page.locator(".send-result", has_text=willing.name)
    # Queued, then live on (the Last send follows the message: the sandbox may have delivered it already).
    expect(queued).to_contain_text(re.compile("|".join(STATUS_LABELS[s] for s in ("PENDING", "SENDING", "ACCEPTED", "SENT", "DELIVERED"))))
    expect(queued.get_by_role("link", name="Thread")).to_have_attribute("href", f"/inbox/{willing.contact_id}")
    expect(page.locator(".send-result", has_text=unwilling.name)).to_contain_text("has not opted in to SMS")
    e2e_app.screenshot(page, "test_compose_an_sms_the_reach_list_explains_the_refusal_and_one_is_queued")

    # What was written: the whole text to the willing contact, nothing to the other.
    sent = messages.conversation(_admin(), willing.contact_id, limit=10).items
    assert [(m.channel, m.direction, m.body) for m in sent] == [("sms", "outbound", LONG_SMS)]
    assert messages.conversation(_admin(), unwilling.contact_id, limit=10).items == []

    # The thread link opens the conversation with the message in it.
    queued.get_by_role("link", name="Thread").click()
    page.wait_for_url(f"**/inbox/{willing.contact_id}")
    expect(page.locator(".bubble-out", has_text="Main Street counter")).to_be_visible()


@pytest.fixture
def slow_voice_sandbox(monkeypatch):
    """Space the sandbox's call events 1.2 s apart (the default is 150 ms) so the call page is open before the
    first one arrives: each status then has to reach the browser live. The harness runs the backend in this
    process, so this is the provider the send worker uses."""
    from backend.adapters.channels.voice import SandboxVoiceProvider
    from backend.adapters.channels import providers

    provider = providers.VOICE.get()
    assert isinstance(provider, SandboxVoiceProvider)
    monkeypatch.setattr(provider, "settings", provider.settings.model_copy(update={"sandbox_latency_ms": 1200}))
    return provider


_RECORD_STATUSES = """() => {
  window.__statuses = [];
  const record = () => {
    const badge = document.querySelector('#call-status');
    const text = badge ? badge.textContent.trim() : null;
    if (text && window.__statuses[window.__statuses.length - 1] !== text) window.__statuses.push(text);
  };
  record();
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_place_a_voice_call_and_watch_it_complete_live(page: Page, e2e_app: E2EApp, slow_voice_sandbox) -> None:
    from backend.services.contacts.contacts import create_contact

    token = uuid.uuid4().hex[:6]
    callee = create_contact(_admin(), {"name": f"Voice Callee {token}", "phone": unique_phone(), "optInVoice": True})
    words = f"Hello, this is WECARE calling about your appointment tomorrow at ten. Reference {token}."

    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/voice/new")
    _type(page, "#voice-search", callee.name)
    page.locator(".voice-match", has_text=callee.name).click()
    expect(page.locator("#voice-callee")).to_have_text(callee.name)

    page.locator("#voice-text").fill(words)
    expect(page.locator("#voice-estimate")).to_contain_text("spoken")
    expect(page.locator("#voice-estimate")).to_contain_text("13 words")
    page.locator("#voice-voice").click()
    page.get_by_role("option", name="Brian", exact=True).click()
    expect(page.locator("#voice-estimate")).to_contain_text("in Brian")
    e2e_app.screenshot(page, "test_place_a_voice_call_new_call_form")

    page.locator("#voice-call").click()
    page.wait_for_url(CALL_PAGE)
    expect(page.locator("#call-contact")).to_have_text(callee.name)
    page.evaluate("window.__noReload = true")
    page.evaluate(_RECORD_STATUSES)

    # The sandbox reports initiated, ringing, answered, completed; the page shows each without a reload.
    expect(page.locator("#call-status")).to_have_text("Completed", timeout=30_000)
    expect(page.locator(".call-event")).to_have_count(5)
    for index, label in enumerate(CALL_ORDER):
        expect(page.locator(".call-event").nth(index)).to_contain_text(label)
    expect(page.locator("#call-duration")).to_have_text(re.compile(r"^\d+ s$|^\d+ min \d\d s$"))
    expect(page.locator("#call-text")).to_have_text(words)
    assert page.evaluate("window.__noReload") is True
    seen = page.evaluate("window.__statuses")
    assert seen[-1] == "Completed" and len(seen) >= 3, seen
    assert seen == sorted(seen, key=CALL_ORDER.index), seen  # forward only
    e2e_app.screenshot(page, "test_place_a_voice_call_and_watch_it_complete_live")

    # The call log lists it, completed, linking back to the call.
    page.get_by_role("link", name="Call log").first.click()
    page.wait_for_url("**/voice")
    row = page.locator(".call-row", has_text=callee.name)
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("Brian")

    # Filtered to the callee, the log shows just this call.
    _type(page, "#voice-log-contact", callee.name)
    page.locator(".voice-contact-match", has_text=callee.name).click()
    expect(page.locator("#voice-contact-filter")).to_contain_text(callee.name)
    expect(page.locator(".call-row")).to_have_count(1)
    page.locator(".call-row").click()
    page.wait_for_url(CALL_PAGE)
    expect(page.locator("#call-status")).to_have_text("Completed")
