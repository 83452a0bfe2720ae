"""Benchmark: webhook POST → the message's text visible in operators' open pages (the team inbox's list).

    PYTHONPATH=. .venv/bin/python bench/inbox_latency.py [--messages 200] [--rate 50] [--contacts 25] [--pages 20]
                                                          [--browser-tabs 1] [--layout both|list|three-pane]

Starts the real app (Reflex AppHarness, its own in-memory DynamoDB Local, the production frontend), signs in
and opens `--pages` operators' pages, each its own websocket and server-side state:
`list`: every page on /inbox; `three-pane`: half on /inbox, half on a conversation (/inbox/<contact>: the list
pane, the thread and the contact pane, all live). `both` runs the two, one after the other.

`--browser-tabs` of the pages are headless Chromium tabs (a MutationObserver notes when each marker first
appears in the list: React's render included). The others are *socket pages*: the very session a tab opens
(its recorded socket.io CONNECT packet, the hydrate event and the signed-in session, under a token of its own),
held by a thread that receives every delta the server pushes and notes when each marker first arrives. The
server does the same work for them as for a tab (state, live loop, inbox reads, deltas); what they leave out is
Chromium's layout and paint, which each operator's own computer does, and which on one 2-core machine shared
with the app and DynamoDB Local would be measured instead of the app (20 real tabs: pass `--browser-tabs 20`).

Customer messages are POSTed to /webhooks/whatsapp at a steady rate, each from one of `--contacts` known
customers and carrying a unique marker. 25 customers, fewer than the list's first 30 rows, so every conversation
stays in view: WhatsApp stamps a message to the second, and with more, the ~50 conversations of one second rank
in any order among themselves and some fall below the first page. A marker a page never showed because the same
customer's next message replaced it first is counted apart (superseded); a customer whose last message a page
never showed is lost. Latency = first seen − just before the POST (one machine, one clock),
over every (message, page); printed for the socket pages and the tabs apart, and over all of them.

The time is broken down (the backend runs in this process): the webhook's answer (message stored), the
stream (stored → the change feed hands it to the pages), then the rest (the page's live loop: coalescing, the
inbox read, the websocket delta, React's render); and the inbox reads themselves (their count and time).
Target: p95 ≤ 250 ms over ≥ 200 messages at 50 messages/s with 20 pages open, on every page (tabs included).
"""
from __future__ import annotations

import argparse
import re
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
  // One scan per batch of mutations, of textContent (no layout, unlike innerText): the probe must not be what
  // loads the browser. (Not per animation frame: a tab that is not in front gets few or none.)
  window.__seen = {};
  const pattern = new RegExp("lat-(\\\\d+)-" + token, "g");
  const scan = () => {
    const now = Date.now();
    const list = document.getElementById("conversation-list");
    if (!list) return;
    for (const match of list.textContent.matchAll(pattern)) {
      if (!(match[1] in window.__seen)) window.__seen[match[1]] = now;
    }
  };
  new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def post_message(api_url: str, phone: str, name: str, text: str, wamid: str | None = None) -> None:
    wamid = wamid or make_wamid(phone, uuid.uuid4().hex)
    entry = webhook_entry([meta_message("text", wamid=wamid, from_phone=phone, text=text, ts=int(time.time()))], from_phone=phone, profile_name=name)
    body = sns_message(entry).encode()
    request = urllib.request.Request(api_url + "/webhooks/whatsapp", data=body, headers=signed_webhook_headers(WEBHOOK_SECRET, body))
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def cpu_by_role() -> dict[str, float]:
    """CPU seconds so far of this process (the app's backend and the load generator), DynamoDB Local, the
    browser's processes and the socket pages' process: where the machine's two cores go."""
    import psutil

    totals = {"app (Python)": 0.0, "DynamoDB Local": 0.0, "browser": 0.0, "socket pages": 0.0}
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            name, times = " ".join(process.cmdline())[:200], process.cpu_times()
        except psutil.Error:
            continue
        role = "DynamoDB Local" if "DynamoDBLocal" in name else "browser" if "chrom" in name else "app (Python)"
        if role == "app (Python)" and process.pid != me.pid:
            role = "browser" if "node" in name or "bun" in name else "socket pages" if "multiprocessing" in name else role
        totals[role] += times.user + times.system
    return totals


class Probes:
    """Timestamps from inside the backend: when the change feed published each message, how long each inbox
    read took, and each DynamoDB call (the engine's answer time: on a busy DynamoDB Local it is the floor)."""

    def __init__(self) -> None:
        import botocore.client

        from backend.runtime.change_feed import ChangeHub
        from backend.services.messaging import conversations

        self.published: dict[str, float] = {}
        self.reads: list[float] = []
        self.calls: dict[str, list[float]] = {}
        original_publish, original_read = ChangeHub.publish, conversations.team_inbox
        original_call = botocore.client.BaseClient._make_api_call
        probes = self

        def make_api_call(client, operation, params):
            started = time.perf_counter()
            try:
                return original_call(client, operation, params)
            finally:
                probes.calls.setdefault(operation, []).append((time.perf_counter() - started) * 1000)

        botocore.client.BaseClient._make_api_call = make_api_call

        def publish(hub, changes):
            now = time.time() * 1000
            for change in changes:
                probes.published.setdefault(change.message_id, now)
            return original_publish(hub, changes)

        def team_inbox(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original_read(*args, **kwargs)
            finally:
                probes.reads.append((time.perf_counter() - started) * 1000)

        ChangeHub.publish = publish
        conversations.team_inbox = team_inbox


class SocketPage(threading.Thread):
    """One operator's page without the browser: the socket.io session a tab opens, replayed (engine.io v4 over
    a plain websocket), noting when each marker first arrives in a delta."""

    def __init__(self, socket_url: str, connect_packet: str, pattern: re.Pattern[str]) -> None:
        super().__init__(daemon=True)
        import websocket  # websocket-client (requirements-dev.txt)

        self.seen: dict[str, float] = {}
        self.deltas = 0
        self.pattern = pattern
        self.ready = threading.Event()
        self.stopping = False
        self.connection = websocket.create_connection(f"{socket_url}&token={uuid.uuid4()}", timeout=60, skip_utf8_validation=True)
        opened = self.connection.recv()
        if not opened.startswith("0"):
            raise RuntimeError(f"socket page: unexpected engine.io open packet {opened[:80]!r}")
        self.connection.send(connect_packet)

    def run(self) -> None:
        import websocket

        while not self.stopping:
            try:
                frame = self.connection.recv()
            except (websocket.WebSocketException, OSError):
                return
            now = time.time() * 1000
            if frame == "2":  # engine.io ping
                self.connection.send("3")
                continue
            if frame.startswith("42/_event,"):
                self.deltas += 1
                if "conversations_rx_state_" in frame:
                    self.ready.set()
                for match in self.pattern.finditer(frame):
                    self.seen.setdefault(match.group(1), now)

    def close(self) -> None:
        self.stopping = True
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - the bench is over
            pass


def socket_pages_process(socket_url: str, packets: list[str], token: str, pipe) -> None:
    """The socket pages, in a process of their own (so they take none of the app's interpreter): open them, say
    when every one has its conversation list, then hand back what each saw when asked."""
    pattern = re.compile(r"lat-(\d+)-" + token)
    pages = [SocketPage(socket_url, packet, pattern) for packet in packets]
    for page in pages:
        page.start()
    pipe.send(all(page.ready.wait(60) for page in pages))
    while pipe.recv() == "report":
        pipe.send([dict(page.seen) for page in pages])
    for page in pages:
        page.close()


class SocketPages:
    """The child process holding the socket pages."""

    def __init__(self, socket_url: str, packets: list[str], token: str) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self.count = len(packets)
        self.process = context.Process(target=socket_pages_process, args=(socket_url, packets, token, child_end), daemon=True)
        self.process.start()
        if not self.pipe.poll(120) or not self.pipe.recv():
            raise RuntimeError("a socket page never received its conversation list")

    def seen(self) -> list[dict[str, float]]:
        self.pipe.send("report")
        return self.pipe.recv()

    def close(self) -> None:
        self.pipe.send("stop")
        self.process.join(10)


def record_connect(page, url: str) -> str:
    """The socket.io CONNECT packet (hydrate event with the signed-in session and the route) a real tab sends
    when it opens `url`."""
    packets: list[str] = []

    def on_socket(ws) -> None:
        ws.on("framesent", lambda payload: packets.append(payload) if isinstance(payload, str) and payload.startswith("40/_event,") else None)

    page.on("websocket", on_socket)
    page.goto(url)
    page.locator(".conversation-row").first.wait_for()
    page.wait_for_timeout(500)
    page.remove_listener("websocket", on_socket)
    if not packets:
        raise RuntimeError(f"no socket.io CONNECT packet recorded for {url}")
    return packets[-1]


def run_layout(app, layout: str, args, customers, contact_ids: list[str], probes: Probes, browser) -> tuple[float, bool]:
    """Open the tabs, send the messages, report; (p95, every message seen in every tab)."""
    from backend.services.messaging.rows import inbound_message_id

    token = uuid.uuid4().hex[:8]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(180_000)
    first = context.new_page()
    first.goto(app.at("/login"))
    first.locator("#login-email").fill(app.admin_email)
    first.locator("#login-password").fill(app.admin_password)
    first.locator("#login-submit").click()
    first.wait_for_url("**/inbox")
    tabs_wanted = max(1, min(args.browser_tabs, args.pages))
    pages = [first] + [context.new_page() for _ in range(tabs_wanted - 1)]
    routes = [f"/inbox/{contact_ids[index % len(contact_ids)]}" if layout == "three-pane" and index % 2 == 1 else "/inbox"
              for index in range(args.pages)]
    sockets: SocketPages | None = None
    if args.pages > tabs_wanted:
        recorder = context.new_page()
        packets = {"/inbox": record_connect(recorder, app.at("/inbox"))}
        if layout == "three-pane":
            packets["thread"] = record_connect(recorder, app.at(routes[1]))
        recorder.close()
        socket_packets = [packets["/inbox"] if route == "/inbox" else packets["thread"].replace(routes[1].rsplit("/", 1)[1], route.rsplit("/", 1)[1])
                          for route in routes[tabs_wanted:]]
        sockets = SocketPages(app.api_url.replace("http", "ws", 1) + "/_event/?EIO=4&transport=websocket", socket_packets, token)
    for index, page in enumerate(pages):
        page.goto(app.at(routes[index]))
        page.locator(".conversation-row").first.wait_for()
    pages[-1].wait_for_timeout(3000)  # every page's live loop is subscribed
    for page in pages:
        page.evaluate(OBSERVER, token)
    probes.reads.clear()
    probes.calls.clear()

    posted: dict[int, float] = {}
    stored: dict[int, float] = {}
    ids: dict[int, str] = {}
    lock = threading.Lock()
    interval = 1.0 / args.rate

    def send(index: int) -> None:
        phone, name = customers[index % len(customers)]
        wamid = make_wamid(phone, uuid.uuid4().hex)
        with lock:
            posted[index] = time.time() * 1000
            ids[index] = inbound_message_id("whatsapp", wamid)
        post_message(app.api_url, phone, name, f"lat-{index}-{token}", wamid=wamid)
        with lock:
            stored[index] = time.time() * 1000

    print(f"\n[{layout}] {args.pages} pages ({len(pages)} Chromium tabs, {sockets.count if sockets else 0} socket pages, in a process of their own); sending {args.messages} messages at {args.rate:g}/s from {len(customers)} customers; {machine_load()}")
    cpu_before = cpu_by_role()
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        for index in range(args.messages):
            delay = started + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index)
    sent_in = time.perf_counter() - started
    cpu_after = cpu_by_role()
    deadline = time.time() + 30
    seen: list[dict[str, float]] = []
    while time.time() < deadline:
        tab_seen = [page.evaluate("window.__seen") for page in pages]
        seen = tab_seen + (sockets.seen() if sockets else [])
        if all(len(s) >= args.messages for s in seen):
            break
        time.sleep(0.5)
    reads = list(probes.reads)
    calls = {operation: list(times) for operation, times in probes.calls.items()}
    if sockets:
        sockets.close()
    context.close()

    latencies = [tab[str(i)] - posted[i] for tab in seen for i in range(args.messages) if str(i) in tab]
    last_of_customer = {index % len(customers): index for index in range(args.messages)}
    lost = sum(1 for tab in seen for index in last_of_customer.values() if str(index) not in tab)
    superseded = args.messages * len(seen) - len(latencies) - lost
    print(f"sent in {sent_in:.2f} s ({args.messages / sent_in:.1f}/s); (message, page) pairs seen: {len(latencies)}, "
          f"superseded before shown: {superseded}, lost (a customer's last message never shown): {lost}")
    if not latencies:
        print("MISS: nothing was seen")
        return float("inf"), False
    answered = [stored[i] - posted[i] for i in stored]
    streamed = [probes.published[ids[i]] - stored[i] for i in stored if ids[i] in probes.published]
    rest = [tab[str(i)] - probes.published[ids[i]] for tab in seen for i in range(args.messages) if str(i) in tab and ids[i] in probes.published]
    def line(label: str, values: list[float]) -> str:
        return f"{label} p50 {statistics.median(values):.0f} | p95 {percentile(values, 0.95):.0f}" if values else f"{label} n/a"
    print("breakdown ms: " + " ; ".join((line("webhook (stored)", answered), line("stream (stored → feed)", streamed),
                                            line("feed → seen in a tab", rest))))
    print(f"inbox reads: {len(reads)} in {sent_in:.1f} s; " + line("ms", reads))
    busiest = sorted(calls.items(), key=lambda item: -len(item[1]))[:5]
    print("DynamoDB calls until every page had them (count, answer ms): " + " ; ".join(
        f"{operation} {len(times)}, p50 {statistics.median(times):.0f}" for operation, times in busiest))
    print("CPU while sending (share of one core): " + ", ".join(
        f"{role} {100 * (cpu_after[role] - cpu_before.get(role, 0.0)) / sent_in:.0f}%" for role in cpu_after))
    if sockets:
        tab_latencies = [tab[str(i)] - posted[i] for tab in seen[:len(pages)] for i in range(args.messages) if str(i) in tab]
        socket_latencies = [tab[str(i)] - posted[i] for tab in seen[len(pages):] for i in range(args.messages) if str(i) in tab]
        print(line(f"socket pages ({sockets.count}): latency ms", socket_latencies) + " ; "
              + line(f"Chromium tabs ({len(pages)}), render included: latency ms", tab_latencies))
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f"[{layout}] latency ms: p50 {p50:.0f} | p95 {p95:.0f} | max {max(latencies):.0f} | min {min(latencies):.0f}")
    return p95, lost == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    parser.add_argument("--contacts", type=int, default=25, help="customers writing (fewer than the list's 30 rows: see above)")
    parser.add_argument("--pages", type=int, default=20, help="operators' tabs open while the messages flow")
    parser.add_argument("--browser-tabs", type=int, default=1,
                        help="how many of the pages are Chromium tabs (the rest are socket pages: see above)")
    parser.add_argument("--layout", choices=("both", "list", "three-pane"), default="both")
    parser.add_argument("--dev", action="store_true", help="the dev-mode frontend (reflex run) instead of the production build")
    args = parser.parse_args()
    missing = missing_prerequisites()
    if missing:
        print("needs " + "; ".join(missing))
        return 2

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="wecare-bench-latency-"))
    env = {"WECARE_WHATSAPP_WEBHOOK_SECRET": WEBHOOK_SECRET}
    probes = Probes()  # before the app starts: the change feed binds the hub's publish when it starts
    with running_app(work, work / "screenshots", env, production=not args.dev) as app:
        print(f"frontend: {'dev server' if args.dev else 'production build'}")
        customers = [(f"4477009{n:05d}", f"Latency Customer {n:03d}") for n in range(args.contacts)]
        with ThreadPoolExecutor(8) as pool:  # known customers first, untimed
            list(pool.map(lambda c: post_message(app.api_url, c[0], c[1], "hello"), customers))
        from backend.services.contacts.senders import sender_ids

        contact_ids = [sender_ids.get("+" + phone) for phone, _ in customers if sender_ids.get("+" + phone)]
        layouts = ("list", "three-pane") if args.layout == "both" else (args.layout,)
        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            for layout in layouts:
                results[layout] = run_layout(app, layout, args, customers, contact_ids, probes, browser)
            browser.close()
        ok = all(p95 <= TARGET_P95_MS and complete for p95, complete in results.values())
        summary = ", ".join(f"{layout} p95 {p95:.0f} ms" for layout, (p95, _) in results.items())
        print(f"{'PASS' if ok else 'MISS'}: target p95 <= {TARGET_P95_MS} ms with every message seen in all {args.pages} tabs ({summary})")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
