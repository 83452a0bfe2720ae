"""Benchmark: does a trivial UI event stay quick while other sessions run heavy actions?

    PYTHONPATH=. .venv/bin/python bench/ui_responsiveness.py [--composers 10] [--searchers 10] [--duration 30] [--dev]

Starts the real app (Reflex AppHarness, the production build unless --dev, its own in-memory DynamoDB Local),
seeds 50 contacts who accept SMS and a message log, then drives sessions over Reflex's websocket exactly as the
browser's state.js does (the hydrate event in the socket.io CONNECT packet carrying the session token from
localStorage, then named events with their router data), from separate processes so the clients never compete
with the server for its GIL:

* composers open /inbox/compose?to=<the 50 contacts> and send an SMS to all 50, again and again;
* searchers open /messages and search it for text nothing contains, so every page of the log is read,
  again and again;
* one probe, on /inbox/compose, sets the SMS text (a plain setter: no I/O) and times event sent → the delta
  carrying that text received, then waits 0.1 s and does it again.

The probe connects and runs alone for a few seconds (the idle figure), then for `--duration` seconds under the
load. While handlers ran services inline on the event loop, one session's service call stalled every websocket
the server holds (the probe then waited seconds, and a new socket could not even open). Target: probe p95
≤ 100 ms under the load, with the heavy actions completing.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_P95_MS = 100
CONTACTS = 50  # the composer's limit (MAX_CONTACTS)
NAMESPACE = "/_event"
FIELD = "_rx_state_"  # the suffix Reflex gives every var on the wire
ACTION_TIMEOUT_S = 180  # one heavy action; under the old code they queue behind each other
PROBE_TIMEOUT_S = 30
PROBE_GAP_S = 0.1


# ---------------------------------------------------------------- the app side (this process)


def _services():
    """The service functions the seeding needs (their modules moved when services were grouped by capability)."""
    from backend.services.channels.sms.send import send_sms
    from backend.services.contacts.contacts import create_contact
    from backend.services.platform import users

    return users, create_contact, send_sms


def _handler_names() -> dict:
    """Full state and event names as the compiled frontend knows them, read from the running app's state classes
    (and whether each handler runs as a background event, i.e. off the state lock and the event loop)."""
    compose, log, session = (_state_class(name) for name in ("ComposeState", "MessageLogState", "SessionState"))
    root = session.get_root_state().get_name()
    handlers = {f"compose.{n}": compose.event_handlers[n] for n in ("load", "set_body", "send")}
    handlers |= {f"messages.{n}": log.event_handlers[n] for n in ("load", "search")}
    handlers["session.require_session"] = session.event_handlers["require_session"]
    return {
        "root": root,
        "hydrate": f"{root}.hydrate_and_load",
        "storage_key": f"{session.get_full_name()}.session_token{FIELD}",
        "compose": compose.get_full_name(),
        "messages": log.get_full_name(),
        "background": {name: bool(handler.is_background) for name, handler in handlers.items()},
    }


def _state_class(name: str):
    """The app's state class of that name, wherever its module lives, found in the state tree the app built."""
    from reflex.state import State

    pending, found = [State], []
    while pending:
        state = pending.pop()
        found += [state] if state.__name__ == name else []
        pending.extend(state.get_substates())
    if len(found) != 1:
        raise RuntimeError(f"expected one {name} in the app's state tree, found {len(found)}")
    return found[0]


def _seed(admin_email: str, admin_password: str, log_messages: int) -> tuple[str, list[str]]:
    """A session token for the admin, 50 contacts who accept SMS, and `log_messages` SMS in today's log."""
    from bench.sample_data import make_people

    users, create_contact, send_sms = _services()
    token = users.sign_in(admin_email, admin_password).token
    admin = users.actor_for_session(token)
    people = make_people(CONTACTS, seed=7)
    with ThreadPoolExecutor(4) as pool:
        contacts = list(pool.map(
            lambda p: create_contact(admin, {"name": p.name, "phone": p.phone, "optInSms": True}, via="bench"), people
        ))
        ids = [c.contact_id for c in contacts]
        list(pool.map(
            lambda n: send_sms(admin, {"contactId": ids[n % len(ids)], "body": f"Seeded log line {n}"}, via="bench"),
            range(log_messages),
        ))
    return token, ids


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _figures(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (f"p50 {statistics.median(samples):.0f} | p95 {percentile(samples, 0.95):.0f} | max {max(samples):.0f} | "
            f"min {min(samples):.0f} ms over {len(samples)} events")


def _start_driver(role: str, config: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, __file__, "--drive", role], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    process.stdin.write(json.dumps(config) + "\n")
    process.stdin.flush()
    return process


def _read_line(process: subprocess.Popen, prefix: str, timeout: float) -> dict:
    """The driver's `<prefix> {json}` line (anything else it prints is passed through)."""
    found: dict = {}

    def read() -> None:
        for line in process.stdout:
            if line.startswith(prefix + " "):
                found.update(json.loads(line[len(prefix) + 1:]))
                return
            print(line, end="")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        process.kill()
        raise RuntimeError(f"the {prefix.lower()} line did not come within {timeout:.0f} s (driver exit code {process.poll()})")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--composers", type=int, default=10, help="sessions sending an SMS to 50 contacts, again and again")
    parser.add_argument("--searchers", type=int, default=10, help="sessions searching the message log for nothing, again and again")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds the probe runs under the load")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds the probe runs before the load starts")
    parser.add_argument("--log-messages", type=int, default=400, help="messages seeded into today's log before the run")
    parser.add_argument("--dev", action="store_true", help="the dev-mode frontend (reflex run) instead of the production build")
    parser.add_argument("--drive", choices=("heavy", "probe"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        return drive(args.drive, json.loads(sys.stdin.readline()))

    from bench.local_dynamodb import machine_load
    from tests.e2e.harness import missing_prerequisites, running_app

    missing = [m for m in missing_prerequisites() if "Chromium" not in m and "playwright" not in m]  # no browser here
    if missing:
        print("needs " + "; ".join(missing))
        return 2

    work = Path(tempfile.mkdtemp(prefix="wecare-bench-ui-"))
    with running_app(work, work / "screenshots", production=not args.dev) as app:
        print(f"frontend: {'dev server' if args.dev else 'production build'}; backend {app.api_url}")
        logging.getLogger("backend").setLevel(logging.WARNING)  # one INFO line per queued message otherwise
        names = _handler_names()
        print("background events (off the event loop): " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in names["background"].items()))
        started = time.perf_counter()
        token, contact_ids = _seed(app.admin_email, app.admin_password, args.log_messages)
        print(f"seeded {len(contact_ids)} contacts and {args.log_messages} log messages in {time.perf_counter() - started:.1f} s")
        config = {"api_url": app.api_url, "session": token, "contacts": contact_ids, "names": names,
                  "composers": args.composers, "searchers": args.searchers, "max_seconds": args.duration + 900}

        # The probe connects first: under the old code a new socket could not even open while the load ran.
        probe = _start_driver("probe", {**config, "idle": args.idle, "seconds": args.duration})
        idle = _read_line(probe, "IDLE", args.idle + 300)
        print(f"probe, idle: {_figures(idle['samples'])}")

        heavy = _start_driver("heavy", config)
        ready = _read_line(heavy, "READY", 900)
        print(f"{args.composers} composers (50 recipients each) and {args.searchers} searchers connected and loaded in "
              f"{ready['seconds']:.1f} s; {machine_load()}")
        try:
            probe.stdin.write("GO\n")
            probe.stdin.flush()
            loaded = _read_line(probe, "RESULT", args.duration + PROBE_TIMEOUT_S + 60)
            probe.wait(30)
        finally:
            heavy.stdin.write("STOP\n")
            heavy.stdin.flush()
        outcome = _read_line(heavy, "RESULT", ACTION_TIMEOUT_S + 120)
        heavy.wait(60)

    window = (loaded["started"], loaded["ended"])
    actions = outcome["actions"]
    in_window = [a for a in actions if a["ok"] and window[0] <= a["ended"] <= window[1]]
    sends = [a for a in in_window if a["kind"] == "send"]
    searches = [a for a in in_window if a["kind"] == "search"]
    failed = [a for a in actions if not a["ok"]]
    finished_later = [a for a in actions if a["ok"] and a["ended"] > window[1]]
    samples = loaded["samples"]
    print(f"machine: {os.cpu_count()} cores; {machine_load()}")
    print(f"load: {args.composers} composers + {args.searchers} searchers back to back for {window[1] - window[0]:.1f} s")
    print(f"heavy actions completed in that window: {len(sends) + len(searches)} "
          f"({len(sends)} sends to {CONTACTS} contacts, {sum(a['queued'] for a in sends)} messages queued; "
          f"{len(searches)} full-log searches); {len(failed)} failed or timed out"
          + (f" (first: {failed[0]['detail']})" if failed else "")
          + f"; {len(finished_later)} more in flight finished after it")
    if sends:
        print(f"  a send took: {_figures([a['ms'] for a in sends])}")
    if searches:
        print(f"  a search took: {_figures([a['ms'] for a in searches])}")
    print(f"probe round trip (event sent → its delta received), idle: {_figures(idle['samples'])}")
    print(f"probe round trip under the load: {_figures(samples)}; {loaded['timeouts']} timed out (> {PROBE_TIMEOUT_S} s)")
    if not samples:
        print("MISS: the probe got no answer")
        return 1
    ok = percentile(samples, 0.95) <= TARGET_P95_MS and not loaded["timeouts"] and (sends or searches)
    print(f"{'PASS' if ok else 'MISS'}: target probe p95 <= {TARGET_P95_MS} ms while heavy actions complete")
    return 0 if ok else 1


# ---------------------------------------------------------------- the client side (driver processes)


class Session:
    """One browser tab, at the websocket level: a Reflex client token, the page it is on, and every delta the
    server sent it (with when it arrived), merged into a view of its state."""

    def __init__(self, config: dict, path: str, query: dict | None = None):
        import socketio

        self.config = config
        self.names = config["names"]
        self.router_data = {"pathname": path, "asPath": path + (f"?{urlencode(query)}" if query else "")}
        if query:
            self.router_data["query"] = query
        self.deltas: list[tuple[float, dict]] = []
        self.view: dict[str, dict] = {}
        self.changed = threading.Condition()
        # A generous handshake timeout: under the old code the server could not answer while a handler ran.
        self.client = socketio.Client(reconnection=False, request_timeout=120)
        self.client.on("event", self._on_update, namespace=NAMESPACE)

    def _on_update(self, update: dict) -> None:
        arrived = time.perf_counter()
        delta = update.get("delta") or {}
        with self.changed:
            for state, values in delta.items():
                self.view.setdefault(state, {}).update(values)
            self.deltas.append((arrived, delta))
            self.changed.notify_all()

    def connect(self) -> None:
        """Open the socket with the hydrate event in the CONNECT packet, as state.js does; the page's on_load
        handlers follow on the server."""
        hydrate = {"name": self.names["hydrate"], "payload": {"vars": {self.names["storage_key"]: self.config["session"]}},
                   "router_data": dict(self.router_data)}
        self.client.connect(f"{self.config['api_url']}?token={uuid.uuid4()}", transports=["websocket"],
                            namespaces=[NAMESPACE], socketio_path="_event", auth={"event": hydrate}, wait_timeout=120)

    def send(self, state: str, handler: str, **payload) -> tuple[int, float]:
        """Emit `state.handler(**payload)`; where its answers start in `deltas`, and when it was sent."""
        with self.changed:
            mark = len(self.deltas)
        sent = time.perf_counter()
        self.client.emit("event", {"name": f"{self.names[state]}.{handler}", "payload": payload,
                                   "router_data": dict(self.router_data)}, namespace=NAMESPACE)
        return mark, sent

    def wait(self, mark: int, done, timeout: float):
        """The first non-None `done(deltas since mark)`, or None after `timeout` seconds."""
        deadline = time.perf_counter() + timeout
        with self.changed:
            while True:
                found = done(self.deltas[mark:])
                if found is not None:
                    return found
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return None
                self.changed.wait(remaining)

    def value(self, state: str, var: str):
        with self.changed:
            return self.view.get(self.names[state], {}).get(var + FIELD)

    def close(self) -> None:
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - closing anyway
            pass


def _var_in(deltas, state: str, var: str, want=lambda value: True):
    """When the first delta that sets `state.var` to a value `want` accepts arrived, or None."""
    for arrived, delta in deltas:
        values = delta.get(state, {})
        if var + FIELD in values and want(values[var + FIELD]):
            return arrived
    return None


def _finished(deltas, state: str, flag: str, also: str, also_value=None):
    """The end of a busy spell: `flag` goes False after it went True, or goes False in the same delta that
    sets `also` (a foreground handler that ran to the end in one go sends one delta)."""
    went_true = False
    for arrived, delta in deltas:
        values = delta.get(state, {})
        if values.get(flag + FIELD) is True:
            went_true = True
        elif values.get(flag + FIELD) is False:
            same = also + FIELD in values and (also_value is None or values[also + FIELD] == also_value)
            if went_true or same:
                return arrived
    return None


def _connect_all(sessions: list[Session]) -> None:
    with ThreadPoolExecutor(len(sessions)) as pool:
        list(pool.map(Session.connect, sessions))


def drive(role: str, config: dict) -> int:
    """A driver process: the probe, or the heavy sessions (loaded, READY, then their loops until STOP or
    `max_seconds`; a closed stdin counts as STOP, so a driver whose parent died stops too)."""
    hard_stop = time.time() + config["max_seconds"]
    if role == "probe":
        return _drive_probe(config, hard_stop)

    names = config["names"]
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    to = ",".join(config["contacts"])
    composers = [Session(config, "/inbox/compose", {"to": to}) for _ in range(config["composers"])]
    searchers = [Session(config, "/messages") for _ in range(config["searchers"])]
    started = time.perf_counter()
    _connect_all(composers + searchers)
    wanted = len(config["contacts"])
    compose, log = names["compose"], names["messages"]
    for session in composers:  # every recipient loaded and checked for reach
        session.wait(0, lambda d, s=session: True if len(s.value("compose", "reach") or []) == wanted else None, 600)
    for session in searchers:  # the first page of the log shown
        session.wait(0, lambda d: _var_in(d, log, "loading", lambda v: v is False), 600)
    print("READY " + json.dumps({"seconds": time.perf_counter() - started}), flush=True)

    actions: list[dict] = []
    lock = threading.Lock()

    def record(kind: str, begun: float, finished, detail: str = "", queued: int = 0) -> None:
        with lock:
            actions.append({"kind": kind, "ok": finished is not None, "ms": ((finished or time.perf_counter()) - begun) * 1000,
                            "ended": time.time(), "detail": detail, "queued": queued})

    def composer(session: Session, number: int) -> None:
        round_ = 0
        while not stop.is_set() and time.time() < hard_stop:
            round_ += 1
            session.send("compose", "set_body", value=f"Load test {number}.{round_}: your order is ready.")
            mark, begun = session.send("compose", "send")
            finished = session.wait(mark, lambda d: _finished(d, compose, "sending", "outcome"), ACTION_TIMEOUT_S)
            summary = session.value("compose", "outcome_summary") or ""
            queued = int(summary.split(" queued")[0]) if " queued" in summary else 0
            record("send", begun, finished, "" if finished else f"send {number}.{round_}: no answer in {ACTION_TIMEOUT_S} s", queued)

    def searcher(session: Session, number: int) -> None:
        round_ = 0
        while not stop.is_set() and time.time() < hard_stop:
            round_ += 1
            needle = f"zq{uuid.uuid4().hex[:10]}"  # in no message
            mark, begun = session.send("messages", "search", value=needle)
            finished = session.wait(mark, lambda d: _finished(d, log, "loading", "query", needle), ACTION_TIMEOUT_S)
            record("search", begun, finished, "" if finished else f"search {number}.{round_}: no answer in {ACTION_TIMEOUT_S} s")

    workers = [threading.Thread(target=composer, args=(s, n)) for n, s in enumerate(composers)]
    workers += [threading.Thread(target=searcher, args=(s, n)) for n, s in enumerate(searchers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(1.0, hard_stop - time.time()) + ACTION_TIMEOUT_S)
    for session in composers + searchers:
        session.close()
    print("RESULT " + json.dumps({"actions": actions}), flush=True)
    return 0


def _drive_probe(config: dict, hard_stop: float) -> int:
    """Connect, probe for `idle` seconds and report (IDLE), then on GO probe for `seconds` and report (RESULT)."""
    session = Session(config, "/inbox/compose")
    session.connect()
    root, compose = config["names"]["root"], config["names"]["compose"]
    session.wait(0, lambda d: _var_in(d, root, "is_hydrated", lambda v: v is True), 300)
    counter = iter(range(1, 10**9))

    def probe_for(seconds: float) -> dict:
        samples: list[float] = []
        timeouts = 0
        started = time.time()
        end = min(hard_stop, started + seconds)
        while time.time() < end:
            text = f"probe {next(counter)}"
            mark, sent = session.send("compose", "set_body", value=text)
            arrived = session.wait(mark, lambda d: _var_in(d, compose, "body", lambda v: v == text), PROBE_TIMEOUT_S)
            if arrived is None:
                timeouts += 1
            else:
                samples.append((arrived - sent) * 1000)
            time.sleep(PROBE_GAP_S)
        return {"samples": samples, "timeouts": timeouts, "started": started, "ended": time.time()}

    print("IDLE " + json.dumps(probe_for(config["idle"])), flush=True)
    sys.stdin.readline()  # GO: the load is running
    print("RESULT " + json.dumps(probe_for(config["seconds"])), flush=True)
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
