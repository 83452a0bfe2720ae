"""Issue 11 in a real browser: after a send from /inbox/compose the "Last send" row follows its message live
(Queued, then Sent, then Delivered, from the sandbox's status events, without a reload), and the message log
names the contact, linking to the conversation, with the address under the name."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.services.messaging.statuses import STATUS_LABELS
from tests.conftest import unique_phone
from tests.e2e.harness import E2EApp
from tests.e2e.test_compose_voice_browser import _admin, _type
from tests.e2e.test_contacts_browser import signed_in_as

ORDER = [STATUS_LABELS[s] for s in ("PENDING", "SENDING", "ACCEPTED", "SENT", "DELIVERED")]


@pytest.fixture
def slow_sms_sandbox(monkeypatch):
    """Space the sandbox's SMS events 1.5 s apart (the default is 150 ms), so the row is on screen before the
    first one arrives and each status has to reach the browser live. The harness runs the backend in this
    process, so this is the provider the send worker uses."""
    from backend.adapters.channels import providers
    from backend.adapters.channels.sms import SandboxSmsProvider

    provider = providers.SMS.get()
    assert isinstance(provider, SandboxSmsProvider)
    monkeypatch.setattr(provider, "settings", provider.settings.model_copy(update={"sandbox_latency_ms": 1500}))
    return provider


_RECORD_STATUSES = """(name) => {
  window.__statuses = [];
  const record = () => {
    const row = [...document.querySelectorAll('.send-result')].find(r => r.textContent.includes(name));
    const status = row ? row.querySelector('.send-status') : null;
    const text = status ? status.textContent.trim() : null;
    if (text && window.__statuses[window.__statuses.length - 1] !== text) window.__statuses.push(text);
  };
  record();
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_the_last_send_follows_the_message_to_delivered_and_the_log_names_the_contact(
    page: Page, e2e_app: E2EApp, slow_sms_sandbox
) -> None:
    from backend.services.contacts.contacts import create_contact

    token = uuid.uuid4().hex[:6]
    person = create_contact(_admin(), {"name": f"Live Status {token}", "phone": unique_phone(), "optInSms": True})
    text = f"Your prescription is ready to collect. Ref {token}."

    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/inbox/compose")
    page.locator("#compose-channel").get_by_role("radio", name="SMS").click()
    _type(page, "#compose-search", person.name)
    page.locator(".compose-suggestion", has_text=person.name).click()
    expect(page.locator(".reach-row", has_text=person.name)).to_be_visible()
    page.locator("#compose-body").fill(text)
    page.evaluate("window.__noReload = true")
    page.evaluate(_RECORD_STATUSES, person.name)
    page.locator("#compose-send").click()

    row = page.locator(".send-result", has_text=person.name)
    expect(row.locator(".send-status")).to_have_text("Delivered", timeout=30_000)
    assert page.evaluate("window.__noReload") is True
    seen = page.evaluate("window.__statuses")
    assert seen[0] == "Queued" and seen[-1] == "Delivered" and len(seen) >= 3, seen  # each step arrived live
    assert seen == sorted(seen, key=ORDER.index), seen  # forward only
    e2e_app.screenshot(page, "test_the_last_send_follows_the_message_to_delivered")

    # The log names the contact, links the name to the conversation and shows the number under it.
    page.goto(e2e_app.at("/messages"))
    page.wait_for_url("**/messages")
    _type(page, "#messages-search", token)
    logged = page.locator(".message-row", has_text=text[:30])
    expect(logged).to_have_count(1)
    name = logged.locator(".message-contact")
    expect(name).to_have_text(person.name)
    expect(name).to_have_attribute("href", f"/inbox/{person.contact_id}")
    expect(logged.locator(".message-address")).to_have_text(person.phone)
    expect(logged.locator(".message-status")).to_have_text("DELIVERED")
    e2e_app.screenshot(page, "test_the_log_names_the_contact")
