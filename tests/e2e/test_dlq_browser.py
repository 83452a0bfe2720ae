"""The dead-letter page in a real browser: an entry whose send may already have gone out carries a warning,
"Replay selected" skips it and says how many and why, and only its confirmed "Send anyway" sends it."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.conftest import unique_phone
from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as


def dead_letter(code: str, note: str) -> str:
    """A WhatsApp message to a new contact, dead-lettered with `code` (its error names `note`); its entry's id."""
    from backend.models.base import utcnow
    from backend.models.contact import ContactModel
    from backend.services.contacts.contacts import create_contact
    from backend.services.messaging import outbox
    from backend.services.messaging.rows import outbound_row
    from backend.services.platform.access import Actor, Role

    admin = Actor(user_id="e2e", role=Role.ADMIN)
    phone = unique_phone()
    contact = create_contact(admin, {"name": f"Dead Letter {note}", "phone": phone, "optInWhatsApp": True})
    payload = {"type": "text", "text": {"body": f"Your appointment {note}"}}
    row = outbound_row("e2e", ContactModel.get(contact.contact_id), channel="whatsapp", kind="text",
                       body=f"Your appointment {note}", now=utcnow(), address=phone, sender="sandbox", payload=payload)
    row.status = "SENDING"  # the worker had claimed it and called the provider…
    row.save()
    outbox.dead_letter(row, code, f"{code} e2e {note}")  # …and then the answer was lost, or it was refused
    return outbox.dlq_id("whatsapp", row.messageId)


def test_an_entry_that_may_have_gone_out_is_skipped_in_bulk_and_sent_only_anyway(page: Page, e2e_app: E2EApp) -> None:
    from backend.models.messaging import DLQMessageModel
    from backend.services.platform.audit import resource_history

    note = uuid.uuid4().hex[:8]
    lost = dead_letter("OUTCOME_UNKNOWN", f"lost-{note}")
    throttled = dead_letter("THROTTLED", f"throttled-{note}")
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/admin/dlq")

    lost_row = page.locator(".dlq-row", has_text=f"lost-{note}")
    throttled_row = page.locator(".dlq-row", has_text=f"throttled-{note}")
    expect(lost_row.locator(".dlq-maybe-sent")).to_be_visible()
    expect(throttled_row.locator(".dlq-maybe-sent")).to_have_count(0)
    expect(lost_row.locator(".dlq-send-anyway")).to_be_visible()
    expect(lost_row.locator(".dlq-replay")).to_have_count(0)
    e2e_app.screenshot(page, "dlq-may-have-gone-out")

    page.locator("#dlq-replay-all").click()  # what "replay all" would skip, and why, before it runs
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("of them will be skipped, not sent (may already have been delivered; replay it by hand with send anyway)")
    e2e_app.screenshot(page, "dlq-replay-all-skips")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    lost_row.locator(".dlq-select").click()
    throttled_row.locator(".dlq-select").click()
    page.locator("#dlq-replay-selected").click()
    expect(page.get_by_text("1 replayed, 1 skipped: may already have been delivered; replay it by hand with send anyway")).to_be_visible()
    expect(throttled_row).to_have_count(0)  # replayed: no longer waiting
    expect(lost_row).to_have_count(1)
    assert DLQMessageModel.get(lost).state == "waiting" and DLQMessageModel.get(throttled).state == "replayed"

    lost_row.locator(".dlq-send-anyway").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Send this message anyway?")
    expect(dialog).to_contain_text("may receive this message twice")
    e2e_app.screenshot(page, "dlq-send-anyway-confirm")
    dialog.locator(".dlq-send-anyway-confirm").click()
    expect(page.get_by_text("1 replayed", exact=True)).to_be_visible()
    expect(lost_row).to_have_count(0)
    assert DLQMessageModel.get(lost).state == "replayed"
    assert [(e.action, e.actor_email) for e in resource_history("dlq", lost)] == [("dlq.replay.send_anyway", e2e_app.admin_email)]
