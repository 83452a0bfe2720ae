"""How a message reads in the log (issue 11): an email shows its subject, and the contact column shows who (the
address when the log row carries no name) as a link to the conversation instead of a bare icon."""
from datetime import datetime, timezone

from backend.services.messaging.log import LogEntry
from wecare_app.pages.messages_log import message_row

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)


def _message(**fields) -> LogEntry:
    base = {"message_id": "m1", "channel": "whatsapp", "direction": "inbound", "kind": "text", "status": "RECEIVED",
            "created_at": NOW, "updated_at": NOW}
    return LogEntry(**{**base, **fields})


def test_an_email_row_shows_its_subject_not_its_body():
    row = message_row(_message(channel="email", kind="email", subject="Your March invoice",
                               body="Dear customer, please find attached…", address="ann@example.com", contact_id="c1"))
    assert row["body"] == row["body_full"] == "Your March invoice"


def test_an_email_without_a_subject_falls_back_to_its_body():
    row = message_row(_message(channel="email", kind="email", body="Just a note"))
    assert row["body"] == "Just a note"


def test_a_whatsapp_row_shows_its_text_and_the_contact_address_links_to_the_thread():
    row = message_row(_message(body="hello", subject="ignored", address="+447700900123", contact_id="c1"))
    assert row["body"] == "hello"
    assert row["contact_label"] == "+447700900123"
    assert row["contact_href"] == "/inbox/c1"


def test_a_row_without_an_address_still_offers_the_conversation():
    assert message_row(_message(body="hi", contact_id="c1"))["contact_label"] == "Open conversation"
    assert message_row(_message(body="hi"))["contact_label"] == "—"
