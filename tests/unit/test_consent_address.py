"""Consent belongs to the address (issue 10): a new address starts not opted in, the customer's opt-outs are kept
per address and outlive the contact, calls need their own opt-in, lastInboundAt only moves forward, and a
STOP/START is applied once by its provider id even after its Message row has expired."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from backend.errors import ConsentRequired, OptedOut
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel, ContactUniqueKey
from backend.models.messaging import MessageModel
from backend.services.channels.sms.inbound import ingest_sms_event
from backend.services.channels.sms.send import send_sms
from backend.services.channels.voice import calls as voice_calls
from backend.services.contacts import importer
from backend.services.contacts.address_consent import customer_consent
from backend.services.contacts.contacts import create_contact, delete_contact, get_contact, update_contact
from backend.services.messaging.inbound_store import stored_ids
from backend.services.messaging.reachability import reachability
from backend.services.rules.consent import ADDRESS_CHANGED
from backend.services.storage.unit_of_work import UnitOfWork
from tests.conftest import unique_email, unique_phone
from tests.unit.people import contact, customer_writes
from tests.unit.test_sms import inbound_text


def text(phone: str, body: str, *, inbound_id: str, minutes_ago: float = 0) -> None:
    """The customer's SMS, published by SNS `minutes_ago` (a redelivery repeats the same id and time)."""
    ingest_sms_event(inbound_text(phone, body, inbound_id=inbound_id), received_at=utcnow() - timedelta(minutes=minutes_ago))


def suppression(channel: str, address: str) -> ContactUniqueKey | None:
    try:
        return ContactUniqueKey.get(ContactUniqueKey.suppression_key(channel, address), consistent_read=True)
    except ContactUniqueKey.DoesNotExist:
        return None


def consent_audits(contact_id: str) -> list:
    return [row for row in AuditLogModel.query(f"contact#{contact_id}") if row.action == "contact.consent"]


# ---------------------------------------------------------------- a new address starts over


def test_a_new_phone_resets_its_channels_and_a_new_email_resets_email(operator, messaging):
    ann = contact(operator, "Ann Mover", email=True, optInSms=True, optInWhatsApp=True, optInVoice=True, optInEmail=True)

    moved = update_contact(operator, ann.contact_id, {"phone": unique_phone()})
    assert not (moved.opt_in_sms or moved.opt_in_whatsapp or moved.opt_in_voice) and moved.opt_in_email
    assert {moved.consent[c].source for c in ("sms", "whatsapp", "voice")} == {ADDRESS_CHANGED}
    assert moved.channels["sms"].reason == "Ann Mover has not opted in to SMS (optInSms)"  # not yet, not an opt-out
    assert not moved.channels["sms"].opted_out

    remailed = update_contact(operator, ann.contact_id, {"email": unique_email()})
    assert not remailed.opt_in_email and remailed.consent["email"].source == ADDRESS_CHANGED


def test_a_form_echoing_its_switches_does_not_carry_consent_to_the_new_number(operator, messaging):
    ann = contact(operator, "Ann Form", optInSms=True)
    form = {"name": "Ann Form", "phone": unique_phone(), "optInWhatsApp": False, "optInSms": True, "optInEmail": False,
            "optInVoice": False}
    assert not update_contact(operator, ann.contact_id, form).opt_in_sms  # the switch as it was: not a new consent
    assert update_contact(operator, ann.contact_id, form).opt_in_sms  # switched on for the new number: recorded


def test_a_stop_from_the_old_number_does_not_follow_the_contact_to_a_new_one(operator, messaging):
    ann = contact(operator, "Ann Stopped", optInSms=True)
    text(ann.phone, "STOP", inbound_id="old-stop")
    with pytest.raises(OptedOut):
        update_contact(operator, ann.contact_id, {"optInSms": True})
    update_contact(operator, ann.contact_id, {"phone": unique_phone()})
    assert update_contact(operator, ann.contact_id, {"optInSms": True}).opt_in_sms


# ---------------------------------------------------------------- the customer's opt-out outlives the contact


def test_a_stop_survives_deleting_and_recreating_the_contact(operator, messaging):
    phone = unique_phone()
    first = create_contact(operator, {"name": "Bo First", "phone": phone, "optInSms": True})
    text(phone, "STOP", inbound_id="stop-1", minutes_ago=5)
    stopped = ContactModel.get(first.contact_id).consent.sms
    kept = suppression("sms", phone)
    assert kept is not None and (kept.record.at, kept.record.source, kept.ownerId) == (stopped.at, stopped.source, first.contact_id)

    delete_contact(operator, first.contact_id)
    with pytest.raises(OptedOut, match="opted out of SMS themselves") as refused:
        create_contact(operator, {"name": "Bo Again", "phone": phone, "optInSms": True})
    assert refused.value.field == "optInSms"

    again = create_contact(operator, {"name": "Bo Again", "phone": phone, "optInWhatsApp": True})
    assert again.opt_in_whatsapp and not again.opt_in_sms and again.channels["sms"].opted_out
    assert (again.consent["sms"].at, again.consent["sms"].source) == (stopped.at, stopped.source)  # the original when/how
    with pytest.raises(OptedOut):
        update_contact(operator, again.contact_id, {"optInSms": True})
    with pytest.raises(OptedOut):
        send_sms(operator, {"contactId": again.contact_id, "body": "hello again"})


def test_an_import_or_a_renumbering_onto_a_stopped_number_is_opted_out(operator, messaging):
    phone = unique_phone()
    gone = create_contact(operator, {"name": "Cy Gone", "phone": phone, "optInSms": True})
    text(phone, "STOP", inbound_id="stop-cy", minutes_ago=5)
    delete_contact(operator, gone.contact_id)

    plan = importer.plan_import(operator, f"name,phone,sms_opt_in,voice_opt_in\nCy Imported,{phone},yes,yes\n".encode())
    summary = importer.run_import(operator, plan)
    assert summary.created == 1 and [f["line"] for f in summary.failed] == [2]
    assert "only they can opt back in" in summary.failed[0]["reason"]
    imported = get_contact(operator, ContactUniqueKey.get(ContactUniqueKey.key_for("phone", phone)).ownerId)
    assert not imported.opt_in_sms and imported.consent["sms"].source == "SMS keyword STOP"
    assert imported.opt_in_voice and imported.channels["voice"].opted_out  # a number that said STOP is not called

    delete_contact(operator, imported.contact_id)
    other = contact(operator, "Di Other", optInSms=True)
    renumbered = update_contact(operator, other.contact_id, {"phone": phone})
    assert not renumbered.opt_in_sms and renumbered.channels["sms"].opted_out
    assert renumbered.consent["sms"].source == "SMS keyword STOP"


def test_only_the_customers_start_clears_the_kept_opt_out(operator, messaging):
    phone = unique_phone()
    eve = create_contact(operator, {"name": "Eve Returns", "phone": phone})
    text(phone, "STOP", inbound_id="stop-eve", minutes_ago=10)
    delete_contact(operator, eve.contact_id)
    text(phone, "START", inbound_id="start-eve")  # a new contact for the number, opted back in by the customer
    assert suppression("sms", phone) is None
    back = ContactModel.get(ContactUniqueKey.get(ContactUniqueKey.key_for("phone", phone)).ownerId)
    assert back.optInSms is True and back.consent.sms.source == "SMS keyword START"


def test_a_bounce_recorded_as_the_customers_word_is_kept_for_the_email(operator, messaging):
    email = unique_email()
    fay = create_contact(operator, {"name": "Fay Bounced", "email": email, "optInEmail": True})
    row = ContactModel.get(fay.contact_id)
    work = UnitOfWork()
    customer_consent(work, row, "email", False, "SES bounce", utcnow())
    work.save(row)
    work.commit()
    delete_contact(operator, fay.contact_id)
    again = create_contact(operator, {"name": "Fay Again", "email": email})
    assert again.channels["email"].opted_out and again.consent["email"].source == "SES bounce"


# ---------------------------------------------------------------- calls need their own opt-in


def test_a_call_needs_the_voice_opt_in_and_the_compose_list_says_why(operator, messaging):
    never = contact(operator, "Gus Never")
    willing = contact(operator, "Hal Willing", optInVoice=True)
    found = {r.contact_id: r for r in reachability(operator, [never.contact_id, willing.contact_id], "voice")}
    assert not found[never.contact_id].ok and found[never.contact_id].code == "CONSENT_REQUIRED"
    assert found[never.contact_id].reason == "Gus Never has not opted in to voice (optInVoice)"
    assert found[willing.contact_id].ok
    with pytest.raises(ConsentRequired):
        voice_calls.place_call(operator, {"contactId": never.contact_id, "text": "Hello"})
    assert get_contact(operator, willing.contact_id).to_api()["optInVoice"] is True


# ---------------------------------------------------------------- lastInboundAt only moves forward


def test_a_late_older_message_does_not_move_last_inbound_back(operator, messaging):
    ivy = contact(operator, "Ivy Late")
    now = int(time.time())
    customer_writes(ivy.phone, "newest", ts=now)
    latest = ContactModel.get(ivy.contact_id).lastInboundAt
    customer_writes(ivy.phone, "said an hour ago", ts=now - 3600)  # delivered late
    row = ContactModel.get(ivy.contact_id)
    assert row.lastInboundAt == latest and int(row.unreadCount) == 2
    assert {m.body for m in MessageModel.by_contact.query(ivy.contact_id)} == {"newest", "said an hour ago"}
    customer_writes(ivy.phone, "STOP", ts=now - 1800)  # a late keyword goes through the consent path
    assert ContactModel.get(ivy.contact_id).lastInboundAt == latest
    customer_writes(ivy.phone, "later", ts=now + 5)
    assert ContactModel.get(ivy.contact_id).lastInboundAt > latest


# ---------------------------------------------------------------- keywords are applied once, beyond the Message TTL


def test_a_replayed_keyword_is_harmless_after_its_message_expired(operator, messaging):
    phone = unique_phone()
    jo = create_contact(operator, {"name": "Jo Replay", "phone": phone})
    text(phone, "START", inbound_id="id1", minutes_ago=10)
    text(phone, "STOP", inbound_id="id2", minutes_ago=5)
    messaging.drain()  # the two confirmations
    audits = len(consent_audits(jo.contact_id))
    for message in MessageModel.by_contact.query(jo.contact_id):  # 30 days later: the Message rows expired
        MessageModel.get(message.messageId).delete()
    stored_ids.forget()

    text(phone, "START", inbound_id="id1", minutes_ago=10)  # the provider redelivers the old START
    row = ContactModel.get(jo.contact_id)
    assert row.optInSms is False and row.consent.sms.providerId == "id2"  # still opted out
    assert messaging.drain() == 0  # and not told they are subscribed

    audits_after_start = len(consent_audits(jo.contact_id))
    text(phone, "STOP", inbound_id="id2", minutes_ago=5)  # and the STOP that was applied
    assert len(consent_audits(jo.contact_id)) == audits_after_start  # no second audit row
    assert messaging.drain() == 0 and not any(m.providerMessageId == "id2" for m in MessageModel.by_contact.query(jo.contact_id))
    assert audits_after_start == audits + 1  # the replayed START is recorded as not applied, once

    delete_contact(operator, jo.contact_id)
    again = create_contact(operator, {"name": "Jo Again", "phone": phone})
    text(phone, "STOP", inbound_id="id2", minutes_ago=5)  # the kept opt-out carries the id to the new contact
    assert consent_audits(again.contact_id) == []
