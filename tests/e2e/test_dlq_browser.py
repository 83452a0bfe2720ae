"""The dead-letter page in a real browser: an entry whose send may already have gone out carries a warning,
"Replay selected" skips it and says how many and why, and only its confirmed "Send anyway" sends it. Each entry
names its recipient (a link to their conversation, or "Deleted contact") and the address; a replay says what
became of each entry, and one that fails again is reported live, on its line and on its row back in the queue."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.conftest import unique_phone
from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as


def phone_ending(ending: str) -> str:
    """A valid UK mobile number, unused in this run, ending in `ending` (the sandbox fails some endings on purpose)."""
    import phonenumbers

    while True:
        candidate = f"+4479{uuid.uuid4().int % 10**4:04d}{ending}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def dead_letter(code: str, note: str, phone: str | None = None) -> str:
    """A WhatsApp message to a new contact (at `phone`), dead-lettered with `code` (its error names `note`); its
    entry's id."""
    from backend.models.base import utcnow
    from backend.models.contact import ContactModel
    from backend.services.contacts.contacts import create_contact
    from backend.services.channels.whatsapp.messages import text_message
    from backend.services.messaging import outbox
    from backend.services.messaging.rows import outbound_row
    from backend.services.platform.access import Actor, Role

    admin = Actor(user_id="e2e", role=Role.ADMIN)
    phone = phone or unique_phone()
    contact = create_contact(admin, {"name": f"Dead Letter {note}", "phone": phone, "optInWhatsApp": True})
    payload = {"message": text_message(f"Your appointment {note}"), "fileId": None}  # as send_whatsapp stores it
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


def test_each_entry_names_its_recipient_and_a_replay_that_fails_again_is_reported_live(page: Page, e2e_app: E2EApp) -> None:
    from backend.models.messaging import DLQMessageModel
    from backend.services.contacts.contacts import delete_contact
    from backend.services.platform.access import Actor, Role

    note = uuid.uuid4().hex[:8]
    phone = phone_ending("0429")  # the sandbox throttles it every time: a replay fails again
    again = dead_letter("THROTTLED", f"again-{note}", phone)
    gone_phone = unique_phone()
    gone = dead_letter("THROTTLED", f"gone-{note}", gone_phone)
    delete_contact(Actor(user_id="e2e", role=Role.ADMIN), DLQMessageModel.get(gone).contactId)
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/admin/dlq")

    again_row = page.locator(".dlq-row", has_text=f"again-{note}")
    gone_row = page.locator(".dlq-row", has_text=f"gone-{note}")
    expect(page.get_by_role("columnheader", name="Recipient")).to_be_visible()
    link = again_row.locator(".dlq-recipient-link")
    expect(link).to_have_text(f"Dead Letter again-{note}")
    expect(link).to_have_attribute("href", f"/inbox/{DLQMessageModel.get(again).contactId}")
    expect(again_row.locator(".dlq-recipient")).to_contain_text(phone)
    expect(gone_row.locator(".dlq-recipient")).to_contain_text("Deleted contact")
    expect(gone_row.locator(".dlq-recipient")).to_contain_text(gone_phone)
    expect(gone_row.locator(".dlq-recipient-link")).to_have_count(0)
    e2e_app.screenshot(page, "dlq-recipients")

    again_row.locator(".dlq-replay").click()
    outcome = page.locator("#dlq-outcome")
    expect(outcome).to_contain_text(f"Dead Letter again-{note}: queued again")
    expect(again_row).to_have_count(0)  # replayed: no longer waiting…
    # …until the worker has tried it again and again, throttled each time: it is back, and the page says so.
    failed = f"Replay of Dead Letter again-{note} failed again: ThrottledRequestException: Rate exceeded"
    expect(outcome).to_contain_text(failed, timeout=90_000)
    expect(again_row.locator(".dlq-notice")).to_contain_text(failed)
    e2e_app.screenshot(page, "dlq-replay-failed-again")
    entry = DLQMessageModel.get(again)
    assert (entry.state, int(entry.replayCount)) == ("waiting", 1)

