"""Scale-out demo: two app processes share their Reflex state through Redis, and a browser sees live updates
whichever process it is connected to.

    PYTHONPATH=. .venv/bin/python scripts/scale_demo.py [--rounds 5] [--backend-port 3311] [--redis-port 6391]
                                                       [--dynamodb-port 8391]
    make scale-demo

What it starts (and stops again, also on Ctrl-C or a failure), all on loopback addresses:

* Debian's `redis-server` on `--redis-port` (127.0.0.1; no persistence: `--save ''`, `--appendonly no`).
  Both backends get `REFLEX_REDIS_URL`, so Reflex picks its Redis state manager (a state is read from Redis
  under a per-token lock, written back after the event) and its Redis token manager (which socket a tab is on).
* One in-memory DynamoDB Local (the project's `backend.runtime.dynamodb_local.DynamoDBLocal`, as the browser
  tests start it), shared through `WECARE_DYNAMODB_ENDPOINT`. Its Message table's stream is what carries a
  write made in one process to the live pages of every process (backend/runtime/change_feed.py).
* One production build of the frontend (`reflex export --frontend-only`), its backend URL
  `http://localhost:<backend-port>`.
* Two backends, A on 127.0.0.1:<backend-port> and B on 127.0.0.2:<backend-port>, each one Granian worker
  running the app (`wecare_app.wecare_app:app`, as `reflex run --env prod` runs it) with the built frontend
  mounted (as `reflex run --env prod --single-port` does). The frontend connects to "localhost" replaced by the
  page's own host name (Reflex's getBackendURL), so a page loaded from 127.0.0.1 talks to A and one loaded from
  127.0.0.2 talks to B: one build, the same port, the address choosing the process, as a load balancer would.
  A starts first and B once A answers: the first start creates the tables (init_db), and two first starts at
  the same moment race there.

Then, in headless Chromium: sign in on A and open /inbox; a second browser whose storage holds the session A
issued opens /inbox on B (the session is checked by the service layer against DynamoDB: valid everywhere).
Each round posts a signed WhatsApp webhook (a new customer's message) to B and waits until A's page shows it,
and another to A until B's page shows it: the time from just before the POST to the text in the page (a
MutationObserver in the page; one machine, one clock). Last, a fail-over: a filter typed on A's page, the tab
closed, and the same tab (its Reflex token and session) opened on B: B shows the filter A stored in Redis, and a
message posted to A reaches it live.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.e2e.harness import (  # noqa: E402
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    APP_NAME,
    CHROMIUM,
    CHROMIUM_ARGS,
    JAR,
    _make_project_root,
    _path_with_tools,
    missing_prerequisites,
)
from tests.whatsapp_events import make_wamid, meta_message, signed_webhook_headers, sns_message, webhook_entry  # noqa: E402

# The ports this demo may use (the machine is shared: each helper has its own ranges).
BACKEND_PORTS = range(3300, 3400)
REDIS_PORTS = range(6390, 6400)
DYNAMODB_PORTS = range(8390, 8400)
HOST_A, HOST_B = "127.0.0.1", "127.0.0.2"
WEBHOOK_SECRET = "scale-demo-webhook-secret"
START_TIMEOUT_S = 180.0
_PR_SET_PDEATHSIG = 1

# Notes the first moment each marker ("scale-<id>") is in the conversation list (React's render included).
OBSERVER = """
() => {
  window.__seen = window.__seen || {};
  const scan = () => {
    const list = document.getElementById("conversation-list");
    if (!list) return;
    const now = Date.now();
    for (const match of list.textContent.matchAll(/scale-([0-9a-f]+)/g)) {
      if (!(match[1] in window.__seen)) window.__seen[match[1]] = now;
    }
  };
  if (!window.__observing) {
    new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
    window.__observing = true;
  }
  scan();
}
"""
# Copies a tab's storage into a page of another origin (the other backend): localStorage holds the signed
# session (wecare_session), sessionStorage the tab's Reflex token (copied once, before the app reads it).
COPY_STORAGE = """
((storage, host) => {
  if (location.hostname !== host) return;
  for (const [key, value] of Object.entries(storage.local || {})) localStorage.setItem(key, value);
  if (!sessionStorage.getItem("__scale_copied")) {
    for (const [key, value] of Object.entries(storage.session || {})) sessionStorage.setItem(key, value);
    sessionStorage.setItem("__scale_copied", "1");
  }
})(%s, %s)
"""


class ScaleDemoError(RuntimeError):
    pass


# ----------------------------------------------------------------------------------------------- the cluster


def missing_for_scale_out() -> list[str]:
    """What this machine lacks to run two backends over Redis (on top of the browser tests' own needs)."""
    missing = list(missing_prerequisites())
    if shutil.which("redis-server") is None:
        missing.append("redis-server (apt-get install redis-server; `make install-test` does)")
    if importlib.util.find_spec("redis") is None:  # Reflex's Redis state manager uses it
        missing.append("the redis Python package (requirements.txt)")
    if not _can_bind(HOST_B, 0):
        missing.append(f"the loopback address {HOST_B} (backend B listens there)")
    return missing


def _can_bind(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(ports: range, hosts: tuple[str, ...] = (HOST_A,), *, avoid: set[int] = frozenset()) -> int:
    """The first port of `ports` free on every host in `hosts`."""
    for port in ports:
        if port not in avoid and all(_can_bind(host, port) for host in hosts):
            return port
    raise ScaleDemoError(f"no free port in {ports.start}-{ports.stop - 1} on {', '.join(hosts)}")


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM when this process dies (no orphans, even on kill -9)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Cluster:
    """Where everything runs: backend A and backend B (each also serving the frontend), Redis, DynamoDB Local."""

    url_a: str
    url_b: str
    redis_url: str
    dynamodb_endpoint: str
    work: Path
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ADMIN_PASSWORD
    logs: dict[str, Path] = field(default_factory=dict)
    startup_s: dict[str, float] = field(default_factory=dict)

    def redis_keys(self, pattern: str = "*") -> list[str]:
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            return [key.decode() for key in client.scan_iter(match=pattern, count=1000)]
        finally:
            client.close()


class _Processes:
    """The child processes started so far; `stop_all` ends them, newest first, each with its children."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent, start_new_session=True,  # Ctrl-C reaches this script only: it stops them in order
        )
        self.started.append((name, process))
        return process

    def stop_all(self, say: Callable[[str], None]) -> None:
        while self.started:
            name, process = self.started.pop()
            _stop_tree(process)
            say(f"stopped {name} (pid {process.pid})")


def _stop_tree(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process (Granian stops its worker, Redis exits), then SIGKILL whatever of its tree is left."""
    try:
        import psutil

        children = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        children = []
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for child in children:
        with contextlib.suppress(Exception):
            if child.is_running():
                child.kill()


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until(check: Callable[[], bool], process: subprocess.Popen | None, what: str, log: Path | None,
                timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process is not None and process.poll() is not None:
            raise ScaleDemoError(f"{what} exited with code {process.returncode}; its log ends:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise ScaleDemoError(f"{what} did not answer within {timeout:.0f}s; its log ends:\n{_tail(log)}")
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _app_environment(*, backend_port: int, redis_url: str, dynamodb_endpoint: str, data_dir: Path) -> dict[str, str]:
    """The environment of the build and both backends: this one without any REFLEX_/WECARE_ variable of its own
    (a browser-test harness in the same pytest process sets some), plus the shared settings. Both processes
    must hold the same session secret (a session is a signed token) and the same tables."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("REFLEX_", "WECARE_", "__REFLEX_", "GRANIAN_"))}
    env.update(
        {
            "PATH": _path_with_tools(),
            "PYTHONPATH": str(REPO),  # backend/ from the repo; wecare_app from the project root (the cwd)
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "REFLEX_REDIS_URL": redis_url,
            "REFLEX_API_URL": f"http://localhost:{backend_port}",
            "WECARE_ENV": "local",
            "WECARE_DYNAMODB_ENDPOINT": dynamodb_endpoint,
            "WECARE_TABLE_PREFIX": f"scale{uuid.uuid4().hex[:8]}-",
            "WECARE_DATA_DIR": str(data_dir),
            "WECARE_ADMIN_EMAIL": ADMIN_EMAIL,
            "WECARE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "WECARE_SESSION_SECRET": secrets.token_hex(32),
            "WECARE_WHATSAPP_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WECARE_DEFAULT_REGION": "GB",
            "WECARE_SEND_MODE": "SANDBOX",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    return env


@contextlib.contextmanager
def scale_cluster(work: Path, *, backend_port: int | None = None, redis_port: int | None = None,
                  dynamodb_port: int | None = None, say: Callable[[str], None] = print) -> Iterator[Cluster]:
    """Redis, DynamoDB Local, the frontend build and backends A and B; everything stopped on the way out."""
    from backend.runtime.dynamodb_local import DynamoDBLocal

    missing = missing_for_scale_out()
    if missing:
        raise ScaleDemoError("the scale-out demo needs " + "; ".join(missing))
    backend_port = backend_port or free_port(BACKEND_PORTS, (HOST_A, HOST_B))
    redis_port = redis_port or free_port(REDIS_PORTS)
    dynamodb_port = dynamodb_port or free_port(DYNAMODB_PORTS)
    for port, ports, hosts, what in ((backend_port, BACKEND_PORTS, (HOST_A, HOST_B), "backend"),
                                     (redis_port, REDIS_PORTS, (HOST_A,), "redis"),
                                     (dynamodb_port, DYNAMODB_PORTS, (HOST_A,), "DynamoDB Local")):
        if port not in ports or not all(_can_bind(host, port) for host in hosts):
            raise ScaleDemoError(f"the {what} port {port} is taken or outside {ports.start}-{ports.stop - 1}")

    work.mkdir(parents=True, exist_ok=True)
    project = work / "project"
    data_dir = work / "data"
    data_dir.mkdir(exist_ok=True)
    _make_project_root(project)  # the build writes .web here, never into the repo (see tests/e2e/conftest.py)
    processes = _Processes()
    database = DynamoDBLocal(port=dynamodb_port, db_dir=None, jar=JAR)
    logs = {name: work / f"{name}.log" for name in ("redis", "build", "backend-a", "backend-b")}
    try:
        started = time.monotonic()
        redis_url = f"redis://{HOST_A}:{redis_port}/0"
        redis_process = processes.start(
            "redis-server",
            ["redis-server", "--port", str(redis_port), "--bind", HOST_A, "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(work)],
            env=dict(os.environ), cwd=work, log=logs["redis"],
        )
        _wait_until(lambda: _redis_answers(redis_url), redis_process, "redis-server", logs["redis"], 30)
        say(f"redis-server on {HOST_A}:{redis_port} (no persistence)")

        previous = Path.cwd()
        os.chdir(work)  # DynamoDB Local in memory keeps its lock, log and metadata in the cwd
        try:
            database.ensure_running()
        finally:
            os.chdir(previous)
        say(f"DynamoDB Local (in memory) at {database.endpoint}")

        env = _app_environment(backend_port=backend_port, redis_url=redis_url,
                               dynamodb_endpoint=database.endpoint, data_dir=data_dir)
        say("building the frontend (reflex export --frontend-only) ...")
        build_started = time.monotonic()
        build = processes.start(
            "frontend build",
            [str(REPO / ".venv/bin/reflex"), "export", "--frontend-only", "--no-zip", "--env", "prod"],
            env=env, cwd=project, log=logs["build"],
        )
        try:
            code = build.wait(timeout=600)
        except subprocess.TimeoutExpired:
            raise ScaleDemoError(f"the frontend build took over 600s; its log ends:\n{_tail(logs['build'])}") from None
        processes.started.remove(("frontend build", build))
        if code != 0:
            raise ScaleDemoError(f"the frontend build failed ({code}); its log ends:\n{_tail(logs['build'])}")
        build_s = time.monotonic() - build_started
        say(f"frontend built in {build_s:.1f}s")

        backend_env = {
            **env,
            "__REFLEX_SKIP_COMPILE": "true",  # compiled by the build above
            "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",  # serve .web/build/client, as --single-port does
        }
        startup = {"frontend build": build_s}
        urls = {}
        for name, host in (("backend-a", HOST_A), ("backend-b", HOST_B)):
            began = time.monotonic()
            backend = processes.start(
                name,
                [str(REPO / ".venv/bin/python"), "-m", "granian", "--interface", "asgi", "--factory",
                 "--host", host, "--port", str(backend_port), "--workers", "1", f"{APP_NAME}.{APP_NAME}:app"],
                env=backend_env, cwd=project, log=logs[name],
            )
            url = f"http://{host}:{backend_port}"
            _wait_until(lambda: _answers(url + "/ping"), backend, name, logs[name])  # answers after the lifespan
            startup[name] = time.monotonic() - began
            urls[name] = url
            say(f"{name} up at {url} in {startup[name]:.1f}s")
        startup["total"] = time.monotonic() - started
        yield Cluster(url_a=urls["backend-a"], url_b=urls["backend-b"], redis_url=redis_url,
                      dynamodb_endpoint=database.endpoint, work=work, logs=logs, startup_s=startup)
    finally:
        processes.stop_all(say)
        if database.process is not None:
            database.stop()
            say("stopped DynamoDB Local")


# ----------------------------------------------------------------------------------------------- browser steps


def post_inbound(api_url: str, phone: str, name: str, text: str) -> float:
    """A customer's WhatsApp message, as the webhook receives it (signed); returns the POST's time in ms."""
    entry = webhook_entry([meta_message("text", wamid=make_wamid(phone, uuid.uuid4().hex), from_phone=phone,
                                        text=text, ts=int(time.time()))], from_phone=phone, profile_name=name)
    body = sns_message(entry).encode()
    request = urllib.request.Request(api_url + "/webhooks/whatsapp", data=body,
                                     headers=signed_webhook_headers(WEBHOOK_SECRET, body))
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        stored = json.loads(response.read()).get("stored")
    if stored != 1:
        raise ScaleDemoError(f"the webhook at {api_url} stored {stored!r} messages, expected 1")
    return (time.perf_counter() - started) * 1000


def sign_in(page, url: str, email: str, password: str) -> None:
    page.goto(url + "/login")
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    page.locator("#signed-in-role").wait_for()


def open_inbox(page, url: str) -> None:
    page.goto(url + "/inbox")
    page.wait_for_url(re.compile(r"/inbox/?$"))
    page.locator("#signed-in-role").wait_for()
    page.evaluate(OBSERVER)  # the list itself appears once the inbox has a conversation


def tab_storage(page) -> dict:
    return page.evaluate("() => ({local: Object.assign({}, localStorage), session: Object.assign({}, sessionStorage)})")


def context_with_storage(browser, storage: dict, host: str, *, with_tab: bool):
    """A browser context whose pages on `host` start with `storage`: the session alone (a new tab of the same
    signed-in user), or with the tab's Reflex token as well (`with_tab`: the same tab, moved to another process)."""
    copied = {"local": storage["local"], "session": storage["session"] if with_tab else {}}
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(30_000)
    context.add_init_script(COPY_STORAGE % (json.dumps(copied), json.dumps(host)))
    return context


def seen_after(page, api_url: str, *, timeout_ms: float = 15_000) -> tuple[float, float]:
    """Post a new customer's message to `api_url`; (ms until `page` shows it, ms the webhook took to answer)."""
    marker = uuid.uuid4().hex[:10]
    phone = f"4477009{int(marker, 16) % 100000:05d}"
    posted_at = time.time() * 1000
    post_ms = post_inbound(api_url, phone, f"Scale {marker[:6]}", f"scale-{marker} where is my parcel?")
    page.wait_for_function(f"() => window.__seen && window.__seen['{marker}']", timeout=timeout_ms)
    return page.evaluate(f"() => window.__seen['{marker}']") - posted_at, post_ms


@dataclass
class Measured:
    a_sees_b: list[float] = field(default_factory=list)  # ms: posted to B, seen by the page on A
    b_sees_a: list[float] = field(default_factory=list)
    webhook_ms: list[float] = field(default_factory=list)
    session_valid_on_b: bool = False
    failover_filter: str = ""  # the search filter the tab on B shows after the move (typed on A)
    failover_live_ms: float | None = None
    redis_state_keys: int = 0
    redis_socket_records: int = 0


def run_scenario(browser, cluster: Cluster, *, rounds: int = 5, screenshots: Path | None = None,
                 say: Callable[[str], None] = print, console_errors: list[str] | None = None) -> Measured:
    measured = Measured()
    errors = console_errors if console_errors is not None else []

    def watch(page) -> None:
        page.on("console", lambda message: errors.append(
            f"{page.url}: {message.text} ({(message.location or {}).get('url', '')})") if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    context_a = browser.new_context(viewport={"width": 1366, "height": 900})
    context_a.set_default_timeout(30_000)
    contexts = [context_a]
    try:
        page_a = context_a.new_page()
        watch(page_a)
        sign_in(page_a, cluster.url_a, cluster.admin_email, cluster.admin_password)
        open_inbox(page_a, cluster.url_a)
        say(f"browser 1 signed in on A ({cluster.url_a}), on /inbox")

        storage = tab_storage(page_a)
        context_b = context_with_storage(browser, storage, HOST_B, with_tab=False)
        contexts.append(context_b)
        page_b = context_b.new_page()
        watch(page_b)
        open_inbox(page_b, cluster.url_b)  # no sign-in: the session A issued
        measured.session_valid_on_b = page_b.locator("#signed-in-role").inner_text(timeout=30_000) == "Admin"
        say(f"browser 2 on B ({cluster.url_b}) with the session issued by A: signed in = {measured.session_valid_on_b}")

        for round_number in range(1, rounds + 1):
            a_ms, post_ms = seen_after(page_a, cluster.url_b)
            b_ms, post_back_ms = seen_after(page_b, cluster.url_a)
            measured.a_sees_b.append(a_ms)
            measured.b_sees_a.append(b_ms)
            measured.webhook_ms += [post_ms, post_back_ms]
            say(f"round {round_number}: posted to B, seen on A after {a_ms:.0f} ms (webhook {post_ms:.0f} ms); "
                f"posted to A, seen on B after {b_ms:.0f} ms (webhook {post_back_ms:.0f} ms)")
        if screenshots is not None:
            page_a.screenshot(path=str(screenshots / "scale-out-page-on-a.png"), full_page=True)
            page_b.screenshot(path=str(screenshots / "scale-out-page-on-b.png"), full_page=True)

        # Fail-over: what the tab did on A is in Redis; the same tab (its token) opened on B carries on there.
        marker = uuid.uuid4().hex[:6]
        page_a.locator("#inbox-search").fill(f"Moved {marker}")
        page_a.wait_for_timeout(1_000)  # the search is debounced (250 ms), then the event runs on A
        moved = tab_storage(page_a)
        measured.redis_state_keys = len(cluster.redis_keys(f"{moved['session'].get('token', '')}_*"))
        measured.redis_socket_records = len(cluster.redis_keys("token_manager_socket_record_*"))
        page_a.close()  # the tab leaves A (its socket record goes), as when A stops or the balancer moves it
        token = moved["session"].get("token", "")
        deadline = time.monotonic() + 10  # else B would see the token still held on A and give the tab a new one
        while cluster.redis_keys(f"token_manager_socket_record_{token}") and time.monotonic() < deadline:
            time.sleep(0.1)
        context_moved = context_with_storage(browser, moved, HOST_B, with_tab=True)
        contexts.append(context_moved)
        page_moved = context_moved.new_page()
        watch(page_moved)
        open_inbox(page_moved, cluster.url_b)
        page_moved.locator("#signed-in-role").wait_for()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            measured.failover_filter = page_moved.locator("#inbox-search").input_value()
            if measured.failover_filter:
                break
            time.sleep(0.2)
        say(f"the tab moved from A to B shows the filter typed on A: {measured.failover_filter!r}")
        phone = f"4477009{int(marker, 16) % 100000:05d}"
        posted_at = time.time() * 1000
        post_inbound(cluster.url_a, phone, f"Moved {marker}", f"scale-{marker}0000 after the move")
        page_moved.wait_for_function(f"() => window.__seen && window.__seen['{marker}0000']", timeout=15_000)
        measured.failover_live_ms = page_moved.evaluate(f"() => window.__seen['{marker}0000']") - posted_at
        say(f"after the move, a message posted to A reached the tab on B after {measured.failover_live_ms:.0f} ms")
        if screenshots is not None:
            page_moved.screenshot(path=str(screenshots / "scale-out-tab-moved-to-b.png"), full_page=True)
        return measured
    finally:
        for context in contexts:
            with contextlib.suppress(Exception):
                context.close()


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"median {statistics.median(values):.0f} ms, min {min(values):.0f} ms, max {max(values):.0f} ms "
            f"(n={len(values)})")


# ----------------------------------------------------------------------------------------------- the command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="messages each way (default 5)")
    parser.add_argument("--backend-port", type=int, help="both backends' port, 3300-3399 (default: the first free)")
    parser.add_argument("--redis-port", type=int, help="6390-6399 (default: the first free)")
    parser.add_argument("--dynamodb-port", type=int, help="8390-8399 (default: the first free)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, screenshots)")
    args = parser.parse_args(argv)

    def on_sigterm(signum, frame):  # stop everything as on Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background (inherited SIG_IGN)
    sys.stdout.reconfigure(line_buffering=True)  # progress lines as they happen, also into a file
    work = Path(tempfile.mkdtemp(prefix="wecare-scale-"))
    ok = False
    try:
        from playwright.sync_api import sync_playwright

        with scale_cluster(work, backend_port=args.backend_port, redis_port=args.redis_port,
                           dynamodb_port=args.dynamodb_port) as cluster:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    measured = run_scenario(browser, cluster, rounds=args.rounds, screenshots=work)
                finally:
                    browser.close()
        print("\n== scale-out: two app processes, one Redis, one DynamoDB Local ==")
        print("start-up: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in cluster.startup_s.items()))
        print(f"posted to B, seen live on A:   {summary(measured.a_sees_b)}")
        print(f"posted to A, seen live on B:   {summary(measured.b_sees_a)}")
        print(f"webhook answer (stored):       {summary(measured.webhook_ms)}")
        print(f"session issued by A valid on B: {measured.session_valid_on_b}")
        print(f"tab moved A -> B keeps its state from Redis: {measured.failover_filter!r} "
              f"({measured.redis_state_keys} state keys of that tab in Redis); "
              f"live after the move: {measured.failover_live_ms:.0f} ms")
        ok = measured.session_valid_on_b and bool(measured.failover_filter)
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted: everything started was stopped", file=sys.stderr)
        return 130
    except ScaleDemoError as error:
        print(f"\nscale demo failed: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep or not ok:
            print(f"logs and screenshots in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
