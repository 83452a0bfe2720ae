"""A campaign audience from a CSV file: phones and emails matched to contacts by key, the rows that match nobody
reported by line and reason, each contact once; a Viewer cannot; a file too large or without an address column
is refused with the field."""
from __future__ import annotations

import pytest

from backend.errors import PermissionDenied, ValidationError
from backend.services.campaigns import audience_csv, jobs
from backend.services.contacts.contacts import create_contact
from tests.conftest import unique_email, unique_phone


def test_rows_are_matched_by_phone_or_email_and_the_rest_are_reported_by_line(operator, tables):
    ann = create_contact(operator, {"name": "Ann", "phone": unique_phone(), "optInSms": True})
    bo = create_contact(operator, {"name": "Bo", "email": unique_email()})
    stranger = unique_phone()
    text = (f"Name;Mobile;Email\nAnn;{ann.phone};\nBo;;{bo.email.upper()}\nAnn again;{ann.phone};\n"
            f"Nobody;{stranger};\nBroken;not a phone;\nEmpty;;\n")
    found = audience_csv.match_csv(operator, text.encode())
    assert found.contact_ids == [ann.contact_id, bo.contact_id] and found.rows == 6
    assert [(p["line"], p["reason"]) for p in found.unmatched] == [
        (5, "no contact has this address"), (6, "'not a phone' is not a phone number."), (7, "no phone or email")]
    preview = jobs.preview_audience(operator, "sms", contact_ids=found.contact_ids)
    assert (preview.total, preview.reachable) == (2, 1)  # Bo has no phone: the wizard's usual count says so


def test_a_viewer_cannot_and_a_file_it_cannot_use_is_refused_with_the_field(operator, viewer, tables):
    with pytest.raises(PermissionDenied):
        audience_csv.match_csv(viewer, b"phone\n+447911123456\n")
    for data in (b"name,city\nAnn,Leeds\n", b"phone\n", b"x" * (audience_csv.MAX_BYTES + 1)):
        with pytest.raises(ValidationError) as refused:
            audience_csv.match_csv(operator, data)
        assert refused.value.field == "file"
