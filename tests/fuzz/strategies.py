"""Hypothesis strategies for provider events: arbitrary JSON, structure-aware mutations of real events, the
encodings a door receives them in, and raw bodies that are not JSON at all.

A mutation picks a node anywhere in a real event (inside nested objects and lists) and drops it, changes its
type, or puts a hostile value there: huge, unpaired-surrogate, control or non-ASCII-digit strings, integers
beyond 64 bits, NaN and infinities (Python's json reads them), negative, far-future and malformed timestamps.
"""
from __future__ import annotations

import copy
import json
import time

from hypothesis import strategies as st

_NOW = int(time.time())

# Text as JSON can carry it: every code point, unpaired UTF-16 surrogates ("\ud800" in JSON) included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)

hostile_strings = st.sampled_from([
    "", " ", "\t\n\r", "\x00", "\ud800", "\udfff", "a\ud83d", "\u202eevil", "\ufeff", "\u0000\u0001\u001f",
    "٠١٢٣٤٥٦٧٨٩", "４４７７００９００１２３", "𝟒𝟒𝟕𝟕𝟎𝟎𝟗𝟎𝟎𝟏𝟐𝟑", "+", "++447700900123", "447700900123\n",
    "null", "true", "{}", "[]", "NaN", "1e309", "-0", "0x1F", "../../etc/passwd", "%s%n", "<script>", "' OR 1=1",
    "😀" * 400, "x" * 70_000, "\n" * 1000, "é" * 5000,
]) | any_text

hostile_numbers = st.sampled_from([
    0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**4000,
    0.5, -0.0, 1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf"),
]) | st.integers() | st.floats()

# Epoch seconds (WhatsApp), milliseconds (SMS, voice) and ISO times (SES), good and bad.
timestamps = st.sampled_from([
    "0", "-1", "-1767787200", " 1767787200 ", "1767787200.5", "1e9", "١٧٦٧٧٨٧٢٠٠", "99999999999", "999999999999",
    "9999999999999", str(2**63), str(_NOW + 10**7), str(_NOW + 86400), _NOW + 86400, -_NOW, 0, 2**63, 10**20,
    (_NOW + 10**7) * 1000, -1000, "2026-01-07T12:00:00Z", "9999-12-31T23:59:59.999999+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00",
    "2026-02-30T00:00:00Z", "2026-01-07T12:00:00+99:00", "not a time",
]) | st.integers().map(str)

_leaves = st.none() | st.booleans() | hostile_numbers | any_text
json_values = st.recursive(
    _leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=20,
)
_replacements = st.one_of(json_values, hostile_strings, hostile_numbers, timestamps)


def _paths(doc: object, path: tuple = ()) -> list[tuple]:
    """Every node's path (keys and indexes from the root), the root included."""
    found = [path]
    if isinstance(doc, dict):
        for key, child in doc.items():
            found.extend(_paths(child, path + (key,)))
    elif isinstance(doc, list):
        for index, child in enumerate(doc):
            found.extend(_paths(child, path + (index,)))
    return found


def _get(doc: object, path: tuple) -> object:
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def _mutate_once(draw, doc: object) -> object:
    path = draw(st.sampled_from(_paths(doc)))
    value = _get(doc, path)
    op = draw(st.sampled_from(["drop", "replace", "wrap", "as_json_text", "empty", "duplicate", "add_key"]))
    if op == "drop" and path:
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if op == "wrap":
        new = draw(st.sampled_from([[value], {"value": value}]))
    elif op == "as_json_text":
        new = json.dumps(value, ensure_ascii=draw(st.booleans()))
    elif op == "empty":
        new = draw(st.sampled_from([{}, [], "", None]))
    elif op == "duplicate" and isinstance(value, list) and value:
        new = value + [copy.deepcopy(draw(st.sampled_from(value)))] * draw(st.integers(1, 3))
    elif op == "add_key" and isinstance(value, dict):
        new = {**value, draw(any_text | st.sampled_from(["id", "type", "errors", "context"])): draw(_replacements)}
    else:
        new = draw(_replacements)
    if not path:
        return new
    _get(doc, path[:-1])[path[-1]] = new
    return doc


@st.composite
def mutated(draw, seeds: list) -> object:
    """A real event with one to four structural mutations anywhere in it."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        doc = draw(_mutate_once(doc))
    return doc


def documents(seeds: list) -> st.SearchStrategy:
    """Mostly mutated real events (they reach deep into the parser), some arbitrary JSON, some untouched."""
    return st.one_of(mutated(seeds), mutated(seeds), json_values, st.sampled_from(seeds))


def dumps(value: object, *, ensure_ascii: bool = True) -> str:
    """JSON text as a provider would send it; Python's own NaN/Infinity literals included (json reads them)."""
    return json.dumps(value, ensure_ascii=ensure_ascii)


@st.composite
def encoded(draw, documents: st.SearchStrategy) -> object:
    """A document the way a parser may be handed it: as decoded JSON, as text or as UTF-8 bytes."""
    doc = draw(documents)
    form = draw(st.sampled_from(["object", "text", "bytes"]))
    if form == "object":
        return doc
    text = dumps(doc, ensure_ascii=draw(st.booleans()))
    return text if form == "text" else text.encode("utf-8", "surrogatepass")


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([
        b"", b" ", b"null", b"[]", b"{}", b"NaN", b"\xff\xfe\x00", b"\xc3\x28", b'{"a": "\xed\xa0\x80"}',
        b'{"a": 1' + b"1" * 5000 + b"}", b"[" * 10_000 + b"]" * 10_000, _nested(10_000), b"[" * 10_000,
        b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "' + b"[" * 5000 + b'"}}]}',
        '{"a": "caf\u00e9"}'.encode("latin-1"), '{"a": "\u00e9"}'.encode("utf-16"),
    ]),
    any_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
)
