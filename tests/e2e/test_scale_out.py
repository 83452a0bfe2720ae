"""Scale-out in the browser: two app processes (backends A and B) share their Reflex state through Redis and one
DynamoDB Local. A browser on A sees a customer's message posted to B live (and the other way round), a session
A issued is valid on B, and a tab moved from A to B carries on with the state A stored in Redis.

The cluster is scripts/scale_demo.py's (`make scale-demo` prints the same measurements): Debian's redis-server
on a loopback port, the frontend built once and served by both backends, A on 127.0.0.1 and B on 127.0.0.2
(same port: the page's host picks the process). It needs no AppHarness, so it does not use conftest.py's app.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS

REDIS_MISSING = "needs redis-server (apt-get install redis-server; `make install-test` installs it)"
LIVE_WITHIN_MS = 5_000  # "live": seen without a reload, well before anyone would press one
# A production build served by the backend has no favicon: the browser's own request for it 404s.
IGNORED_CONSOLE = ("favicon.ico",)

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason=REDIS_MISSING)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    from scripts.scale_demo import missing_for_scale_out, scale_cluster

    missing = missing_for_scale_out()
    if missing:
        reason = "the scale-out browser test needs " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs all of them (make install-test)
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("wecare-scale")
    with scale_cluster(work, say=lambda line: print(f"[scale] {line}", flush=True)) as running:
        yield running


@pytest.fixture(scope="module")
def chromium(cluster, playwright_session):
    """Its own Chromium, from the one Playwright the browser tests share (tests/e2e/conftest.py)."""
    browser = playwright_session.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


def test_two_processes_share_state_and_live_updates(cluster, chromium) -> None:
    from scripts.scale_demo import run_scenario, summary

    artifacts = Path(os.environ["WECARE_E2E_ARTIFACTS"]) if os.environ.get("WECARE_E2E_ARTIFACTS") else cluster.work
    artifacts.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    measured = run_scenario(chromium, cluster, rounds=3, screenshots=artifacts,
                            say=lambda line: print(f"[scale] {line}", flush=True), console_errors=console_errors)
    print(f"\n[scale] posted to B, seen on A: {summary(measured.a_sees_b)}; posted to A, seen on B: "
          f"{summary(measured.b_sees_a)}; screenshots in {artifacts}", flush=True)

    # Live both ways: each message reached the page on the other process, without a reload.
    assert len(measured.a_sees_b) == len(measured.b_sees_a) == 3
    assert max(measured.a_sees_b + measured.b_sees_a) < LIVE_WITHIN_MS, (measured.a_sees_b, measured.b_sees_a)
    # The session A issued is accepted by B (checked by the service layer against the shared table).
    assert measured.session_valid_on_b
    # Reflex kept the tab's state in Redis (not in A's memory or disk), and its socket there too.
    assert measured.redis_state_keys > 0
    assert measured.redis_socket_records > 0
    # The tab moved to B shows the filter typed on A (B read A's state from Redis), and still hears messages live.
    assert measured.failover_filter.startswith("Moved ")
    assert measured.failover_live_ms is not None and measured.failover_live_ms < LIVE_WITHIN_MS
    errors = [error for error in console_errors if not any(noise in error for noise in IGNORED_CONSOLE)]
    assert not errors, "the browser console logged errors:\n" + "\n".join(errors)
