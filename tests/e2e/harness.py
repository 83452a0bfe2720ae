"""Running the real app for browser tests and benchmarks: Reflex's AppHarness from a temporary project root,
a private in-memory DynamoDB Local, Chromium through Playwright (see conftest.py for the why of each choice)."""
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
WEBHOOK_SECRET = "e2e-webhook-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_prerequisites() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (pip install playwright)")
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium, or set WECARE_E2E_CHROMIUM)")
    if shutil.which("java") is None or shutil.which("javac") is None:
        missing.append("the Java 17 JDK (apt-get install openjdk-17-jdk-headless)")
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
    api_url: str = ""  # the backend (REST routes, webhooks)

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path

    def screenshot(self, page, name: str) -> Path:
        target = self.artifacts / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        return target


@contextlib.contextmanager
def running_app(
    work: Path, artifacts: Path, extra_env: dict[str, str] | None = None, *, production: bool = False
) -> Iterator[E2EApp]:
    """The real app under AppHarness (`production`: the exported, minified frontend as users get it from
    `reflex run --env prod`) with its own in-memory DynamoDB Local; everything restored after."""
    from backend.runtime.dynamodb_local import DynamoDBLocal

    project_root = work / "project"
    data_dir = work / "data"
    data_dir.mkdir()
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
                **(extra_env or {}),
            }
        )
        _reload_backend_settings()

        from reflex.testing import AppHarness, AppHarnessProd

        # app_name must be given: by default the harness names the app after the root folder.
        harness = (AppHarnessProd if production else AppHarness).create(root=project_root, app_name=APP_NAME)
        started = time.monotonic()
        with _cwd(project_root):
            harness.start()
        print(f"\n[e2e] app up in {time.monotonic() - started:.1f}s at {harness.frontend_url}", flush=True)
        assert harness.frontend_url is not None

        from reflex.config import get_config

        yield E2EApp(
            url=harness.frontend_url,
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            artifacts=artifacts,
            api_url=get_config().api_url,
        )
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


def _reload_backend_settings() -> None:
    """Make this process (the harness runs the backend in-process) read the WECARE_ variables again."""
    from backend.models import configure_models
    from backend.services.platform.users import reset_session_signer
    from backend.settings import get_settings, reset_settings_cache

    reset_settings_cache()
    reset_session_signer()
    configure_models(get_settings())
