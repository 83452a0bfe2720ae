"""Reachability: the compose page's "who can't be reached and why" says exactly what each channel's send would
say, because it runs the same rule checks; and whatever it calls reachable, the send actually queues."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from backend.errors import DomainError, PermissionDenied, Unauthenticated, ValidationError
from backend.models.base import utcnow
from backend.services.channels.email import send as email_send
from backend.services.channels.sms import send as sms_send
from backend.services.channels.voice import calls as voice_calls
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.platform.access import Actor
from backend.services.contacts.contacts import delete_contact, update_contact
from backend.services.messaging.reachability import MAX_CONTACTS, reachability
from tests.unit.people import contact, customer_writes, inbound
from tests.whatsapp_events import make_wamid, meta_message, sns_event, sns_message, webhook_entry







def by_id(rows):
    return {row.contact_id: row for row in rows}


def test_sms_reports_missing_address_consent_and_opt_out_in_the_send_services_words(operator, messaging):
    ok = contact(operator, "Ada Ok", optInSms=True)
    no_consent = contact(operator, "Ben Noconsent")
    stopped = contact(operator, "Cy Stopped", optInSms=True)
    update_contact(operator, stopped.contact_id, {"optInSms": False})
    no_phone = contact(operator, "Di Mailonly", phone=False, email=True)

    rows = reachability(operator, [ok.contact_id, no_consent.contact_id, stopped.contact_id, no_phone.contact_id], "sms")

    assert [r.contact_id for r in rows] == [ok.contact_id, no_consent.contact_id, stopped.contact_id, no_phone.contact_id]
    found = by_id(rows)
    assert found[ok.contact_id].ok and found[ok.contact_id].reason is None
    assert found[ok.contact_id].address == ok.phone and found[ok.contact_id].name == "Ada Ok"
    assert found[no_consent.contact_id].ok is False
    assert found[no_consent.contact_id].reason == "Ben Noconsent has not opted in to SMS (optInSms)"
    assert found[stopped.contact_id].ok is False and "opted out of SMS" in found[stopped.contact_id].reason
    assert found[no_phone.contact_id].ok is False and found[no_phone.contact_id].reason == "no phone number"
    assert found[no_phone.contact_id].address is None
    assert all(r.window_open is None for r in rows)  # the window is a WhatsApp matter

    # The list agrees with the send: the reachable one queues, the others are refused with the same words.
    assert sms_send.send_sms(operator, {"contactId": ok.contact_id, "body": "hi"}, via="ui").status == "PENDING"
    for refused in (no_consent, stopped):
        with pytest.raises(DomainError) as error:
            sms_send.send_sms(operator, {"contactId": refused.contact_id, "body": "hi"}, via="ui")
        assert error.value.message.removeprefix("contactId: ") == found[refused.contact_id].reason


def test_email_needs_an_address_and_consent(operator, messaging):
    ok = contact(operator, "Eve Mail", phone=False, email=True, optInEmail=True)
    no_consent = contact(operator, "Fay Mail", phone=False, email=True)
    no_email = contact(operator, "Gus Phone", optInSms=True)

    found = by_id(reachability(operator, [ok.contact_id, no_consent.contact_id, no_email.contact_id], "email"))

    assert found[ok.contact_id].ok and found[ok.contact_id].address == ok.email
    assert found[no_consent.contact_id].reason == "Fay Mail has not opted in to email (optInEmail)"
    assert found[no_email.contact_id].ok is False and found[no_email.contact_id].reason == "no email address"
    email_send.send_email(operator, {"contactId": ok.contact_id, "subject": "Hi", "text": "Hello"}, via="ui")


def test_whatsapp_reports_the_window_and_what_free_form_and_templates_need(operator, messaging):
    talking = contact(operator, "Hal Talking")  # wrote a minute ago, no template consent
    customer_writes(talking.phone, ts=int(time.time()) - 60)
    quiet = contact(operator, "Ivy Quiet", optInWhatsApp=True)  # opted in, never wrote
    lapsed = contact(operator, "Jo Lapsed", optInWhatsApp=True)  # wrote 25 hours ago
    customer_writes(lapsed.phone, ts=int(time.time()) - 25 * 3600)
    ids = [talking.contact_id, quiet.contact_id, lapsed.contact_id]
    now = utcnow()

    free = by_id(reachability(operator, ids, "whatsapp"))
    assert free[talking.contact_id].ok and free[talking.contact_id].window_open is True
    closes = free[talking.contact_id].window_closes_at
    assert now + timedelta(hours=23, minutes=57) < closes <= now + timedelta(hours=24)
    assert free[quiet.contact_id].ok is False and free[quiet.contact_id].window_open is False
    assert free[quiet.contact_id].window_closes_at is None
    assert "never opened" in free[quiet.contact_id].reason and "template" in free[quiet.contact_id].reason
    assert free[lapsed.contact_id].ok is False and free[lapsed.contact_id].window_open is False
    assert free[lapsed.contact_id].window_closes_at < now and "closed at" in free[lapsed.contact_id].reason

    template = by_id(reachability(operator, ids, "whatsapp", free_form=False))
    assert template[talking.contact_id].ok is False
    assert template[talking.contact_id].reason == "Hal Talking has not opted in to WhatsApp; templates need optInWhatsApp"
    assert template[talking.contact_id].window_open is True  # still reported: the page shows each window
    assert template[quiet.contact_id].ok and template[lapsed.contact_id].ok

    # What the list calls reachable, the send queues.
    whatsapp_send.send_whatsapp(operator, {"contactId": talking.contact_id, "type": "text", "text": "hi"}, via="ui")


def test_whatsapp_opt_out_blocks_everything(operator, messaging):
    stopped = contact(operator, "Kit Stopped", optInWhatsApp=True)
    customer_writes(stopped.phone, ts=int(time.time()) - 60)
    entry = webhook_entry(
        [meta_message("text", wamid=make_wamid(stopped.phone[1:]), from_phone=stopped.phone[1:], text="STOP", ts=int(time.time()))],
        from_phone=stopped.phone[1:],
    )
    inbound(sns_event(sns_message(entry)), None)
    for free_form in (True, False):
        (row,) = reachability(operator, [stopped.contact_id], "whatsapp", free_form=free_form)
        assert row.ok is False and "opted out of WhatsApp" in row.reason and row.window_open is True


def test_voice_follows_the_call_rule_an_sms_stop_means_do_not_call(operator, messaging):
    callable_ = contact(operator, "Lee Callable", optInVoice=True)
    stopped = contact(operator, "Mo Stopped", optInSms=True, optInVoice=True)
    update_contact(operator, stopped.contact_id, {"optInSms": False})
    mail_only = contact(operator, "Ned Mail", phone=False, email=True)

    found = by_id(reachability(operator, [callable_.contact_id, stopped.contact_id, mail_only.contact_id], "voice"))

    assert found[callable_.contact_id].ok and found[callable_.contact_id].address == callable_.phone
    assert found[stopped.contact_id].ok is False
    assert "opted out of SMS" in found[stopped.contact_id].reason and "no calls" in found[stopped.contact_id].reason
    assert found[mail_only.contact_id].reason == "no phone number"
    with pytest.raises(DomainError) as error:
        voice_calls.place_call(operator, {"contactId": stopped.contact_id, "text": "Hello"}, via="ui")
    assert error.value.message.removeprefix("contactId: ") == found[stopped.contact_id].reason
    assert voice_calls.place_call(operator, {"contactId": callable_.contact_id, "text": "Hello"}, via="ui").status == "queued"


def test_deleted_and_unknown_contacts_and_duplicates(operator, messaging):
    gone = contact(operator, "Olga Gone", optInSms=True)
    delete_contact(operator, gone.contact_id)
    kept = contact(operator, "Pat Kept", optInSms=True)

    rows = reachability(operator, [kept.contact_id, gone.contact_id, kept.contact_id, "0" * 32], "sms")

    assert [r.contact_id for r in rows] == [kept.contact_id, gone.contact_id, "0" * 32]
    assert rows[0].ok
    assert rows[1].ok is False and rows[1].name == "Olga Gone" and rows[1].reason == "the contact no longer exists"
    assert rows[2].ok is False and rows[2].reason == "the contact no longer exists"


def test_readers_may_ask_but_not_the_signed_out_and_the_input_is_checked(operator, viewer, messaging):
    one = contact(operator, "Quinn Read", optInSms=True)
    assert reachability(viewer, [one.contact_id], "sms")[0].ok  # MESSAGES_READ is enough to look

    with pytest.raises(Unauthenticated):
        reachability(Actor.anonymous(), [one.contact_id], "sms")
    with pytest.raises(PermissionDenied):
        reachability(Actor(user_id="u-norole"), [one.contact_id], "sms")
    with pytest.raises(ValidationError) as error:
        reachability(operator, [one.contact_id], "fax")
    assert error.value.field == "channel"
    with pytest.raises(ValidationError) as error:
        reachability(operator, [f"{n:032x}" for n in range(MAX_CONTACTS + 1)], "sms")
    assert error.value.field == "contactIds"
    assert reachability(operator, [], "sms") == []
