"""A knowledge-base document's text, as passages: extracted with maintained libraries (pypdf, python-docx, lxml's
HTML parser), then cut into overlapping passages that keep their heading and where they came from.

`passages_of(filename, data, mime_type)` → [{"heading", "location", "text"}]. A document that cannot be read
raises `ExtractionError` with the reason the knowledge-base page shows ("The PDF is encrypted", "No text found:
a scanned PDF needs OCR first", …).

Passages: each section (a heading's text up to the next heading; a PDF page) is cut at paragraph, then sentence,
boundaries into pieces of about TARGET_CHARS, each beginning with the last OVERLAP_CHARS or so (whole sentences)
of the one before, so an answer that straddles a cut is whole in one of them. The heading stays with every
piece of its section (it is indexed with the text, and shown as the source's location).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

TARGET_CHARS = 700
OVERLAP_CHARS = 160
MAX_TEXT_CHARS = 2_000_000  # about 600 pages; more is refused rather than half-indexed
MAX_PASSAGES = 5_000

KINDS = {  # mime type → the extractor's name (the upload checks the bytes agree)
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/html": "html",
}
EXTENSIONS = {".pdf": "application/pdf", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              ".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".html": "text/html",
              ".htm": "text/html"}


class ExtractionError(Exception):
    """The document's text could not be read; `reason` says why, in words for the page."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Section:
    heading: str
    location: str
    paragraphs: list[str] = field(default_factory=list)


def mime_type_for(filename: str, declared: str | None = None) -> str | None:
    """The knowledge base's type for a file: by its extension, else the declared type if it is one of ours."""
    lowered = filename.lower()
    for extension, mime in EXTENSIONS.items():
        if lowered.endswith(extension):
            return mime
    declared = (declared or "").split(";")[0].strip().lower()
    return declared if declared in KINDS else None


def passages_of(filename: str, data: bytes, mime_type: str) -> list[dict[str, str]]:
    kind = KINDS.get(mime_type)
    if kind is None:
        raise ExtractionError(f"{mime_type or 'This type'} is not a document type the knowledge base reads "
                              "(PDF, DOCX, TXT, Markdown, HTML)")
    sections = {"pdf": _pdf, "docx": _docx, "text": _text, "markdown": _markdown, "html": _html}[kind](data)
    total = sum(len(p) for s in sections for p in s.paragraphs)
    if total == 0:
        raise ExtractionError("No text found in the document" + (" (a scanned PDF needs OCR first)" if kind == "pdf" else ""))
    if total > MAX_TEXT_CHARS:
        raise ExtractionError(f"The document has {total:,} characters of text; the most one document may have is "
                              f"{MAX_TEXT_CHARS:,}. Split it into smaller documents.")
    passages = [piece for section in sections for piece in _cut(section)]
    if len(passages) > MAX_PASSAGES:
        raise ExtractionError(f"The document makes {len(passages):,} passages; the most is {MAX_PASSAGES:,}.")
    return passages


# --- extractors -----------------------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _paragraphs(text: str) -> list[str]:
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def _text(data: bytes) -> list[Section]:
    return [Section("", "", _paragraphs(_decode(data)))]


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown(data: bytes) -> list[Section]:
    sections: list[Section] = []
    trail: list[str] = []  # the headings above, for the location (Delivery › Areas)
    current = Section("", "")
    block: list[str] = []

    def close_block() -> None:
        if block:
            text = " ".join(" ".join(block).split())
            text = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", text)  # emphasis and code marks
            text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links: their words
            if text:
                current.paragraphs.append(text)
            block.clear()

    fence: str | None = None  # inside a fenced code block: its fence (``` or ~~~); nothing there is a heading
    for line in _decode(data).splitlines():
        opening = re.match(r"^\s*(```+|~~~+)", line)
        if opening and (fence is None or opening.group(1).startswith(fence)):
            close_block()
            fence = None if fence is not None else opening.group(1)[:3]
            continue
        if fence is not None:
            block.append(line.strip())
            continue
        match = _MD_HEADING.match(line)
        if match:
            close_block()
            if current.paragraphs:
                sections.append(current)
            level, heading = len(match.group(1)), match.group(2).strip()
            trail[:] = trail[: level - 1] + [heading]
            current = Section(heading, " › ".join(trail))
        elif not line.strip():
            close_block()
        elif re.match(r"^\s*([-*+]|\d+[.)])\s+", line):
            close_block()  # a list item is a paragraph of its own
            block.append(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line))
        else:
            block.append(line.strip())
    close_block()
    if current.paragraphs:
        sections.append(current)
    return sections


_HTML_BLOCKS = {"p", "div", "li", "ul", "ol", "td", "th", "tr", "table", "pre", "blockquote", "dd", "dt", "dl",
                "section", "article", "main", "aside", "header", "footer", "figure", "figcaption", "form", "br",
                "hr", "address", "details", "summary", "body"}


def _html(data: bytes) -> list[Section]:
    """Every text node in document order: a heading (h1–h6) starts a section, a block element (or <br>) ends a
    paragraph, inline elements run on; script, style, navigation and the head are dropped."""
    from lxml import html as lxml_html
    from lxml.etree import ParserError

    try:
        root = lxml_html.document_fromstring(data)
    except (ParserError, ValueError) as error:
        raise ExtractionError(f"The HTML could not be parsed: {error}") from error
    for element in root.xpath("//script|//style|//noscript|//template|//nav|//head"):
        element.drop_tree()
    sections: list[Section] = []
    trail: list[str] = []
    current = Section("", "")
    words: list[str] = []

    def end_paragraph() -> None:
        text = " ".join("".join(words).split())  # the text nodes carry their own spaces
        if text:
            current.paragraphs.append(text)
        words.clear()

    def walk(element) -> None:
        nonlocal current
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            end_paragraph()
            heading = " ".join(element.text_content().split())
            if heading:
                if current.paragraphs:
                    sections.append(current)
                level = int(tag[1])
                trail[:] = trail[: level - 1] + [heading]
                current = Section(heading, " › ".join(trail))
        else:
            if tag in _HTML_BLOCKS:
                end_paragraph()
            if element.text and tag:
                words.append(element.text)
            for child in element:
                walk(child)
            if tag in _HTML_BLOCKS:
                end_paragraph()
        if element.tail:
            words.append(element.tail)

    walk(root)
    end_paragraph()
    if current.paragraphs:
        sections.append(current)
    return sections


def _pdf(data: bytes) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError("The PDF is encrypted; upload a copy without a password")
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            paragraphs = _paragraphs(text) if "\n\n" in text else [" ".join(text.split())] if text.strip() else []
            if paragraphs:
                sections.append(Section("", f"page {number}", paragraphs))
        return sections
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise ExtractionError(f"The PDF could not be read: {error}") from error


MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # a DOCX is a zip: its parts are added up before anything is unzipped


def _docx(data: bytes) -> list[Section]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        unzipped = sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise ExtractionError(f"The DOCX could not be read: {error}") from error
    if unzipped > MAX_UNZIPPED_BYTES:
        raise ExtractionError(f"The DOCX unzips to {unzipped:,} bytes; the most is {MAX_UNZIPPED_BYTES:,}.")

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError) as error:
        raise ExtractionError(f"The DOCX could not be read: {error}") from error
    except Exception as error:  # a broken zip raises zipfile.BadZipFile, lxml errors their own
        raise ExtractionError(f"The DOCX could not be read: {error}") from error
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    sections: list[Section] = []
    trail: list[str] = []
    current = Section("", "")
    for child in document.element.body.iterchildren():  # paragraphs and tables in the order they stand
        if child.tag.endswith("}tbl"):
            for row in Table(child, document).rows:
                text = " | ".join(" ".join(cell.text.split()) for cell in row.cells)
                if text.strip(" |"):
                    current.paragraphs.append(text)
            continue
        if not child.tag.endswith("}p"):
            continue
        paragraph = Paragraph(child, document)
        text = " ".join(paragraph.text.split())
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = 1 if style == "Title" else int(style.split()[-1]) if style.startswith("Heading") and style.split()[-1].isdigit() else 0
        if level:
            if current.paragraphs:
                sections.append(current)
            trail[:] = trail[: level - 1] + [text]
            current = Section(text, " › ".join(trail))
        else:
            current.paragraphs.append(text)
    if current.paragraphs:
        sections.append(current)
    return sections


# --- passages -------------------------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])")


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def _cut(section: Section) -> list[dict[str, str]]:
    units: list[str] = []
    for paragraph in section.paragraphs:
        if len(paragraph) <= TARGET_CHARS:
            units.append(paragraph)
        else:
            for sentence in sentences(paragraph):
                while len(sentence) > TARGET_CHARS:  # one run-on "sentence": cut at a space
                    cut = sentence.rfind(" ", 0, TARGET_CHARS)
                    cut = cut if cut > TARGET_CHARS // 2 else TARGET_CHARS
                    units.append(sentence[:cut].strip())
                    sentence = sentence[cut:].strip()
                if sentence:
                    units.append(sentence)
    pieces: list[dict[str, str]] = []
    current: list[str] = []
    fresh = False  # current holds more than the overlap it began with
    for unit in units:
        if fresh and sum(len(u) + 1 for u in current) + len(unit) > TARGET_CHARS:
            pieces.append(_piece(section, current))
            current = _overlap(current)
        current.append(unit)
        fresh = True
    if fresh:
        pieces.append(_piece(section, current))
    return pieces


def _overlap(units: list[str]) -> list[str]:
    """The whole sentences at the end of `units` that fit in OVERLAP_CHARS (the next passage starts with them)."""
    tail: list[str] = []
    for sentence in reversed(sentences(" ".join(units[-1:]))):
        if sum(len(s) + 1 for s in tail) + len(sentence) > OVERLAP_CHARS:
            break
        tail.insert(0, sentence)
    return [" ".join(tail)] if tail else []


def _piece(section: Section, units: list[str]) -> dict[str, str]:
    return {"heading": section.heading, "location": section.location, "text": "\n".join(units)}
