"""One message to several contacts: reachability first, one send per reachable recipient through the channel's
send service, an outcome for everyone; what is wrong for everyone (role, input, content) is refused before
anything is queued, and one recipient's failure never stops the others."""
from __future__ import annotations

import dataclasses

import time

import pytest

from backend.services.rules.channels import Channel
from backend.services.channels.registry import REGISTRY
from backend.errors import PermissionDenied, Unauthenticated, ValidationError
from backend.models.messaging import MessageModel
from backend.services.contacts.contacts import delete_contact, update_contact
from backend.services.channels import send_many
from backend.services.messaging import messages
from backend.services.messaging.reachability import MAX_CONTACTS, reachability
from backend.services.channels.send_many import recipients, send_to_contacts
from backend.services.platform.access import Actor
from tests.unit.people import contact, customer_writes







def outbound(actor, contact_id: str) -> list:
    return [m for m in messages.conversation(actor, contact_id, limit=10).items if m.direction == "outbound"]


def test_sms_goes_to_the_reachable_and_says_why_not_to_the_others(operator, messaging):
    ok = contact(operator, "Ada Ok", optInSms=True)
    also = contact(operator, "Bo Also", optInSms=True)
    no_consent = contact(operator, "Cy Noconsent")
    stopped = contact(operator, "Di Stopped", optInSms=True)
    update_contact(operator, stopped.contact_id, {"optInSms": False})
    gone = contact(operator, "Ed Gone", optInSms=True)
    delete_contact(operator, gone.contact_id)
    ids = [ok.contact_id, no_consent.contact_id, stopped.contact_id, ok.contact_id, gone.contact_id, also.contact_id]
    expected = {r.contact_id: r.reason for r in reachability(operator, ids, "sms")}

    outcomes = send_to_contacts(operator, "sms", ids, {"body": "Your parcel is ready"})

    assert [o.contact_id for o in outcomes] == [ok.contact_id, no_consent.contact_id, stopped.contact_id,
                                                gone.contact_id, also.contact_id]  # duplicates once, in order
    by_id = {o.contact_id: o for o in outcomes}
    for sent in (ok, also):
        outcome = by_id[sent.contact_id]
        assert outcome.ok and outcome.code == "QUEUED" and outcome.reason == "Queued"
        assert outcome.link == f"/inbox/{sent.contact_id}" and outcome.call_id is None
        assert MessageModel.get(outcome.message_id).status == "PENDING"
        assert [m.body for m in outbound(operator, sent.contact_id)] == ["Your parcel is ready"]
    for refused in (no_consent, stopped, gone):
        outcome = by_id[refused.contact_id]
        assert not outcome.ok and outcome.link is None and outcome.message_id is None
        assert outcome.reason == expected[refused.contact_id]  # the composer's list and the outcome agree
    assert by_id[no_consent.contact_id].reason == "Cy Noconsent has not opted in to SMS (optInSms)"
    assert {by_id[c.contact_id].code for c in (no_consent, stopped, gone)} == {"CONSENT_REQUIRED", "OPTED_OUT", "NOT_FOUND"}
    assert "opted out of SMS" in by_id[stopped.contact_id].reason
    assert by_id[gone.contact_id].name == "Ed Gone" and by_id[gone.contact_id].reason == "the contact no longer exists"
    assert outbound(operator, no_consent.contact_id) == [] and outbound(operator, stopped.contact_id) == []
    assert len(messaging.queue) == 2
    assert outcomes[0].to_api()["contactId"] == ok.contact_id  # camelCase like the other views


def test_whatsapp_templates_need_consent_and_text_needs_the_window(operator, messaging):
    talking = contact(operator, "Fay Talking")  # wrote a minute ago, no template consent
    customer_writes(talking.phone, ts=int(time.time()) - 60)
    quiet = contact(operator, "Gus Quiet", optInWhatsApp=True)  # opted in, never wrote
    stopped = contact(operator, "Hal Stopped", optInWhatsApp=True)
    customer_writes(stopped.phone, "STOP")
    ids = [talking.contact_id, quiet.contact_id, stopped.contact_id]

    template = {"type": "template", "template": {"name": "order_update", "language": "en_US", "bodyParameters": ["WD-1"]}}
    by_id = {o.contact_id: o for o in send_to_contacts(operator, "whatsapp", ids, template)}
    assert by_id[quiet.contact_id].ok
    assert by_id[talking.contact_id].reason == "Fay Talking has not opted in to WhatsApp; templates need optInWhatsApp"
    assert "opted out of WhatsApp" in by_id[stopped.contact_id].reason
    assert [m.kind for m in outbound(operator, quiet.contact_id)] == ["template"]

    by_id = {o.contact_id: o for o in send_to_contacts(operator, "whatsapp", ids, {"type": "text", "text": "Hi!"})}
    assert by_id[talking.contact_id].ok and [m.kind for m in outbound(operator, talking.contact_id)] == ["text"]
    assert not by_id[quiet.contact_id].ok and "never opened" in by_id[quiet.contact_id].reason
    assert not by_id[stopped.contact_id].ok
    assert [m.body for m in outbound(operator, stopped.contact_id) if m.created_by == operator.user_id] == []  # only the STOP confirmation


def test_a_call_outcome_links_to_the_call(operator, messaging):
    callee = contact(operator, "Ivy Callee", optInVoice=True)
    mail_only = contact(operator, "Jo Mail", phone=False, email=True)

    placed, refused = send_to_contacts(operator, "voice", [callee.contact_id, mail_only.contact_id],
                                       {"text": "Hello from WECARE", "textType": "TEXT"})

    assert placed.ok and placed.call_id and placed.link == f"/voice/{placed.call_id}" and placed.message_id
    assert not refused.ok and refused.reason == "no phone number"


def test_a_viewer_is_refused_once_before_anything_is_looked_at(operator, viewer, messaging, monkeypatch):
    one = contact(operator, "Kit Read", optInSms=True)
    monkeypatch.setattr(send_many, "reachability", lambda *a, **k: pytest.fail("reachability was asked"))

    with pytest.raises(PermissionDenied):
        send_to_contacts(viewer, "sms", [one.contact_id] * 3 + [f"{n:032x}" for n in range(40)], {"body": "hi"})
    with pytest.raises(Unauthenticated):
        send_to_contacts(Actor.anonymous(), "sms", [one.contact_id], {"body": "hi"})
    assert outbound(operator, one.contact_id) == [] and len(messaging.queue) == 0


@pytest.mark.parametrize(
    "channel, ids, message, field",
    [
        ("fax", "one", {"body": "hi"}, "channel"),
        ("sms", [], {"body": "hi"}, "contactIds"),
        ("sms", "too many", {"body": "hi"}, "contactIds"),
        ("sms", "one", {"body": "hi", "contactId": "x"}, "message.contactId"),
        ("sms", "one", {"body": "hi", "to": "+447700900123"}, "message.to"),
        ("whatsapp", "one", {"type": "reaction", "reaction": {"messageId": "m", "emoji": "👍"}}, "message.type"),
        ("sms", "one", {"body": "   "}, "body"),  # the content, refused by the send service for everyone
        ("email", "one", {"subject": "", "text": "hi"}, "subject"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_queued(operator, messaging, channel, ids, message, field):
    one = contact(operator, "Lee Input", email=True, optInSms=True, optInEmail=True, optInWhatsApp=True)
    if ids == "one":
        ids = [one.contact_id]
    elif ids == "too many":
        ids = [one.contact_id] + [f"{n:032x}" for n in range(MAX_CONTACTS)]

    with pytest.raises(ValidationError) as error:
        send_to_contacts(operator, channel, ids, message)

    assert error.value.field == field
    assert outbound(operator, one.contact_id) == [] and len(messaging.queue) == 0


def test_a_template_refused_for_everyone_queues_nothing(operator, messaging):
    a = contact(operator, "Mo Template", optInWhatsApp=True)
    b = contact(operator, "Ned Template", optInWhatsApp=True)
    wrong = {"type": "template", "template": {"name": "order_update", "language": "en_US"}}  # needs one parameter

    with pytest.raises(ValidationError) as error:
        send_to_contacts(operator, "whatsapp", [a.contact_id, b.contact_id], wrong)

    assert error.value.field == "template.bodyParameters"
    assert outbound(operator, a.contact_id) == outbound(operator, b.contact_id) == [] and len(messaging.queue) == 0


def test_one_recipients_failure_never_stops_the_others(operator, messaging, monkeypatch):
    people = [contact(operator, f"Olga {n}", optInSms=True) for n in range(4)]
    real = REGISTRY[Channel.SMS].send
    calls = []

    def flaky(actor, data, *, via):
        calls.append(data["contactId"])
        if len(calls) == 1:
            raise RuntimeError("the table is having a bad day")
        if len(calls) == 3:  # after one has been queued, a refusal of the content is that recipient's outcome
            raise ValidationError("body: too long today", field="body")
        return real(actor, data, via=via)

    monkeypatch.setitem(REGISTRY, Channel.SMS, dataclasses.replace(REGISTRY[Channel.SMS], send=flaky))
    outcomes = send_to_contacts(operator, "sms", [p.contact_id for p in people], {"body": "hello"})

    assert [(o.ok, o.code) for o in outcomes] == [(False, "ERROR"), (True, "QUEUED"), (False, "VALIDATION_ERROR"), (True, "QUEUED")]
    assert outcomes[2].reason == "too long today"
    assert len(messaging.queue) == 2


def test_recipients_are_the_live_contacts_in_order(operator, viewer):
    a = contact(operator, "Pat A")
    b = contact(operator, "Quinn B")
    gone = contact(operator, "Ray Gone")
    delete_contact(operator, gone.contact_id)

    found = recipients(viewer, [b.contact_id, gone.contact_id, "0" * 32, a.contact_id, b.contact_id])

    assert [c.contact_id for c in found] == [b.contact_id, a.contact_id]
    with pytest.raises(Unauthenticated):
        recipients(Actor.anonymous(), [a.contact_id])
