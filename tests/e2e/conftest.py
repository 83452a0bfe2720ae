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
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

APP_NAME = "wecare_app"
JAR = REPO / ".tools/dynamodb-local/emulator/DynamoDBLocal.jar"
TOOLS_BIN = REPO / ".tools/node_modules/.bin"  # bun from npm (`make install`)
CHROMIUM = Path(os.environ.get("WECARE_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_EMAIL = "admin@e2e.wecare.test"
ADMIN_PASSWORD = "e2e-Admin-password-42"
# The dev frontend compiles each route on first request; the first page can take a while on 2 cores.
FIRST_LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _missing_prerequisites() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (pip install playwright)")
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium, or set WECARE_E2E_CHROMIUM)")
    if shutil.which("java") is None:
        missing.append("Java (apt-get install openjdk-17-jre-headless)")
    if not JAR.exists():
        missing.append(f"DynamoDB Local at {JAR} (make install)")
    if shutil.which("bun", path=_path_with_tools()) is None:
        missing.append("bun (make install puts it in .tools/node_modules/.bin)")
    return missing


def _path_with_tools() -> str:
    """PATH with the project's own bun first, as the Makefile sets it."""
    path = os.environ.get("PATH", "")
    if TOOLS_BIN.is_dir() and str(TOOLS_BIN) not in path.split(os.pathsep):
        path = os.pathsep.join([str(TOOLS_BIN), path])
    return path


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _make_project_root(root: Path) -> None:
    """A minimal Reflex project the harness may initialise freely: rxconfig.py and the app package."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "rxconfig.py", root / "rxconfig.py")
    shutil.copytree(REPO / APP_NAME, root / APP_NAME, ignore=shutil.ignore_patterns("__pycache__"))
    if (REPO / "assets").is_dir():
        shutil.copytree(REPO / "assets", root / "assets")


@dataclass
class E2EApp:
    """What the tests need: where the app is, who the admin is, and where screenshots go."""

    url: str
    admin_email: str
    admin_password: str
    artifacts: Path

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path

    def screenshot(self, page, name: str) -> Path:
        target = self.artifacts / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        return target


@pytest.fixture(scope="package")
def e2e_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EApp]:
    missing = _missing_prerequisites()
    if missing:
        reason = "browser e2e tests need " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs all of them (make install-test): a gap there is a failure
        pytest.skip(reason)

    from backend.runtime.dynamodb_local import DynamoDBLocal

    work = tmp_path_factory.mktemp("wecare-e2e")
    project_root = work / "project"
    data_dir = work / "data"
    data_dir.mkdir()
    artifacts = Path(os.environ["WECARE_E2E_ARTIFACTS"]) if os.environ.get("WECARE_E2E_ARTIFACTS") else work / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    _make_project_root(project_root)

    saved_environ = dict(os.environ)
    saved_cwd = Path.cwd()

    # DynamoDB Local writes its lock, log and metadata file under the current directory when it has no
    # db_dir: keep them in the work dir, not the repo.
    database = DynamoDBLocal(port=_free_port(), db_dir=None, jar=JAR)
    with _cwd(work):
        database.ensure_running()

    harness = None
    try:
        os.environ.update(
            {
                "WECARE_ENV": "local",
                "WECARE_DYNAMODB_ENDPOINT": database.endpoint,
                "WECARE_TABLE_PREFIX": f"e2e{uuid.uuid4().hex[:8]}-",
                "WECARE_DATA_DIR": str(data_dir),
                "WECARE_ADMIN_EMAIL": ADMIN_EMAIL,
                "WECARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "WECARE_SESSION_SECRET": f"e2e-{uuid.uuid4().hex}",
                "WECARE_DEFAULT_REGION": "GB",
                "WECARE_SEND_MODE": "SANDBOX",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": "us-east-1",
                # Runtime paths Reflex resolves against the process's cwd: keep them out of the repo.
                "REFLEX_WEB_WORKDIR": str(project_root / ".web"),
                "REFLEX_STATES_WORKDIR": str(project_root / ".states"),
                "REFLEX_UPLOADED_FILES_DIR": str(project_root / "uploaded_files"),
                "REFLEX_TELEMETRY_ENABLED": "false",
                # Reflex would otherwise download its own bun, which cannot be fetched here.
                "PATH": _path_with_tools(),
                "REFLEX_USE_SYSTEM_BUN": os.environ.get("REFLEX_USE_SYSTEM_BUN", "1"),
            }
        )
        _reload_backend_settings()

        from reflex.testing import AppHarness

        # app_name must be given: by default the harness names the app after the root folder.
        harness = AppHarness.create(root=project_root, app_name=APP_NAME)
        started = time.monotonic()
        with _cwd(project_root):
            harness.start()
        print(f"\n[e2e] app up in {time.monotonic() - started:.1f}s at {harness.frontend_url}", flush=True)
        assert harness.frontend_url is not None

        yield E2EApp(url=harness.frontend_url, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, artifacts=artifacts)
    finally:
        try:
            if harness is not None:
                harness.stop()
        finally:
            database.stop()
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_environ)
            _reload_backend_settings()
            print(f"\n[e2e] screenshots in {artifacts}", flush=True)


def _reload_backend_settings() -> None:
    """Make this process (the harness runs the backend in-process) read the WECARE_ variables again."""
    from backend.models import configure_models
    from backend.services.users import reset_session_signer
    from backend.settings import get_settings, reset_settings_cache

    reset_settings_cache()
    reset_session_signer()
    configure_models(get_settings())


@pytest.fixture(scope="package")
def browser(e2e_app: E2EApp):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
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
        for route in ("/contacts", "/contacts/new", "/contacts/warm-up", "/contacts/import", "/profile", "/inbox", "/inbox/warm-up", "/messages", "/templates", "/templates/new", "/admin/dlq"):
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
    try:
        yield page
    finally:
        report = getattr(request.node, "e2e_report_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):
                path = e2e_app.screenshot(page, f"{request.node.name}-FAILED")
                print(f"\n[e2e] failure screenshot: {path} (page {page.url})", flush=True)
        context.close()
