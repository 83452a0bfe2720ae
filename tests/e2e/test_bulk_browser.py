"""A campaign through the browser: an Operator builds a 25-recipient SMS campaign in the wizard (the count of
who can be reached, then the confirmation step), pauses it, resumes it and watches it finish live; a Viewer
sees it and cannot act."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.harness import E2EApp
from tests.e2e.test_contacts_browser import signed_in_as
from tests.e2e.test_inbox_browser import OPERATOR_EMAIL, OPERATOR_PASSWORD, ensure_operator


def test_an_operator_runs_a_campaign_from_the_wizard_and_a_viewer_only_watches(page: Page, browser, e2e_app: E2EApp) -> None:
    from backend.errors import Conflict
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform import system_config
    from backend.services.platform.access import Actor, Role
    from backend.services.platform.users import create_user
    from tests.conftest import unique_phone

    ensure_operator()
    admin = Actor(user_id="e2e", role=Role.ADMIN)
    tag = f"e2e{uuid.uuid4().hex[:6]}"
    for n in range(25):
        create_contact(admin, {"name": f"Camp {tag} {n:02d}", "phone": unique_phone(), "optInSms": True, "tags": [tag]})
    system_config.write("rateLimit.sms", {"perSecond": 4}, updated_by="e2e")  # about six seconds: time to pause

    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/bulk/new")
    page.locator("#campaign-name").fill(f"Campaign {tag}")
    page.locator("#wizard-next").click()
    page.locator("#audience-tags").fill(tag)
    page.locator("#audience-check").click()
    expect(page.locator("#audience-count")).to_have_text(re.compile(r"^25 of 25 can be reached"))
    page.locator("#wizard-next").click()
    page.locator("#campaign-body").fill("Our spring menu is out. Reply STOP to opt out.")
    expect(page.locator("#campaign-segments")).to_contain_text("1 part")
    page.locator("#wizard-next").click()
    page.locator("#wizard-next").click()
    page.locator("#wizard-create").click()
    expect(page.locator("#confirm-needed")).to_contain_text("25 contacts")  # more than the threshold (20)
    expect(page.locator("#wizard-create")).to_be_disabled()
    page.locator("#campaign-confirm").click()
    page.locator("#wizard-create").click()
    page.wait_for_url(re.compile(r".*/bulk/[0-9a-f]{32}$"))
    job_url = page.url

    status = page.locator(".job-status")
    expect(status).to_have_text("Sending", timeout=20_000)
    page.locator("#job-pause").click()
    expect(status).to_have_text("Paused")
    page.wait_for_timeout(1_500)  # the few messages already handed to the outbox (half a second's worth) still go
    held = page.locator("#job-done").inner_text()
    page.wait_for_timeout(2_000)
    expect(page.locator("#job-done")).to_have_text(held)  # nothing more goes out while paused
    page.locator("#job-resume").click()
    expect(status).to_have_text("Finished", timeout=30_000)
    expect(page.locator("#job-done")).to_have_text("25 of 25 recipients done")
    expect(page.locator("#count-SKIPPED")).to_contain_text("0")
    assert not page.locator("#job-pause").count() and page.locator("#job-delete").count() == 1

    viewer_email, viewer_password = f"viewer-{tag}@e2e.wecare.test", "e2e-Viewer-password-42"
    try:
        create_user(admin, viewer_email, "Viewer", viewer_password, display_name="Vic Viewer")
    except Conflict:
        pass
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    watcher = other.new_page()
    try:
        signed_in_as(watcher, e2e_app, viewer_email, viewer_password, "Viewer", start="/bulk")
        expect(watcher.locator(".job-link", has_text=f"Campaign {tag}")).to_be_visible()
        watcher.goto(job_url)
        expect(watcher.locator("#job-name")).to_have_text(f"Campaign {tag}")
        expect(watcher.locator(".job-status")).to_have_text("Finished")
        assert watcher.locator("#job-delete").count() == 0 and watcher.locator("#job-retry").count() == 0
        watcher.goto(e2e_app.at("/bulk/new"))
        expect(watcher.get_by_text("Your role can view campaigns but not create them.")).to_be_visible()
    finally:
        other.close()
        system_config.write("rateLimit.sms", {"perSecond": 20}, updated_by="e2e")


def test_a_scheduled_campaign_is_rescheduled_and_cancelled_from_its_page(page: Page, e2e_app: E2EApp) -> None:
    from datetime import timedelta

    from backend.models.base import utcnow
    from backend.services.campaigns import jobs
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform.access import Actor, Role
    from tests.conftest import unique_phone

    ensure_operator()
    admin = Actor(user_id="e2e", role=Role.ADMIN)
    tag = f"later{uuid.uuid4().hex[:6]}"
    ids = [create_contact(admin, {"name": f"Later {tag} {n}", "phone": unique_phone(), "optInSms": True}).contact_id for n in range(2)]
    when = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    jobs.create_job(admin, {"name": f"Later {tag}", "channel": "sms", "contactIds": ids, "message": {"body": "later"},
                            "scheduledAt": when.isoformat()})

    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/bulk/scheduled")
    row = page.locator(".scheduled-row", has_text=f"Later {tag}")
    expect(row).to_be_visible(timeout=20_000)
    row.get_by_role("button", name="Reschedule").click()
    expect(page.locator("#reschedule-at")).to_have_value(when.strftime("%Y-%m-%dT%H:%M"))  # the job's own time
    page.locator("#reschedule-at").fill((when + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#reschedule-save").click()
    expect(row.locator(".job-scheduled")).to_contain_text((when + timedelta(days=1)).strftime("%d %b %Y"))
    row.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Cancel campaign").click()
    expect(row).to_have_count(0)


def test_an_operator_sends_to_the_contacts_a_csv_file_names(page: Page, e2e_app: E2EApp, tmp_path) -> None:
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform.access import Actor, Role
    from tests.conftest import unique_phone

    ensure_operator()
    admin = Actor(user_id="e2e", role=Role.ADMIN)
    tag = uuid.uuid4().hex[:6]
    phones = [create_contact(admin, {"name": f"Csv {tag} {n}", "phone": unique_phone(), "optInSms": n < 2}).phone for n in range(3)]
    sheet = tmp_path / "spring-list.csv"
    sheet.write_text("Name,Mobile\n" + "".join(f"Csv {n},{phone}\n" for n, phone in enumerate(phones)) + "Nobody,+447700900999\nTypo,12ab\n")

    signed_in_as(page, e2e_app, OPERATOR_EMAIL, OPERATOR_PASSWORD, "Operator", start="/bulk/new")
    page.locator("#campaign-name").fill(f"From a file {tag}")
    page.locator("#wizard-next").click()
    page.get_by_role("radio", name="From a CSV file").click()
    page.locator("#audience-csv input[type=file]").set_input_files(str(sheet))
    page.locator("#audience-csv-read").click()
    expect(page.locator("#audience-csv-summary")).to_have_text("spring-list.csv: 3 contacts matched from 5 rows")
    expect(page.locator(".audience-csv-problem")).to_have_count(2)  # the stranger and the typo, by line
    expect(page.locator("#audience-count")).to_have_text(re.compile(r"^2 of 3 can be reached"))  # one has no SMS consent
    page.locator("#wizard-next").click()
    page.locator("#campaign-body").fill("Spring list: 10% off this week.")
    page.locator("#wizard-next").click()
    page.locator("#wizard-next").click()
    page.locator("#wizard-create").click()
    page.wait_for_url(re.compile(r".*/bulk/[0-9a-f]{32}$"))
    expect(page.locator(".job-status")).to_have_text("Finished", timeout=30_000)
    expect(page.locator("#job-done")).to_have_text("3 of 3 recipients done")
    expect(page.locator("#count-SKIPPED")).to_contain_text("1")
