"""One session's slow service call must not stall another session: the app runs every service call off the
event loop (background events and worker threads, see wecare_app/state/session_state.py).

The contacts search is made to take 2 s (the harness runs the app's backend in this process, so the service
function the page calls is patched here). While one browser waits on that search, a second browser types in
the composer's SMS text box, a plain setter with no I/O, and the server-computed segment counter must follow
within a second. Had the search run on the event loop, the counter would wait out the 2 s."""
from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.harness import E2EApp  # noqa: E402
from tests.e2e.test_contacts_browser import signed_in_as  # noqa: E402

SLOW_SECONDS = 2.0
MARKER = "slowpoke"  # only searches for this are slowed down: nothing else in the shared app is affected


def _counter_shows(page: Page, text: str, timeout_ms: float) -> None:
    """Wait, checking every animation frame, until the segment counter reads `text` (expect() would poll at
    0.1/0.25/0.5/1 s steps, too coarse to time against one second)."""
    page.wait_for_function(
        "text => document.getElementById('compose-segments')?.textContent === text", arg=text, timeout=timeout_ms
    )


def test_a_slow_service_call_in_one_session_does_not_stall_another(
    page: Page, browser, e2e_app: E2EApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.services.contacts import contacts

    real_search = contacts.search_contacts
    slow_started, slow_finished = threading.Event(), threading.Event()

    def slow_search(actor, query, *args, **kwargs):
        if MARKER not in (query or ""):
            return real_search(actor, query, *args, **kwargs)
        slow_started.set()
        time.sleep(SLOW_SECONDS)  # a slow DynamoDB, provider or hash, as the worker thread sees it
        try:
            return real_search(actor, query, *args, **kwargs)
        finally:
            slow_finished.set()

    # The probe: the composer, its text box answering normally.
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/inbox/compose")
    page.locator("#compose-body").fill("warm")
    _counter_shows(page, "GSM-7 · 4 characters · 1 part", 30_000)

    # The slow one: another session on /contacts.
    slow_context = browser.new_context(viewport={"width": 1366, "height": 900})
    slow_context.set_default_timeout(30_000)
    try:
        slow = slow_context.new_page()
        signed_in_as(slow, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin")
        expect(slow.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()

        monkeypatch.setattr(contacts, "search_contacts", slow_search)
        slow.locator("#contacts-search").fill(MARKER)
        assert slow_started.wait(15), "the contacts search never reached the service"

        # While the search sleeps, the probe's event goes through: typed → sent → delta → counter redrawn
        # (this includes the text box's 300 ms debounce).
        typed = time.monotonic()
        page.locator("#compose-body").fill("probe text")
        _counter_shows(page, "GSM-7 · 10 characters · 1 part", 10_000)
        answered_in = time.monotonic() - typed
        search_still_running = not slow_finished.is_set()
        print(f"\n[e2e] the probe answered in {answered_in:.2f} s while a {SLOW_SECONDS:.0f} s service call ran", flush=True)

        assert answered_in < 1.0, f"the probe's event took {answered_in:.2f} s while another session's service call ran"
        assert search_still_running, "the probe only answered once the slow search was over"

        # And the slow search itself completed and was shown.
        assert slow_finished.wait(15), "the slow search never returned"
        expect(slow.get_by_text("No matches")).to_be_visible(timeout=15_000)
        expect(slow.locator(".contact-row")).to_have_count(0)
        e2e_app.screenshot(page, "test_a_slow_service_call_in_one_session_does_not_stall_another")
    finally:
        slow_context.close()
