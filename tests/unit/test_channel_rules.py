"""The send rules written once (channels/rules.py) and the verdicts the views carry, so no page re-derives them."""
from __future__ import annotations

from datetime import timedelta

import pytest

from backend.errors import ConsentRequired, OptedOut, TemplateRequired
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.rules.channels import CHANNEL_NAMES
from backend.services.rules.consent import check_send, consent_state, window_closes_at, window_open
from backend.services.contacts.contacts import get_contact, update_contact
from backend.services.messaging.conversations import team_inbox
from tests.unit.people import contact, customer_writes


def test_an_opt_out_stops_every_send_on_its_channel_and_the_view_says_why(operator, messaging):
    stopped = contact(operator, "Cy Stopped", email=True, optInSms=True, optInEmail=True)
    update_contact(operator, stopped.contact_id, {"optInSms": False})
    row = ContactModel.get(stopped.contact_id)

    state = consent_state(row, "sms")
    assert state.opted_out and not state.opted_in and state.at is not None
    assert consent_state(row, "voice").opted_out  # a number that said STOP is not called either
    for channel in ("sms", "voice"):
        with pytest.raises(OptedOut):
            check_send(row, channel, now=utcnow())

    view = get_contact(operator, stopped.contact_id)
    assert set(view.channels) == set(CHANNEL_NAMES)
    sms, voice, email = view.channels["sms"], view.channels["voice"], view.channels["email"]
    assert sms.opted_out and not sms.can_send and "opted out of SMS" in sms.reason
    assert voice.opted_out and not voice.can_send and "no calls" in voice.reason
    assert email.can_send and email.can_reply and email.reason is None and not email.opted_out
    assert view.to_api()["channels"]["sms"]["canSend"] is False


def test_whatsapp_templates_need_consent_free_form_needs_the_window(operator, messaging):
    quiet = contact(operator, "Qi Quiet", optInWhatsApp=True)
    view = get_contact(operator, quiet.contact_id).channels["whatsapp"]
    assert view.can_send and not view.can_reply and "never opened" in view.reason
    assert get_contact(operator, quiet.contact_id).window_closes_at is None
    with pytest.raises(TemplateRequired):
        check_send(ContactModel.get(quiet.contact_id), "whatsapp", now=utcnow(), free_form=True)

    talking = contact(operator, "Ty Talking")
    customer_writes(talking.phone)
    fresh = get_contact(operator, talking.contact_id)
    whatsapp = fresh.channels["whatsapp"]
    assert whatsapp.can_reply and not whatsapp.can_send and "optInWhatsApp" in whatsapp.reason
    assert fresh.window_closes_at is not None and fresh.window_closes_at > utcnow()
    with pytest.raises(ConsentRequired):
        check_send(ContactModel.get(talking.contact_id), "whatsapp", now=utcnow(), free_form=False)
    conversation = next(c for c in team_inbox(operator, limit=50).items if c.contact_id == talking.contact_id)
    assert conversation.window_closes_at == fresh.window_closes_at


def test_missing_addresses_are_named(operator, messaging):
    mail_only = contact(operator, "Di Mailonly", phone=False, email=True, optInEmail=True)
    channels = get_contact(operator, mail_only.contact_id).channels
    assert {c: channels[c].reason for c in ("whatsapp", "sms", "voice")} == dict.fromkeys(("whatsapp", "sms", "voice"), "no phone number")
    assert channels["email"].can_send


def test_the_window_is_24_hours_after_the_last_inbound():
    now = utcnow()
    assert window_closes_at(None) is None and not window_open(None, now)
    assert window_open(window_closes_at(now - timedelta(hours=23, minutes=59)), now)
    assert not window_open(window_closes_at(now - timedelta(hours=24)), now)


# ---------------------------------------------------------------- consent is the customer's


def test_only_the_customer_lifts_their_own_opt_out(operator, messaging):
    import json as jsonlib

    from backend.api.http import ApiRequest, invoke
    from backend.api import contacts_api
    from backend.errors import OptedOut
    from backend.services.contacts import importer
    from tests.unit.test_sms import ingest, inbound_text

    stopped = contact(operator, "Sol Stopper", optInSms=True)
    ingest(inbound_text(stopped.phone, "STOP"))  # the customer's own word
    assert not get_contact(operator, stopped.contact_id).opt_in_sms

    with pytest.raises(OptedOut, match="opted out of SMS themselves .* only they can opt back in") as refused:
        update_contact(operator, stopped.contact_id, {"optInSms": True})
    assert refused.value.field == "optInSms"

    put = invoke(contacts_api.update, operator, ApiRequest("PUT", {"contactId": stopped.contact_id},
                                                           raw_body=jsonlib.dumps({"optInSms": True}).encode()))
    assert put.status == 422 and put.body["error"]["code"] == "OPTED_OUT"

    plan = importer.plan_import(operator, f"name,phone,sms_opt_in\nSol Stopper,{stopped.phone},yes\n".encode())
    summary = importer.run_import(operator, plan, importer.DuplicatePolicy.UPDATE)
    assert [f["line"] for f in summary.failed] == [2] and "only they can opt back in" in summary.failed[0]["reason"]
    assert not get_contact(operator, stopped.contact_id).opt_in_sms

    ingest(inbound_text(stopped.phone, "START", inbound_id="start-1"))  # the customer opts back in themselves
    assert get_contact(operator, stopped.contact_id).opt_in_sms


def test_the_business_may_switch_back_on_what_the_business_switched_off(operator, messaging):
    paused = contact(operator, "Pat Paused", optInSms=True)
    update_contact(operator, paused.contact_id, {"optInSms": False})
    assert update_contact(operator, paused.contact_id, {"optInSms": True}).opt_in_sms


def test_consent_sources_are_the_systems_words_not_the_callers(operator, messaging):
    from backend.errors import ValidationError

    with pytest.raises(ValidationError):
        update_contact(operator, contact(operator, "Quin").contact_id, {"optInSms": True, "consentSource": "customer: SMS keyword START"})


def test_consent_follows_the_customers_words_in_the_order_they_said_them(operator, messaging):
    import time

    late = contact(operator, "Lee Late", optInWhatsApp=True)
    now = int(time.time())
    customer_writes(late.phone, "STOP", ts=now)
    customer_writes(late.phone, "START", ts=now - 60)  # said before the STOP, delivered after it
    view = get_contact(operator, late.contact_id)
    assert view.channels["whatsapp"].opted_out and not view.opt_in_whatsapp
    customer_writes(late.phone, "START", ts=now + 1)  # said after it: they are back
    assert get_contact(operator, late.contact_id).opt_in_whatsapp


def test_a_whatsapp_timestamp_in_the_future_cannot_hold_the_window_open(operator, messaging):
    import time

    ahead = contact(operator, "Fay Future")
    customer_writes(ahead.phone, "hello from next week", ts=int(time.time()) + 7 * 24 * 3600)
    closes = get_contact(operator, ahead.contact_id).window_closes_at
    assert closes is not None and closes <= utcnow() + timedelta(hours=24, seconds=5)
