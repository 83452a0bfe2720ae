"""Email content: HTML cut down to a safe email subset, its plain-text alternative, and the size limits.

HTML is sanitised before it is stored, so nothing downstream (the outbox, the message log, the UI) ever holds
script, event handlers or `javascript:` links. Limits raise ValidationError naming the field at fault.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from backend.errors import ValidationError

SUBJECT_MAX_CHARS = 998  # RFC 5322 line limit; a subject is one header line
TEXT_MAX_BYTES = 100 * 1024
HTML_MAX_BYTES = 256 * 1024

TAGS = {
    "p", "br", "a", "b", "strong", "i", "em", "u", "ul", "ol", "li", "h1", "h2", "h3", "h4", "blockquote",
    "table", "thead", "tbody", "tr", "td", "th", "img", "span", "div",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "table": {"width", "border", "cellpadding", "cellspacing"},
    "td": {"colspan", "rowspan", "align", "width"},
    "th": {"colspan", "rowspan", "align", "width"},
}
# Dropped with everything inside them (other unknown tags are dropped but keep their text).
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "title", "head",
                        "svg", "math", "select", "textarea"}
_URL_PREFIXES = {("a", "href"): ("http://", "https://", "mailto:"), ("img", "src"): ("https://",)}
_SIZE = re.compile(r"^\d{1,4}%?$")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    prefixes = _URL_PREFIXES.get((tag, attribute))
    if prefixes is not None:
        value = value.strip()
        return value if value.lower().startswith(prefixes) else None
    if attribute in ("width", "height"):
        return value if _SIZE.match(value.strip()) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener",
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """The HTML with only the email subset left: no script, style, frames, handlers or unsafe URLs."""
    return _CLEANER.clean(html)


# ---------------------------------------------------------------- plain text

_BLOCKS = {"p": 2, "h1": 2, "h2": 2, "h3": 2, "h4": 2, "blockquote": 2, "table": 2, "ul": 2, "ol": 2,
           "div": 1, "tr": 1, "li": 1}  # line breaks around each block element


class _PlainText(HTMLParser):
    """Text runs with collapsed spaces; block elements become line breaks, links "text (url)"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._breaks = 0  # line breaks owed before the next text
        self._space = False  # a space owed before the next text
        self._skipping = 0
        self._links: list[tuple[str | None, int]] = []  # (href, index of the link's first part)
        self._lists: list[int | None] = []  # None for ul, the next number for ol
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skipping += 1
            return
        attributes = dict(attrs)
        self._block(tag)
        if tag == "br":
            self._breaks = min(self._breaks + 1, 2)
        elif tag in ("ul", "ol"):
            self._lists.append(1 if tag == "ol" else None)
        elif tag == "li":
            number = self._lists[-1] if self._lists else None
            if number is not None:
                self._lists[-1] = number + 1
            self._write(f"{number}. " if number is not None else "- ")
        elif tag == "tr":
            self._cells = 0
        elif tag in ("td", "th"):
            if self._cells:
                self._write(" | ")
            self._cells += 1
        elif tag == "a":
            self._links.append((attributes.get("href"), len(self.parts)))
        elif tag == "img" and attributes.get("alt"):
            self._text(attributes["alt"])

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skipping = max(0, self._skipping - 1)
            return
        if tag in ("ul", "ol") and self._lists:
            self._lists.pop()
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and href not in (label, f"mailto:{label}"):
                self._write(f" ({href})" if label else href)
        self._block(tag)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._text(data)

    def _block(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._breaks = max(self._breaks, _BLOCKS[tag])

    def _text(self, data: str) -> None:
        words = data.split()
        if not words:
            self._space = self._space or bool(data)
            return
        self._write(" ".join(words), space_before=data[0].isspace())
        self._space = data[-1].isspace()

    def _write(self, text: str, space_before: bool = False) -> None:
        if self.parts and self._breaks:
            self.parts.append("\n" * self._breaks)
        elif self.parts and (space_before or self._space) and not self.parts[-1].endswith((" ", "\n")):
            self.parts.append(" ")
        self._breaks, self._space = 0, False
        self.parts.append(text)


def plain_text_of(html: str) -> str:
    """A readable plain-text alternative of an HTML body."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


# ---------------------------------------------------------------- limits


def check_subject(subject: str) -> str:
    """The subject, trimmed; one header line, so no CR/LF (header injection) and at most 998 characters."""
    if "\r" in subject or "\n" in subject:
        raise ValidationError("subject: must be one line (no line breaks)", field="subject")
    subject = subject.strip()
    if not subject:
        raise ValidationError("subject: is required", field="subject")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise ValidationError(f"subject: at most {SUBJECT_MAX_CHARS} characters", field="subject")
    return subject


def check_size(field: str, value: str | None, limit_bytes: int) -> None:
    if value is not None and len(value.encode("utf-8")) > limit_bytes:
        raise ValidationError(f"{field}: at most {limit_bytes // 1024} KB", field=field)


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str  # what the customer gave, or the plain-text alternative of the HTML
    html: str | None  # sanitised


def prepare_content(subject: str, text: str | None, html: str | None) -> EmailContent:
    """Checked, sanitised content with a plain-text part; a ValidationError names the field at fault."""
    subject = check_subject(subject)
    check_size("text", text, TEXT_MAX_BYTES)
    check_size("html", html, HTML_MAX_BYTES)
    text = text if text and text.strip() else None
    clean = sanitise_html(html) if html and html.strip() else None
    alternative = plain_text_of(clean) if clean else ""
    if clean is not None and not alternative and "<img" not in clean:
        raise ValidationError("html: nothing is left once unsafe content is removed", field="html")
    if text is None and clean is None:
        raise ValidationError("text: give text, html or both", field="text")
    if text is None:
        if not alternative:
            raise ValidationError("html: has no readable text for the plain-text part; add text", field="html")
        check_size("html", alternative, TEXT_MAX_BYTES)  # its plain-text part must fit like a text body
    return EmailContent(subject=subject, text=text or alternative, html=clean)
