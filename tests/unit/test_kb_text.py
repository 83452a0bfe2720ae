"""A knowledge-base document's text as passages (backend/services/ai/kb_text.py): Markdown, HTML, TXT, DOCX and PDF
are read into sections that keep their heading trail ("A › B") or page; what cannot be read is an ExtractionError
with a reason in words; a long section is cut into passages of about TARGET_CHARS that overlap by whole
sentences and all keep the heading; the type comes from the extension, else the declared type."""
from __future__ import annotations

import io

import pytest

from backend.services.ai import kb_text
from backend.services.ai.kb_text import ExtractionError, mime_type_for, passages_of

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def texts(passages) -> list[str]:
    return [p["text"] for p in passages]


# ---------------------------------------------------------------- Markdown


MARKDOWN = b"""# Northwind handbook

Welcome to **Northwind**: read the [returns page](https://example.com/returns) and `call us`.

## Delivery

- We deliver on *Tuesdays* and _Fridays_.
- Free delivery over 50 pounds.
1. Orders before noon
   ship the same day.

### Areas

Bristol and Bath.

## Returns ##

Bring it back within 30 days.
"""


def test_markdown_headings_make_sections_with_their_trail():
    passages = passages_of("handbook.md", MARKDOWN, "text/markdown")
    assert [(p["heading"], p["location"]) for p in passages] == [
        ("Northwind handbook", "Northwind handbook"),
        ("Delivery", "Northwind handbook › Delivery"),
        ("Areas", "Northwind handbook › Delivery › Areas"),
        ("Returns", "Northwind handbook › Returns"),  # closing #s are not part of the heading
    ]
    assert passages[2]["text"] == "Bristol and Bath."


def test_markdown_list_items_are_paragraphs_and_marks_are_stripped():
    intro, delivery, *_ = passages_of("handbook.md", MARKDOWN, "text/markdown")
    assert intro["text"] == "Welcome to Northwind: read the returns page and call us."
    assert delivery["text"].split("\n") == [
        "We deliver on Tuesdays and Fridays.",
        "Free delivery over 50 pounds.",
        "Orders before noon ship the same day.",  # a list item's continuation line stays with it
    ]
    assert not any(mark in " ".join(texts(passages_of("handbook.md", MARKDOWN, "text/markdown")))
                   for mark in ("**", "*", "`", "](", "#"))


def test_a_hash_line_inside_a_fenced_code_block_is_not_a_heading():
    data = b"# Setup\n\nInstall it:\n\n```bash\n# install the tool\npip install x\n```\n\nThen run it.\n"
    passages = passages_of("setup.md", data, "text/markdown")
    assert [p["heading"] for p in passages] == ["Setup"]
    assert "```" not in passages[0]["text"]


# ---------------------------------------------------------------- HTML


HTML = b"""<!doctype html>
<html><head><title>Head title</title><style>p { color: red }</style>
<script>var secret = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<h1>Customer guide</h1>
<p>Read this first.</p>
<script>trackVisitor("also not indexed")</script>
<h2>Returns</h2>
<ul><li><p>Keep the <b>receipt</b>.</p></li><li>Bring the item back within 30 days.</li></ul>
<h3>Refunds</h3>
<p>Refunds go back to the card used.</p>
<style>.x { display: none }</style>
<h2>Contact</h2>
<table><tr><td>Phone</td><td>0117 496 0000</td></tr></table>
</body></html>"""


def test_html_is_read_by_a_parser_with_its_heading_trail():
    passages = passages_of("guide.html", HTML, "text/html")
    assert [(p["heading"], p["location"]) for p in passages] == [
        ("Customer guide", "Customer guide"),
        ("Returns", "Customer guide › Returns"),
        ("Refunds", "Customer guide › Returns › Refunds"),
        ("Contact", "Customer guide › Contact"),
    ]
    assert passages[0]["text"] == "Read this first."
    assert passages[2]["text"] == "Refunds go back to the card used."
    assert passages[3]["text"].split("\n") == ["Phone", "0117 496 0000"]


def test_html_drops_scripts_styles_and_navigation_and_does_not_double_nested_paragraphs():
    passages = passages_of("guide.html", HTML, "text/html")
    everything = " ".join(texts(passages))
    for gone in ("do not index", "also not indexed", "color", "display", "Head title", "Home"):
        assert gone not in everything
    returns = passages[1]["text"].split("\n")
    assert returns == ["Keep the receipt.", "Bring the item back within 30 days."]  # the <p> inside <li> once
    assert everything.count("Keep the receipt") == 1


def test_broken_html_is_still_read_and_an_empty_page_has_no_text():
    assert texts(passages_of("x.htm", b"<p>Unclosed <b>bold paragraph<p>Second", "text/html")) == [
        "Unclosed bold paragraph\nSecond"]
    with pytest.raises(ExtractionError) as raised:
        passages_of("empty.html", b"<html><head><title>Only a title</title></head><body><script>x()</script></body></html>",
                    "text/html")
    assert raised.value.reason.startswith("No text found")


def test_html_text_outside_paragraph_tags_is_kept():
    page = (b"<html><body><h2>Hours</h2>We open at 9am.<br>We close at 5pm."
            b"<div>Returns are accepted within 30 days.</div></body></html>")
    joined = " ".join(texts(passages_of("div.html", page, "text/html")))
    assert "We open at 9am." in joined and "Returns are accepted within 30 days." in joined


# ---------------------------------------------------------------- TXT


def test_text_paragraphs_are_blank_line_separated_and_whitespace_is_folded():
    data = "Opening hours\r\n\r\nWe open   at 9am\r\nand close at 5pm.\r\n\r\n\r\nCafé upstairs.\r\n".encode("utf-8")
    [passage] = passages_of("notes.txt", data, "text/plain")
    assert passage["text"].split("\n") == ["Opening hours", "We open at 9am and close at 5pm.", "Café upstairs."]
    assert (passage["heading"], passage["location"]) == ("", "")


def test_text_that_is_not_utf8_is_read_as_windows_1252():
    [passage] = passages_of("old.txt", "Price: £5 – café".encode("cp1252"), "text/plain")
    assert passage["text"] == "Price: £5 – café"


def test_empty_text_is_no_text_found():
    with pytest.raises(ExtractionError) as raised:
        passages_of("blank.txt", b" \n\n \t\n", "text/plain")
    assert raised.value.reason == "No text found in the document"
    assert str(raised.value) == raised.value.reason


# ---------------------------------------------------------------- DOCX


def docx_bytes(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _handbook(document) -> None:
    document.add_heading("Staff handbook", level=1)
    document.add_paragraph("Welcome to the   team.")
    document.add_heading("Delivery", level=2)
    document.add_paragraph("We deliver on Tuesdays.")
    document.add_paragraph("")  # an empty paragraph is skipped
    document.add_heading("Contact", level=1)
    document.add_paragraph("Call the shop.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Shop", "Phone"
    table.cell(1, 0).text, table.cell(1, 1).text = "Bristol", "0117 496 0000"


def test_docx_headings_make_sections_and_tables_become_rows():
    passages = passages_of("handbook.docx", docx_bytes(_handbook), DOCX)
    assert [(p["heading"], p["location"]) for p in passages] == [
        ("Staff handbook", "Staff handbook"),
        ("Delivery", "Staff handbook › Delivery"),
        ("Contact", "Contact"),
    ]
    assert passages[0]["text"] == "Welcome to the team."
    assert passages[2]["text"].split("\n") == ["Call the shop.", "Shop | Phone", "Bristol | 0117 496 0000"]


def _table_in_the_middle(document) -> None:
    document.add_heading("Prices", level=1)
    document.add_paragraph("Our prices include VAT.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Compost bag", "7.50 pounds"
    document.add_heading("Contact", level=1)
    document.add_paragraph("Call the shop.")


def test_a_docx_table_stays_under_the_heading_it_sits_under():
    passages = passages_of("prices.docx", docx_bytes(_table_in_the_middle), DOCX)
    by_heading = {p["heading"]: p["text"] for p in passages}
    assert "Compost bag | 7.50 pounds" in by_heading["Prices"]
    assert "Compost bag" not in by_heading["Contact"]


def test_a_broken_docx_is_an_extraction_error():
    with pytest.raises(ExtractionError) as raised:
        passages_of("broken.docx", b"PK\x03\x04 this is not really a zip", DOCX)
    assert raised.value.reason.startswith("The DOCX could not be read")


# ---------------------------------------------------------------- PDF


def pdf_bytes(*pages: list[str]) -> bytes:
    """A minimal valid PDF: one Helvetica text object per page, one line per string, with correct xref offsets."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for n, lines in enumerate(pages):
        operators = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            operators.append(f"({escaped}) Tj T*")
        operators.append("ET")
        stream = "\n".join(operators).encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {5 + 2 * n} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_a_pdf_page_text_is_extracted_with_its_page_as_location(caplog):
    data = pdf_bytes(["Opening hours: Monday to Friday 9am to 5pm.", "Closed on Sundays."],
                     ["Returns are accepted within 30 days."])
    with caplog.at_level("WARNING", logger="pypdf"):
        passages = passages_of("hours.pdf", data, "application/pdf")
    assert not caplog.records  # a well-formed file: pypdf found the xref where it says
    assert passages == [
        {"heading": "", "location": "page 1", "text": "Opening hours: Monday to Friday 9am to 5pm. Closed on Sundays."},
        {"heading": "", "location": "page 2", "text": "Returns are accepted within 30 days."},
    ]


def test_an_encrypted_pdf_is_refused_with_the_reason():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Secret price list."]))))
    writer.encrypt("open-sesame", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ExtractionError) as raised:
        passages_of("locked.pdf", out.getvalue(), "application/pdf")
    assert raised.value.reason == "The PDF is encrypted; upload a copy without a password"


@pytest.mark.parametrize("data", [b"%PDF-1.4\nthis is not a pdf body at all", b"\x00\x01garbage", b""])
def test_a_garbage_pdf_is_an_extraction_error_with_a_readable_reason(data):
    with pytest.raises(ExtractionError) as raised:
        passages_of("broken.pdf", data, "application/pdf")
    assert raised.value.reason.startswith("The PDF could not be read")


def test_a_pdf_without_text_needs_ocr():
    with pytest.raises(ExtractionError) as raised:
        passages_of("scan.pdf", pdf_bytes([]), "application/pdf")
    assert raised.value.reason == "No text found in the document (a scanned PDF needs OCR first)"


# ---------------------------------------------------------------- types and limits


def test_an_unknown_type_is_refused_by_name():
    with pytest.raises(ExtractionError) as raised:
        passages_of("sheet.csv", b"a,b\n1,2\n", "text/csv")
    assert "text/csv is not a document type" in raised.value.reason


def test_too_much_text_is_refused_rather_than_half_indexed(monkeypatch):
    monkeypatch.setattr(kb_text, "MAX_TEXT_CHARS", 50)
    with pytest.raises(ExtractionError) as raised:
        passages_of("long.txt", b"word " * 40, "text/plain")
    assert "Split it into smaller documents" in raised.value.reason


@pytest.mark.parametrize("filename, declared, expected", [
    ("Handbook.PDF", None, "application/pdf"),
    ("notes.txt", "application/octet-stream", "text/plain"),  # the extension wins
    ("guide.md", None, "text/markdown"),
    ("guide.markdown", None, "text/markdown"),
    ("page.htm", None, "text/html"),
    ("page.html", "text/plain", "text/html"),
    ("letter.docx", None, DOCX),
    ("upload", "text/markdown; charset=utf-8", "text/markdown"),  # no extension: the declared type, parameters off
    ("upload", "TEXT/HTML", "text/html"),
    ("upload.bin", "application/zip", None),
    ("sheet.csv", None, None),
    ("report.doc", "application/msword", None),
])
def test_mime_type_for_uses_the_extension_then_the_declared_type(filename, declared, expected):
    assert mime_type_for(filename, declared) == expected


# ---------------------------------------------------------------- cutting


def long_section_markdown(count: int = 40) -> tuple[bytes, list[str]]:
    sentences = [f"Rule {n} says the {['garden', 'shop', 'café', 'van'][n % 4]} team checks order number {n * 7} "
                 f"before noon." for n in range(count)]
    body = "# Staff rules\n\n## Orders\n\n" + " ".join(sentences) + "\n"
    return body.encode(), sentences


def test_a_long_section_is_cut_into_overlapping_passages_that_keep_the_heading():
    data, sentences = long_section_markdown()
    passages = passages_of("rules.md", data, "text/markdown")
    assert len(passages) >= 3
    for passage in passages:
        assert (passage["heading"], passage["location"]) == ("Orders", "Staff rules › Orders")
        assert len(passage["text"]) <= kb_text.TARGET_CHARS + kb_text.OVERLAP_CHARS
    for before, after in zip(passages, passages[1:]):
        tail = before["text"].split("\n")[-1]
        assert after["text"].startswith(tail)  # the last sentence comes again first
        assert len(tail) <= kb_text.OVERLAP_CHARS
        assert after["text"] != tail  # and the passage has more than the overlap
    joined = " ".join(" ".join(p["text"].split("\n")) for p in passages)
    for sentence in sentences:  # nothing is lost at a cut
        assert sentence in joined
    assert passages[0]["text"].startswith(sentences[0]) and passages[-1]["text"].endswith(sentences[-1])


def test_a_run_on_sentence_is_cut_at_spaces():
    words = " ".join(f"word{n}" for n in range(400))  # one "sentence" of ~3,500 characters
    passages = passages_of("runon.txt", words.encode(), "text/plain")
    assert len(passages) > 1
    assert all(len(p["text"]) <= kb_text.TARGET_CHARS + kb_text.OVERLAP_CHARS + 1 for p in passages)
    rebuilt = " ".join(p["text"].replace("\n", " ") for p in passages).split()
    assert [w for w in dict.fromkeys(rebuilt)] == words.split()  # every word, in order, none cut in half


def test_short_paragraphs_of_a_section_share_one_passage():
    [passage] = passages_of("short.md", b"## Hours\n\nWe open at 9am.\n\nWe close at 5pm.\n", "text/markdown")
    assert passage == {"heading": "Hours", "location": "Hours", "text": "We open at 9am.\nWe close at 5pm."}
