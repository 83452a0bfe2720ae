"""An upload's type is read from its bytes: a renamed or mislabelled file is refused with what it looks like,
and the stored media file carries the type its bytes show."""
from __future__ import annotations

import io
import zipfile

import pytest

from backend.errors import PermissionDenied, ValidationError
from backend.models.messaging import MediaFileModel
from backend.services.media.files import upload
from backend.services.rules.file_types import content_type, refuse_binary, sniff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
CSV = "name,phone\nAda Lovelace,+447700900123\nZoë,+447700900124\n".encode()


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _zip_of_other_files() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_png_renamed_to_pdf_is_refused_with_what_it_looks_like(operator):
    with pytest.raises(ValidationError) as error:
        upload(operator, "invoice.pdf", PNG, "application/pdf")  # the browser's type follows the name
    assert error.value.field == "file"
    assert "looks like image/png, not application/pdf" in error.value.message
    with pytest.raises(ValidationError) as error:
        content_type("invoice.pdf", "image/png", PNG)  # a type that agrees, a name that does not
    assert "not application/pdf (its name ends in .pdf)" in error.value.message
    assert MediaFileModel.count() == 0


def test_a_real_pdf_is_stored_as_application_pdf(operator):
    stored = upload(operator, "brochure.pdf", PDF, "application/pdf")
    assert stored.mime_type == "application/pdf" and stored.kind == "document"
    assert MediaFileModel.get(stored.file_id).mimeType == "application/pdf"


def test_an_exe_declared_as_png_is_refused(operator):
    with pytest.raises(ValidationError) as error:
        upload(operator, "photo.png", EXE, "image/png")
    assert "looks like application/x-msdownload, not image/png" in error.value.message
    assert MediaFileModel.count() == 0


def test_an_undeclared_type_is_taken_from_the_bytes(operator):
    stored = upload(operator, "chart", PNG, "application/octet-stream")
    assert stored.mime_type == "image/png" and stored.kind == "image"
    with pytest.raises(ValidationError, match="cannot be recognised"):
        upload(operator, "mystery", b"\x01\x02\x03 no signature", "")


def test_a_container_stands_for_the_declared_type_within_its_family():
    assert sniff(_docx()) == DOCX
    assert content_type("report.docx", DOCX, _docx()) == DOCX
    assert content_type("report.docx", DOCX, _zip_of_other_files()) == DOCX  # the sniffer sees only "zip"
    with pytest.raises(ValidationError, match="looks like application/zip, not application/pdf"):
        content_type("report.pdf", "application/pdf", _zip_of_other_files())


def test_text_must_not_carry_a_binary_signature():
    assert content_type("notes.txt", "text/plain", b"plain words") == "text/plain"
    assert content_type("people.csv", "application/vnd.ms-excel", CSV) == "text/csv"  # Windows' label for .csv
    with pytest.raises(ValidationError, match="looks like image/png, not text/plain"):
        content_type("notes.txt", "text/plain", PNG)
    refuse_binary(CSV, "a CSV file")
    with pytest.raises(ValidationError, match="looks like application/pdf, not a CSV file"):
        refuse_binary(PDF, "a CSV file")


def test_an_oversize_image_names_the_limit_and_a_viewer_cannot_upload(operator, viewer):
    with pytest.raises(ValidationError, match="the limit is 5 MB"):
        upload(operator, "big.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")
    with pytest.raises(PermissionDenied):
        upload(viewer, "chart.png", PNG, "image/png")


def test_an_import_of_a_binary_file_is_refused_by_the_importer_whatever_door_it_came_through(operator):
    from backend.services.contacts.importer import plan_import

    with pytest.raises(ValidationError, match="looks like image/png, not a CSV file"):
        plan_import(operator, PNG)
    assert len(plan_import(operator, CSV).rows) == 2
