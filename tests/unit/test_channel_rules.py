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
from backend.services.messaging.messages import inbox
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
    conversation = next(c for c in inbox(operator, limit=50) if c.contact_id == talking.contact_id)
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
