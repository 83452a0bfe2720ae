"""Browser end-to-end set-up: the real app under Reflex's AppHarness, a private DynamoDB Local, Chromium via Playwright.

One harness serves every e2e test (package scope: it is torn down as soon as the e2e tests are done, so
tests that run after them in the same pytest run see the environment they expect):

* DynamoDB Local runs in memory on a free port, owned by this process (never the dev instance's 8124).
* The app is started by `AppHarness` from a *temporary project root* (a copy of `rxconfig.py` and
  `wecare_app/`), never from the repo root: the harness initialises `.web` in its root, rewrites
  `.web/env.json` with its own backend URL and runs `bun run dev` there, which would break a dev server
  running from the repo's `.web` and leave files behind in a fresh clone. `backend/` is imported from the
  repo as usual.
* Backend and frontend ports are picked by the harness (port 0), so nothing clashes with ports 3000/8000.
* Every environment variable, the settings cache, the session signer and the model configuration are
  restored at the end.

Needs: Java 17, `.tools/dynamodb-local` and bun in `.tools/node_modules/.bin` (`make install`; the fixture
puts that bin dir on PATH and sets `REFLEX_USE_SYSTEM_BUN=1` unless already set), the playwright package,
and Chromium at /usr/bin/chromium (or `WECARE_E2E_CHROMIUM`); `playwright install` is never needed.
Without them the tests are skipped with the reason (under CI=true they fail instead).

Each test saves one screenshot (a failing one also saves `<test>-FAILED.png`) in a temporary directory
printed at the end, or in `WECARE_E2E_ARTIFACTS` when set.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    WEBHOOK_SECRET,
    E2EApp,
    missing_prerequisites,
    running_app,
)

# The dev frontend compiles each route on first request; the first page can take a while on 2 cores.
FIRST_LOAD_TIMEOUT_MS = 180_000
# What the dev server (not the app) logs while it re-optimises dependencies or a websocket reconnects.
DEV_SERVER_NOISE = ("Outdated Optimize Dep", "Failed to fetch dynamically imported module", "WebSocket connection to")
STEP_TIMEOUT_MS = 30_000


@pytest.fixture(scope="package")
def e2e_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EApp]:
    missing = missing_prerequisites()
    if missing:
        reason = "browser e2e tests need " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs all of them (make install-test): a gap there is a failure
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("wecare-e2e")
    artifacts = Path(os.environ["WECARE_E2E_ARTIFACTS"]) if os.environ.get("WECARE_E2E_ARTIFACTS") else work / "screenshots"
    with running_app(work, artifacts, {"WECARE_WHATSAPP_WEBHOOK_SECRET": WEBHOOK_SECRET}) as app:
        yield app
    print(f"\n[e2e] screenshots in {artifacts}", flush=True)


@pytest.fixture(scope="package")
def playwright_session():
    """One Playwright for every browser test: its sync API runs an event loop of its own, and a second one cannot
    start while the first is open (test_scale_out.py launches its own Chromium from this one too)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_session, e2e_app: E2EApp):
    chromium = playwright_session.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        _warm_up(chromium, e2e_app)
        yield chromium
    finally:
        chromium.close()


def _warm_up(chromium, app: E2EApp) -> None:
    """Request every route once so the dev server has compiled them (and optimised their dependencies)
    before a test's own timeouts start counting."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(app.at("/login"), timeout=FIRST_LOAD_TIMEOUT_MS)
        page.locator("#login-email").wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)
        for route in ("/", "/analytics", "/contacts", "/contacts/new", "/contacts/warm-up", "/contacts/import", "/profile", "/inbox", "/inbox/warm-up", "/messages", "/templates", "/templates/new", "/admin/dlq", "/admin/config", "/admin/users", "/admin/audit", "/admin/rate-limits", "/media", "/media/warm-up", "/inbox/compose", "/voice", "/voice/new", "/voice/warm-up"):
            page.goto(app.at(route), timeout=FIRST_LOAD_TIMEOUT_MS)
            page.wait_for_url("**/login**", timeout=FIRST_LOAD_TIMEOUT_MS)
            page.locator("#login-email").wait_for(timeout=FIRST_LOAD_TIMEOUT_MS)
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Remember each phase's outcome on the test item, so the `page` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"e2e_report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, e2e_app: E2EApp, request: pytest.FixtureRequest):
    """A fresh browser context (no storage, no session) per test; on failure, a screenshot of where it stopped."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(60_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(f"{page.url}: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
    try:
        yield page
        errors = [e for e in console_errors if not any(noise in e for noise in DEV_SERVER_NOISE)]
        assert not errors, "the browser console logged errors on the pages this test visited:\n" + "\n".join(errors)
    finally:
        report = getattr(request.node, "e2e_report_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):
                path = e2e_app.screenshot(page, f"{request.node.name}-FAILED")
                print(f"\n[e2e] failure screenshot: {path} (page {page.url})", flush=True)
        context.close()
