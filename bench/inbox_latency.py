"""Benchmark: webhook POST → the message's text visible in a signed-in browser on /inbox.

    PYTHONPATH=. .venv/bin/python bench/inbox_latency.py [--messages 200] [--rate 50] [--contacts 100]

Starts the real app (Reflex AppHarness, its own in-memory DynamoDB Local), signs in as Admin in headless
Chromium and opens /inbox. Customer messages are POSTed to /webhooks/whatsapp at a steady rate, each from one
of `--contacts` known customers and carrying a unique marker; a MutationObserver in the page notes when each
marker first appears. Latency = first seen in the page − just before the POST (one machine, one clock).
The path measured: webhook → inbound transaction → Message stream → the app's change feed → the page's live
loop → inbox query → websocket delta → React render. No browser polling anywhere.
Target: p95 ≤ 250 ms over ≥ 200 messages at 50 messages/s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import machine_load  # noqa: E402
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, WEBHOOK_SECRET, missing_prerequisites, running_app  # noqa: E402
from tests.whatsapp_events import make_wamid, meta_message, signed_webhook_headers, sns_message, webhook_entry  # noqa: E402

TARGET_P95_MS = 250
OBSERVER = """
(token) => {
  window.__seen = {};
  const pattern = new RegExp("lat-(\\\\d+)-" + token, "g");
  const scan = () => {
    const now = Date.now();
    const list = document.getElementById("conversation-list");
    if (!list) return;
    for (const match of list.innerText.matchAll(pattern)) {
      if (!(match[1] in window.__seen)) window.__seen[match[1]] = now;
    }
  };
  new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def post_message(api_url: str, phone: str, name: str, text: str) -> None:
    entry = webhook_entry([meta_message("text", wamid=make_wamid(phone, uuid.uuid4().hex), from_phone=phone, text=text, ts=int(time.time()))], from_phone=phone, profile_name=name)
    body = sns_message(entry).encode()
    request = urllib.request.Request(api_url + "/webhooks/whatsapp", data=body, headers=signed_webhook_headers(WEBHOOK_SECRET, body))
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    parser.add_argument("--contacts", type=int, default=100)
    parser.add_argument("--dev", action="store_true", help="the dev-mode frontend (reflex run) instead of the production build")
    args = parser.parse_args()
    missing = missing_prerequisites()
    if missing:
        print("needs " + "; ".join(missing))
        return 2

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="wecare-bench-latency-"))
    env = {"WECARE_WHATSAPP_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with running_app(work, work / "screenshots", env, production=not args.dev) as app:
        print(f"frontend: {'dev server' if args.dev else 'production build'}")
        token = uuid.uuid4().hex[:8]
        customers = [(f"4477009{n:05d}", f"Latency Customer {n:03d}") for n in range(args.contacts)]
        with ThreadPoolExecutor(8) as pool:  # known customers first, untimed
            list(pool.map(lambda c: post_message(app.api_url, c[0], c[1], "hello"), customers))

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
            page.set_default_timeout(180_000)
            page.goto(app.at("/login"))
            page.locator("#login-email").fill(app.admin_email)
            page.locator("#login-password").fill(app.admin_password)
            page.locator("#login-submit").click()
            page.wait_for_url("**/inbox")
            page.locator(".conversation-row").first.wait_for()
            page.wait_for_timeout(2000)  # the page's live loop is subscribed
            page.evaluate(OBSERVER, token)

            posted: dict[int, float] = {}
            stored: dict[int, float] = {}
            lock = threading.Lock()
            interval = 1.0 / args.rate

            def send(index: int) -> None:
                phone, name = customers[index % len(customers)]
                with lock:
                    posted[index] = time.time() * 1000
                post_message(app.api_url, phone, name, f"lat-{index}-{token}")
                with lock:
                    stored[index] = time.time() * 1000

            print(f"sending {args.messages} messages at {args.rate:g}/s from {len(customers)} customers; {machine_load()}")
            started = time.perf_counter()
            with ThreadPoolExecutor(16) as pool:
                for index in range(args.messages):
                    delay = started + index * interval - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(send, index)
            sent_in = time.perf_counter() - started
            deadline = time.time() + 20
            seen: dict[str, float] = {}
            while time.time() < deadline:
                seen = page.evaluate("window.__seen")
                if len(seen) >= args.messages:
                    break
                time.sleep(0.25)
            browser.close()

        latencies = [seen[str(i)] - posted[i] for i in range(args.messages) if str(i) in seen]
        lost = args.messages - len(latencies)
        print(f"sent in {sent_in:.2f} s ({args.messages / sent_in:.1f}/s); seen in the browser: {len(latencies)}, never seen: {lost}")
        if not latencies:
            print("MISS: nothing was seen")
            return 1
        answered = [stored[i] - posted[i] for i in stored]
        print(f"webhook answered (message stored) ms: p50 {statistics.median(answered):.0f} | p95 {percentile(answered, 0.95):.0f}")
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        print(f"latency ms: p50 {p50:.0f} | p95 {p95:.0f} | max {max(latencies):.0f} | min {min(latencies):.0f}")
        ok = p95 <= TARGET_P95_MS and lost == 0
        print(f"{'PASS' if ok else 'MISS'}: target p95 <= {TARGET_P95_MS} ms with every message seen")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
