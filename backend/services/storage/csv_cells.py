"""CSV cells a spreadsheet opens safely: one that would run as a formula is prefixed with a quote (OWASP's CSV
injection advice). Every export writes its cells through `safe_cell`."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
