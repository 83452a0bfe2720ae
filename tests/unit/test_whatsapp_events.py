import json
from datetime import datetime, timezone

import pytest

from backend.errors import BadRequest
from backend.adapters.channels.whatsapp_events import (
    SUMMARY_MAX,
    InboundMessage,
    MalformedEvent,
    MediaRef,
    ParsedEvents,
    parse_meta_webhook,
    parse_sns_message,
    parse_webhook_entry,
)
from tests.whatsapp_events import (
    BASE_TS,
    CUSTOMER,
    FIXTURES,
    OUTBOUND_WAMID,
    PHONE_NUMBER_ID,
    fixture_sns_message,
    load_fixture,
    make_wamid,
    meta_message,
    meta_status,
    meta_webhook_body,
    sns_event,
    sns_message,
    webhook_entry,
)

ANN = "+447700900123"
BOB = "447700900456"


@pytest.fixture(autouse=True)
def tables():
    """Pure parsing: the unit suite's moto tables are not needed here."""
    yield


def parse_fixture(name: str) -> ParsedEvents:
    return parse_sns_message(fixture_sns_message(name))


def only_message(parsed: ParsedEvents) -> InboundMessage:
    assert parsed.rejected == [] and parsed.statuses == []
    (message,) = parsed.messages
    return message


def entry_of(name: str) -> dict:
    return json.loads(json.loads(fixture_sns_message(name))["whatsAppWebhookEntry"])


def parse_one(message: dict, **entry_options) -> InboundMessage:
    return only_message(parse_webhook_entry(webhook_entry([message], **entry_options)))


# --- every fixture -----------------------------------------------------------------------------------------

# name: (kind, summary, text, reply_to, reaction)
MESSAGE_FIXTURES = {
    "text": ("text", "Hi! Can I change my delivery address to 221B Baker Street?",
             "Hi! Can I change my delivery address to 221B Baker Street?", None, None),
    "image": ("image", "Photo: Here's the damaged parcel", "Here's the damaged parcel", OUTBOUND_WAMID, None),
    "video": ("video", "Video", None, None, None),
    "audio": ("audio", "Voice message", None, None, None),
    "document": ("document", "Document: invoice-2026-001.pdf, Invoice for January", "Invoice for January", None, None),
    "sticker": ("sticker", "Sticker", None, None, None),
    "location": ("location", "Location: Big Ben, London SW1A 0AA, 51.5007, -0.1246", None, None, None),
    "contacts": ("contacts", "Contact card: Jane Doe (+44 7700 900456)", None, None, None),
    "reaction": ("reaction", "Reacted \U0001F44D", None, None, (OUTBOUND_WAMID, "\U0001F44D")),
    "interactive_button_reply": ("interactive", "Button: Yes, confirm", "Yes, confirm", OUTBOUND_WAMID, None),
    "interactive_list_reply": ("interactive", "List choice: Tuesday 10:00", "Tuesday 10:00", OUTBOUND_WAMID, None),
    "button": ("button", "Button: Yes", "Yes", OUTBOUND_WAMID, None),
    "unsupported": ("unsupported", "Unsupported message (Message type is currently not supported.)", None, None, None),
    "unknown_type": ("order", "Unsupported message (type 'order')", None, None, None),
}

# name: (mime_type, caption, filename)
MEDIA_FIXTURES = {
    "image": ("image/jpeg", "Here's the damaged parcel", None),
    "video": ("video/mp4", None, None),
    "audio": ("audio/ogg; codecs=opus", None, None),
    "document": ("application/pdf", "Invoice for January", "invoice-2026-001.pdf"),
    "sticker": ("image/webp", None, None),
}

STATUS_FIXTURES = ("status_sent", "status_delivered", "status_read", "status_failed")


def test_every_fixture_file_has_expectations():
    stored = {path.stem for path in FIXTURES.glob("*.json")}
    assert stored == set(MESSAGE_FIXTURES) | set(STATUS_FIXTURES) | {"batch"}


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_fixtures_are_lambda_sns_events_from_end_user_messaging(name):
    (record,) = load_fixture(name)["Records"]
    assert record["EventSource"] == "aws:sns" and record["Sns"]["Type"] == "Notification"
    header = json.loads(record["Sns"]["Message"])
    assert header["aws_account_id"] == "123456789012"
    assert header["context"]["MetaPhoneNumberIds"][0]["metaPhoneNumberId"] == PHONE_NUMBER_ID
    assert isinstance(header["whatsAppWebhookEntry"], str)


@pytest.mark.parametrize("name", sorted(MESSAGE_FIXTURES))
def test_message_fixture_parses_to_kind_summary_text_and_links(name):
    kind, summary, text, reply_to, reaction = MESSAGE_FIXTURES[name]
    message = only_message(parse_fixture(name))
    (raw,) = entry_of(name)["changes"][0]["value"]["messages"]

    assert (message.kind, message.summary, message.text) == (kind, summary, text)
    assert message.reply_to == reply_to
    assert (message.reaction_to, message.reaction_emoji) == (reaction or (None, None))
    assert message.provider_message_id == raw["id"] and message.provider_message_id.startswith("wamid.HBgM")
    assert message.from_phone == ANN
    assert message.profile_name == "Ann Customer"
    assert message.phone_number_id == PHONE_NUMBER_ID
    assert message.timestamp == datetime.fromtimestamp(int(raw["timestamp"]), tz=timezone.utc)
    assert message.raw == raw
    if name not in MEDIA_FIXTURES:
        assert message.media is None


@pytest.mark.parametrize("name", sorted(MEDIA_FIXTURES))
def test_media_fixture_carries_a_media_reference(name):
    mime_type, caption, filename = MEDIA_FIXTURES[name]
    message = only_message(parse_fixture(name))
    body = message.raw[name]
    assert message.media == MediaRef(name, body["id"], mime_type, body["sha256"], caption, filename)
    assert message.media.media_id.isdigit()


@pytest.mark.parametrize("name", STATUS_FIXTURES)
def test_status_fixture_parses(name):
    parsed = parse_fixture(name)
    assert parsed.messages == [] and parsed.rejected == []
    (update,) = parsed.statuses
    (raw,) = entry_of(name)["changes"][0]["value"]["statuses"]
    assert update.status == name.removeprefix("status_")
    assert update.provider_message_id == raw["id"]
    assert update.recipient_phone == ANN
    assert update.timestamp == datetime.fromtimestamp(int(raw["timestamp"]), tz=timezone.utc)
    assert update.raw == raw
    if name != "status_failed":
        assert (update.error_code, update.error_title, update.error_detail) == (None, None, None)


def test_failed_status_carries_metas_error():
    (update,) = parse_fixture("status_failed").statuses
    assert update.error_code == "131047"
    assert update.error_title == "Re-engagement message"
    assert update.error_detail.startswith("Message failed to send because more than 24 hours have passed")


def test_batch_fixture_keeps_order_senders_and_statuses():
    parsed = parse_fixture("batch")
    assert parsed.rejected == []
    assert [(m.kind, m.from_phone, m.profile_name, m.summary) for m in parsed.messages] == [
        ("text", ANN, "Ann Customer", "Is the shop open on Sunday?"),
        ("image", f"+{BOB}", "Bob Example", "Photo: Receipt attached"),
        ("text", ANN, "Ann Customer", "STOP"),
        ("reaction", f"+{BOB}", "Bob Example", "Reacted ❤️"),
    ]
    assert parsed.messages[2].reply_to == OUTBOUND_WAMID
    assert [s.status for s in parsed.statuses] == ["delivered", "read"]
    assert parsed.statuses[0].timestamp < parsed.statuses[1].timestamp


# --- envelopes ---------------------------------------------------------------------------------------------


def test_lambda_event_built_by_the_helpers_round_trips():
    entry = webhook_entry([meta_message("text", text="Hello")])
    event = sns_event(sns_message(entry), sns_message(webhook_entry(statuses=[meta_status(OUTBOUND_WAMID, "read")])))
    parsed = [parse_sns_message(record["Sns"]["Message"]) for record in event["Records"]]
    assert only_message(parsed[0]).summary == "Hello"
    assert parsed[1].statuses[0].status == "read"


def test_webhook_entry_may_arrive_as_an_object_or_the_whole_message_as_a_dict():
    as_string = parse_fixture("text")
    entry = entry_of("text")
    as_object = parse_sns_message(sns_message(entry, entry_as_object=True))
    as_dict = parse_sns_message(json.loads(sns_message(entry)))
    assert as_object == as_string == as_dict


def _header(**fields) -> str:
    return json.dumps({"aws_account_id": "123456789012", **fields})


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("{not json", "Message"),
        ("[1, 2]", "Message"),
        (42, "Message"),
        (_header(), "whatsAppWebhookEntry"),
        (_header(whatsAppWebhookEntry="{oops"), "whatsAppWebhookEntry"),
        (_header(whatsAppWebhookEntry="[]"), "whatsAppWebhookEntry"),
        (_header(whatsAppWebhookEntry=None), "whatsAppWebhookEntry"),
        (_header(whatsAppWebhookEntry=json.dumps({"id": "1"})), "whatsAppWebhookEntry.changes"),
        (_header(whatsAppWebhookEntry=json.dumps({"id": "1", "changes": {}})), "whatsAppWebhookEntry.changes"),
    ],
)
def test_unusable_sns_message_raises_malformed_event_naming_the_field(message, field):
    with pytest.raises(MalformedEvent) as raised:
        parse_sns_message(message)
    assert raised.value.field == field
    assert raised.value.message.startswith(f"{field}: ")
    assert isinstance(raised.value, BadRequest)
    assert raised.value.to_dict()["code"] == "MALFORMED_EVENT" and raised.value.http_status == 400


def test_missing_webhook_entry_says_so():
    with pytest.raises(MalformedEvent, match=r"^whatsAppWebhookEntry: missing$"):
        parse_sns_message(_header())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"entry": []}, "object"),
        ({"object": "page", "entry": []}, "object"),
        ({"object": "whatsapp_business_account"}, "entry"),
        ({"object": "whatsapp_business_account", "entry": {"id": "1"}}, "entry"),
    ],
)
def test_unusable_meta_body_raises_malformed_event_naming_the_field(body, field):
    with pytest.raises(MalformedEvent) as raised:
        parse_meta_webhook(body)
    assert raised.value.field == field


def test_meta_direct_body_parses_every_entry_and_reports_a_bad_one():
    first = webhook_entry([meta_message("text", text="One")])
    second = webhook_entry([meta_message("text", text="Two", from_phone=BOB)], from_phone=BOB, profile_name="Bob")
    parsed = parse_meta_webhook(meta_webhook_body(first, "not an entry", {"id": "1"}, second))
    assert [(m.summary, m.from_phone, m.profile_name) for m in parsed.messages] == [
        ("One", ANN, "Ann Customer"), ("Two", f"+{BOB}", "Bob"),
    ]
    assert parsed.rejected == ["entry[1]: not a JSON object", "entry[2].changes: missing"]


def test_webhook_entry_that_is_not_an_object_is_malformed():
    with pytest.raises(MalformedEvent) as raised:
        parse_webhook_entry(["entry"])
    assert raised.value.field == "entry"


def test_changes_of_other_fields_are_ignored_silently():
    entry = webhook_entry([meta_message("text", text="Hi")])
    entry["changes"].insert(0, {"field": "message_template_status_update", "value": {"event": "APPROVED"}})
    entry["changes"].append({"field": "account_update", "value": "anything"})
    parsed = parse_webhook_entry(entry)
    assert [m.summary for m in parsed.messages] == ["Hi"] and parsed.rejected == []


def test_empty_entry_and_change_without_messages_give_nothing():
    assert parse_webhook_entry({"id": "1", "changes": []}) == ParsedEvents()
    assert parse_webhook_entry(webhook_entry()) == ParsedEvents()


# --- one bad piece never hides the others ------------------------------------------------------------------


def test_bad_messages_in_a_good_batch_are_rejected_with_reasons():
    good_first = meta_message("text", text="first")
    good_last = meta_message("image", text="last")
    no_id = meta_message("text")
    del no_id["id"]
    no_from = meta_message("text", wamid="wamid.NOFROM")
    del no_from["from"]
    bad_from = meta_message("text", wamid="wamid.BADFROM", from_phone="not-a-phone")
    bad_time = meta_message("text", wamid="wamid.BADTIME", ts=None, timestamp="yesterday")
    no_time = meta_message("text", wamid="wamid.NOTIME")
    del no_time["timestamp"]
    entry = webhook_entry([good_first, no_id, no_from, "junk", bad_from, bad_time, no_time, good_last])

    parsed = parse_webhook_entry(entry)

    assert [m.text for m in parsed.messages] == ["first", "last"]
    where = "changes[0].value.messages"
    assert parsed.rejected == [
        f"{where}[1]: id: missing",
        f"{where}[2] (wamid.NOFROM): from: missing",
        f"{where}[3]: not a JSON object",
        f"{where}[4] (wamid.BADFROM): from: not a phone number ('not-a-phone')",
        f"{where}[5] (wamid.BADTIME): timestamp: not epoch seconds ('yesterday')",
        f"{where}[6] (wamid.NOTIME): timestamp: missing",
    ]


def test_bad_statuses_are_rejected_while_good_ones_parse():
    unknown = meta_status("wamid.DELETED", "deleted")
    no_id = meta_status("x", "read")
    del no_id["id"]
    ok1, ok2 = meta_status("wamid.OK1", "sent"), meta_status("wamid.OK2", "read")
    entry = webhook_entry(statuses=[ok1, unknown, no_id, 7, ok2])
    parsed = parse_webhook_entry(entry)
    assert [(s.provider_message_id, s.status) for s in parsed.statuses] == [
        ("wamid.OK1", "sent"), ("wamid.OK2", "read"),
    ]
    where = "changes[0].value.statuses"
    assert parsed.rejected == [
        f"{where}[1] (wamid.DELETED): status: unknown value 'deleted'",
        f"{where}[2]: id: missing",
        f"{where}[3]: not a JSON object",
    ]


def test_pieces_that_are_not_lists_or_objects_are_reported_not_fatal():
    entry = webhook_entry([meta_message("text", text="ok")])
    entry["changes"].append({"field": "messages", "value": {"messages": {"id": "x"}, "statuses": "nope"}})
    entry["changes"].append({"field": "messages", "value": None})
    entry["changes"].append("junk")
    parsed = parse_webhook_entry(entry)
    assert [m.text for m in parsed.messages] == ["ok"]
    assert parsed.rejected == [
        "changes[1].value.messages: not a list",
        "changes[1].value.statuses: not a list",
        "changes[2].value: not a JSON object",
        "changes[3]: not a JSON object",
    ]


def test_errors_meta_reports_on_the_change_are_surfaced():
    entry = webhook_entry()
    entry["changes"][0]["value"]["errors"] = [
        {"code": 131000, "title": "Something went wrong", "error_data": {"details": "Try again later"}}
    ]
    assert parse_webhook_entry(entry).rejected == [
        "changes[0].value.errors[0]: Meta reported an error: 131000 — Something went wrong — Try again later"
    ]


# --- fields ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "expected"), [("447700900123", ANN), ("+447700900123", ANN), ("15550001111", "+15550001111")]
)
def test_sender_phone_gets_exactly_one_plus(sender, expected):
    assert parse_one(meta_message("text", from_phone=sender), from_phone=sender).from_phone == expected


def test_profile_name_matches_the_sender_among_several_contacts():
    contacts = [
        {"profile": {"name": "Bob Example"}, "wa_id": BOB},
        {"profile": {"name": "Ann Customer"}, "wa_id": CUSTOMER},
    ]
    assert parse_one(meta_message("text"), contacts=contacts).profile_name == "Ann Customer"


def test_profile_name_falls_back_to_the_only_contact():
    contacts = [{"profile": {"name": "Ann C."}, "wa_id": "447700900999"}]  # Meta's wa_id can differ from `from`
    assert parse_one(meta_message("text"), contacts=contacts).profile_name == "Ann C."


@pytest.mark.parametrize(
    "contacts",
    [
        [],
        [{"profile": {"name": "Bob"}, "wa_id": BOB}, {"profile": {"name": "Cy"}, "wa_id": "447700900789"}],
        [{"wa_id": CUSTOMER}],
        [{"profile": {"name": ""}, "wa_id": CUSTOMER}],
    ],
)
def test_profile_name_is_none_when_unknown(contacts):
    assert parse_one(meta_message("text"), contacts=contacts).profile_name is None


def test_timestamp_is_utc_from_epoch_seconds_and_tolerates_an_integer():
    expected = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)
    assert parse_one(meta_message("text", ts=BASE_TS)).timestamp == expected
    assert parse_one(meta_message("text", timestamp=BASE_TS)).timestamp == expected


@pytest.mark.parametrize("emoji_fields", [{"emoji": ""}, {}])
def test_reaction_without_emoji_means_removed(emoji_fields):
    message = parse_one(meta_message("reaction", reaction={"message_id": OUTBOUND_WAMID, **emoji_fields}))
    assert (message.summary, message.reaction_to, message.reaction_emoji) == ("Removed reaction", OUTBOUND_WAMID, None)


def test_long_text_is_kept_whole_but_summarised_on_one_line():
    body = "Line one\n\n  line two " + "x" * 70_000
    message = parse_one(meta_message("text", text=body))
    assert message.text == body
    assert len(message.summary) == SUMMARY_MAX
    assert message.summary.startswith("Line one line two xxx") and message.summary.endswith("…")


@pytest.mark.parametrize(
    ("message", "kind", "summary", "text"),
    [
        (meta_message("audio", audio={"id": "1", "mime_type": "audio/mpeg"}), "audio", "Audio", None),
        (meta_message("sticker", sticker={"id": "1", "animated": True}), "sticker", "Animated sticker", None),
        (meta_message("text", text="   "), "text", "Empty message", None),
        (meta_message("system"), "system", "System message: Ann changed their phone number to a new number", None),
        (meta_message("interactive", interactive={"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent"}}),
         "interactive", "Interactive reply (nfm_reply)", None),
        (meta_message("ephemeral"), "ephemeral", "Unsupported message (type 'ephemeral')", None),
        (meta_message("unsupported", errors=[]), "unsupported", "Unsupported message", None),
        ({k: v for k, v in meta_message("text").items() if k != "type"}, "unknown",
         "Unsupported message (type 'unknown')", None),
        (meta_message("contacts", contacts=[
            {"name": {"first_name": "Jane", "last_name": "Doe"}, "phones": [{"wa_id": "447700900456"}]},
            {"name": {"formatted_name": "Sam"}},
        ]), "contacts", "Contact cards: Jane Doe (+447700900456), Sam", None),
        (meta_message("location", location={"latitude": "51.5", "longitude": "-0.12"}), "location",
         "Location: 51.5, -0.12", None),
        (meta_message("location", location={}), "location", "Location", None),
    ],
)
def test_every_type_gets_a_readable_summary(message, kind, summary, text):
    parsed = parse_one(message)
    assert (parsed.kind, parsed.summary, parsed.text) == (kind, summary, text)


def test_media_without_an_id_keeps_the_message_without_a_reference():
    message = parse_one(meta_message("image", image={"caption": "no id", "mime_type": "image/png"}))
    assert (message.summary, message.text, message.media) == ("Photo: no id", "no id", None)


def test_unknown_fields_anywhere_are_tolerated():
    message = meta_message("image", text="Look", brand_new_field={"x": 1}, referral={"source_type": "ad"})
    message["image"]["new_media_field"] = True
    message["context"] = {"from": "447700900000", "id": OUTBOUND_WAMID, "forwarded": True}
    contact = {"profile": {"name": "Ann", "extra": 1}, "wa_id": CUSTOMER, "user_id": "u"}
    entry = webhook_entry([message], contacts=[contact])
    entry["new_entry_field"] = 1
    entry["changes"][0]["value"]["new_value_field"] = [1]
    body = {**meta_webhook_body(entry), "new_body_field": "x"}
    parsed = parse_meta_webhook(body)
    assert parsed.rejected == []
    assert (parsed.messages[0].summary, parsed.messages[0].reply_to) == ("Photo: Look", OUTBOUND_WAMID)


def test_forwarded_message_context_without_an_id_is_not_a_reply():
    message = parse_one(meta_message("text", context={"forwarded": True}))
    assert message.reply_to is None


def test_status_error_in_older_shape_and_status_without_recipient():
    update = meta_status("wamid.OLD", "failed")
    update["errors"] = [{"code": 131026, "title": "Receiver is incapable of receiving this message", "details": "x"}]
    del update["recipient_id"]
    (parsed,) = parse_webhook_entry(webhook_entry(statuses=[update])).statuses
    assert (parsed.error_code, parsed.error_title, parsed.error_detail) == (
        "131026", "Receiver is incapable of receiving this message", "x")
    assert parsed.recipient_phone is None


def test_wamid_builder_is_deterministic_for_a_seed():
    assert make_wamid(CUSTOMER, "s") == make_wamid(CUSTOMER, "s") != make_wamid(CUSTOMER, "t")
