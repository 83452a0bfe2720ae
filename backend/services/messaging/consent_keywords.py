"""Consent keywords: a customer's whole message saying STOP, START or HELP on a channel.

Only the whole message counts ("please stop sending" is a sentence, not a keyword), compared without case,
surrounding whitespace or punctuation ("Stop." and " STOP! " are keywords), or accents ("Arrêt" is ARRET).
"""
from __future__ import annotations

import unicodedata
from typing import Literal

ConsentKeyword = Literal["opt_out", "opt_in", "help"]

WHATSAPP_OPT_OUT = ("STOP", "UNSUBSCRIBE", "OPT-OUT", "OPTOUT", "OPT OUT")
WHATSAPP_OPT_IN = ("START",)

# The carrier-standard keywords for SMS (AWS End User Messaging SMS honours the same set).
SMS_OPT_OUT = ("STOP", "UNSUBSCRIBE", "ARRET", "QUIT", "END", "CANCEL", "OPTOUT", "OPT-OUT", "REMOVE", "TD", "STOPALL")
SMS_OPT_IN = ("START", "UNSTOP")
SMS_HELP = ("HELP",)


def _table(**keywords: tuple[str, ...]) -> dict[str, ConsentKeyword]:
    return {word: meaning for meaning, words in keywords.items() for word in words}  # type: ignore[misc]


KEYWORDS: dict[str, dict[str, ConsentKeyword]] = {
    "whatsapp": _table(opt_out=WHATSAPP_OPT_OUT, opt_in=WHATSAPP_OPT_IN),
    "sms": _table(opt_out=SMS_OPT_OUT, opt_in=SMS_OPT_IN, help=SMS_HELP),
    "email": {},
}

# Longer than any keyword even with generous punctuation around it: not worth normalising.
_LONGEST_CANDIDATE = 64


def consent_keyword(channel: str, text: str | None) -> ConsentKeyword | None:
    """What the message means for consent on `channel`, or None when it is not a keyword."""
    try:
        keywords = KEYWORDS[channel.lower()]
    except KeyError:
        raise ValueError(f"unknown channel {channel!r}") from None
    if not text or len(text) > _LONGEST_CANDIDATE:
        return None
    return keywords.get(_normalise(text))


def _normalise(text: str) -> str:
    """Upper case without accents, inner whitespace as single spaces, and no whitespace, punctuation or
    invisible format characters (zero-width spaces, byte-order marks) at either end."""
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start]):
        start += 1
    while end > start and _is_edge_noise(text[end - 1]):
        end -= 1
    folded = unicodedata.normalize("NFKD", text[start:end])
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split()).upper()


def _is_edge_noise(char: str) -> bool:
    return unicodedata.category(char)[0] in "PCZ" or char.isspace()  # punctuation, control/format, separators
