"""SSML for voice calls: a safe check (well-formed, a <speak> root, only the tags Amazon Polly reads), the
text a call actually says, and how long saying it takes.

Parsing is expat with namespace processing off, so Amazon's `amazon:` tags need no namespace declaration
(Polly does not ask for one). Documents declaring a DOCTYPE or entities are refused before parsing, and
expat is told never to read external or parameter entities, so no entity expansion can happen.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple
from xml.parsers import expat

from backend.adapters.channels.voice import SPEAKING_RATE_WPM, TEXT_TYPES
from backend.errors import ValidationError

ALLOWED_TAGS = frozenset({
    "speak", "break", "emphasis", "lang", "mark", "p", "phoneme", "prosody", "s", "say-as", "sub", "w",
    "amazon:effect", "amazon:domain", "amazon:auto-breaths",
})
BREAK_STRENGTH_SECONDS = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.75, "x-strong": 1.0}
MAX_BREAK_SECONDS = 10.0  # Polly's longest <break time>
_BLOCKS = frozenset({"speak", "p", "s", "break"})  # words either side of these never run together
_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")


class SpeechEstimate(NamedTuple):
    characters: int  # spoken characters (what Polly bills)
    words: int
    seconds: float  # at SPEAKING_RATE_WPM, plus SSML pauses


@dataclass
class _Reading:
    """What a walk through the document collects."""

    parts: list[str] = field(default_factory=list)
    pause_seconds: float = 0.0
    depth: int = 0
    skip_depth: int = 0  # inside <sub alias>: the alias is said instead of the content


def _refuse(reason: str, field_name: str) -> ValidationError:
    return ValidationError(f"{field_name}: {reason}", field=field_name)


def _break_seconds(attrs: dict[str, str], field_name: str) -> float:
    if "time" in attrs:
        match = _BREAK_TIME.match(attrs["time"])
        if not match:
            raise _refuse(f"<break time={attrs['time']!r}> must be like 500ms or 2s", field_name)
        seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
        if seconds > MAX_BREAK_SECONDS:
            raise _refuse(f"<break> is at most {MAX_BREAK_SECONDS:g}s", field_name)
        return seconds
    strength = attrs.get("strength", "medium")
    if strength not in BREAK_STRENGTH_SECONDS:
        raise _refuse(f"<break strength={strength!r}> is one of {', '.join(BREAK_STRENGTH_SECONDS)}", field_name)
    return BREAK_STRENGTH_SECONDS[strength]


def _read(body: str, field_name: str) -> _Reading:
    if _DECLARATIONS.search(body):
        raise _refuse("SSML may not contain <!DOCTYPE> or <!ENTITY> declarations", field_name)
    reading = _Reading()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(name: str, attrs: dict[str, str]) -> None:
        if reading.depth == 0 and name != "speak":
            raise _refuse(f"SSML must start with <speak>, not <{name}>", field_name)
        if name not in ALLOWED_TAGS:
            raise _refuse(f"<{name}> is not an SSML tag a call can use; allowed: {', '.join(sorted(ALLOWED_TAGS))}",
                          field_name)
        reading.depth += 1
        if reading.skip_depth:
            reading.skip_depth += 1
            return
        if name in _BLOCKS:
            reading.parts.append(" ")
        if name == "break":
            reading.pause_seconds += _break_seconds(attrs, field_name)
        elif name == "sub" and attrs.get("alias"):
            reading.parts.append(attrs["alias"])
            reading.skip_depth = 1

    def end(name: str) -> None:
        reading.depth -= 1
        if reading.skip_depth:
            reading.skip_depth -= 1
        if name in _BLOCKS:
            reading.parts.append(" ")

    def text(data: str) -> None:
        if not reading.skip_depth:
            reading.parts.append(data)

    def refuse_declaration(*_args) -> None:
        raise _refuse("SSML may not contain <!DOCTYPE> or <!ENTITY> declarations", field_name)

    def refuse_instruction(target: str, _data: str) -> None:
        raise _refuse(f"processing instructions (<?{target} …?>) are not allowed in SSML", field_name)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse_declaration
    parser.EntityDeclHandler = refuse_declaration
    parser.ProcessingInstructionHandler = refuse_instruction
    try:
        parser.Parse(body, True)
    except expat.ExpatError as error:
        raise _refuse(f"SSML is not well-formed XML ({expat.errors.messages[error.code]}, "
                      f"line {error.lineno}, column {error.offset + 1})", field_name) from None
    return reading


def _flat(text: str) -> str:
    return " ".join(text.split())


def _check_text_type(text_type: str) -> None:
    if text_type not in TEXT_TYPES:
        raise ValidationError(f"textType: one of {', '.join(TEXT_TYPES)}", field="textType")


def validate_ssml(body: str, field_name: str = "text") -> None:
    """Raise ValidationError (naming `field_name`) unless `body` is SSML a call can say."""
    spoken_text(body, "SSML", field_name)


def spoken_text(body: str, text_type: str, field_name: str = "text") -> str:
    """The words a call says: the text itself, or the SSML's text (with <sub> aliases) on one line."""
    _check_text_type(text_type)
    if text_type == "TEXT":
        return _flat(body)
    spoken = _flat("".join(_read(body, field_name).parts))
    if not spoken:
        raise _refuse("the SSML has nothing to say", field_name)
    return spoken


def speech_estimate(body: str, text_type: str = "TEXT") -> SpeechEstimate:
    """Characters, words and seconds a call takes to say `body` (the preview beside the editor)."""
    _check_text_type(text_type)
    if text_type == "SSML":
        reading = _read(body, "text")
        spoken, pauses = _flat("".join(reading.parts)), reading.pause_seconds
    else:
        spoken, pauses = _flat(body), 0.0
    words = len(spoken.split())
    seconds = words * 60 / SPEAKING_RATE_WPM + pauses
    return SpeechEstimate(characters=len(spoken), words=words, seconds=math.ceil(seconds * 10) / 10)
