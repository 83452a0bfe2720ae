"""Architecture: no page calls the service layer on the server's event loop, and no state lock is held across I/O.

Reflex runs a foreground event handler inline on the asyncio loop, so one slow service call there stalls every
websocket of that worker. The rule (see wecare_app/state/session_state.py):

1. In `wecare_app/`, a function or module of `backend.services` is never *called* directly: it is handed to
   `self.run(service, ...)` (or `asyncio.to_thread`) from a background event. Classes (request models, enums),
   the methods of the layer's data constants (`STATUS_LABELS.get`) and the few pure helpers listed in PURE
   may be called: they do no I/O.
2. Inside `async with self:` (the state lock) nothing is awaited: the lock is for reading and writing vars.
3. A foreground handler (`@rx.event` without `background=True`) never awaits a worker thread: it would hold
   the state lock for the whole call.
4. The actor is resolved with `await self.actor()` (a DynamoDB read, once per event, on a worker thread); a
   bare `self.actor()` is the old on-loop lookup, typically handed on to a service called indirectly.

The check reads the source (ast) and resolves each called name through the module's imports.
"""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "wecare_app"

# Pure helpers of the service layer (no I/O, microseconds): safe to call anywhere, e.g. in a computed var.
PURE = {
    "backend.services.channels.sms.send.segment_info",
    "backend.services.channels.voice.ssml.validate_ssml",
    "backend.services.channels.voice.ssml.speech_estimate",
    "backend.services.rules.consent.window_open",
}
THREAD_HOPS = {"run", "offload", "to_thread", "run_in_thread"}


def _ui_files() -> list[Path]:
    return sorted(p for p in UI.rglob("*.py") if ".web" not in p.parts)


def _service_imports(tree: ast.Module) -> dict[str, str]:
    """Local name → dotted path, for every import from backend.services."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend.services"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("backend.services") and alias.asname:
                    names[alias.asname] = alias.name
    return names


def _dotted(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *parts]
    return None


def _resolve(path: str):
    """The object a dotted path names (a module, or an attribute of one)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def _reads_a_constant(obj) -> bool:
    """A method of a plain data constant of the service layer (`STATUS_LABELS.get`, `VIEWS.index`): no I/O."""
    return isinstance(getattr(obj, "__self__", None), (dict, list, tuple, str, set, frozenset))


def _is_background(fn: ast.AST) -> bool:
    for deco in getattr(fn, "decorator_list", []):
        if isinstance(deco, ast.Call) and any(
            k.arg == "background" and isinstance(k.value, ast.Constant) and k.value.value for k in deco.keywords
        ):
            return True
    return False


def _is_event(fn: ast.AST) -> bool:
    for deco in getattr(fn, "decorator_list", []):
        target = deco.func if isinstance(deco, ast.Call) else deco
        if _dotted(target) in (["rx", "event"], ["event"]):
            return True
    return False


def _is_state_lock(item: ast.withitem) -> bool:
    return isinstance(item.context_expr, ast.Name) and item.context_expr.id in ("self", "state")


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    imports = _service_imports(tree)
    where = path.relative_to(ROOT)
    found: list[str] = []

    awaited = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Await)}
    for node in ast.walk(tree):
        # 4. the actor looked up on the loop
        if isinstance(node, ast.Call) and _dotted(node.func) == ["self", "actor"] and id(node) not in awaited:
            found.append(f"{where}:{node.lineno}: looks the actor up on the loop; use `await self.actor()` or `self.run`")
        # 1. direct calls into the service layer
        if isinstance(node, ast.Call):
            dotted = _dotted(node.func)
            if dotted and dotted[0] in imports:
                full = ".".join([imports[dotted[0]], *dotted[1:]])
                obj = _resolve(full)
                if not inspect.isclass(obj) and full not in PURE and not _reads_a_constant(obj):
                    found.append(f"{where}:{node.lineno}: calls {full} directly; hand it to `await self.run(...)`")
        # 2. awaiting inside the state lock
        if isinstance(node, ast.AsyncWith) and any(_is_state_lock(i) for i in node.items):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Await):
                        found.append(f"{where}:{sub.lineno}: awaits inside `async with self` (the state lock)")
        # 3. foreground handlers that hop to a thread (they would hold the lock for the whole call)
        if isinstance(node, ast.AsyncFunctionDef) and _is_event(node) and not _is_background(node):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and (d := _dotted(sub.func)) and d[-1] in THREAD_HOPS:
                    found.append(f"{where}:{sub.lineno}: foreground handler {node.name} waits on a worker thread")
    return found


@pytest.mark.parametrize("path", _ui_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_service_call_on_the_event_loop(path: Path):
    assert _violations(path) == []


def test_the_check_sees_each_kind_of_violation(tmp_path: Path, monkeypatch):
    """The rule is not vacuous: a page written the old way fails on all three counts."""
    bad = tmp_path / "bad_page.py"
    bad.write_text(
        "import asyncio\n"
        "import reflex as rx\n"
        "from backend.services.contacts import contacts\n"
        "class S(rx.State):\n"
        "    @rx.event\n"
        "    def load(self):\n"
        "        contacts.search_contacts(None, '')\n"
        "    @rx.event(background=True)\n"
        "    async def save(self):\n"
        "        async with self:\n"
        "            await asyncio.to_thread(print)\n"
        "    @rx.event\n"
        "    async def slow(self):\n"
        "        await self.run(contacts.get_contact, 'x')\n"
        "    def _act(self, action):\n"
        "        return action(self.actor(), {})\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    found = _violations(bad)
    assert any("calls backend.services.contacts.contacts.search_contacts directly" in v for v in found)
    assert any("awaits inside `async with self`" in v for v in found)
    assert any("foreground handler slow waits on a worker thread" in v for v in found)
    assert any("looks the actor up on the loop" in v for v in found)
    assert len(found) == 4
