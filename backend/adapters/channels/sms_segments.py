"""How many SMS parts a text is billed as: its encoding (GSM-7 or UCS-2), its units and its segments.

A text that fits the GSM 03.38 alphabet (basic set, or extension table at 2 units a character: escape +
character) is sent as GSM-7; anything else makes the whole text UCS-2, counted in UTF-16 code units (an
emoji outside the Basic Multilingual Plane is 2). One part holds 160 GSM-7 units or 70 UCS-2 units; split
texts lose room to the concatenation header: 153 or 67 units a part. A character is never split across
parts (an escape pair or a surrogate pair that does not fit moves whole to the next part), so a split text
may need one part more than `ceil(units / per_segment)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
CONCATENATED = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: Encoding
    characters: int  # Unicode code points
    units: int  # GSM-7 septets or UTF-16 code units
    segments: int
    per_segment: int  # units a part holds: 160/70 for a single part, 153/67 once split


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _unit_sizes(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def _parts(sizes: list[int], room: int) -> int:
    """Parts needed when whole characters are packed in order into parts of `room` units."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > room:
            parts, used = parts + 1, 0
        used += size
    return parts


def segment_info(text: str) -> SegmentInfo:
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    sizes = _unit_sizes(text, encoding)
    units = sum(sizes)
    if units == 0:
        return SegmentInfo(encoding, 0, 0, 0, SINGLE[encoding])
    if units <= SINGLE[encoding]:
        return SegmentInfo(encoding, len(text), units, 1, SINGLE[encoding])
    room = CONCATENATED[encoding]
    return SegmentInfo(encoding, len(text), units, _parts(sizes, room), room)
