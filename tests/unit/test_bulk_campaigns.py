"""Bulk campaigns: a job expands into recipient rows, sends each reachable contact one message through the
channel's own send path, counts what the rows say, and survives a runner that dies; the actions follow the
job's state, and bad requests change nothing."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from backend.adapters.channels import providers
from backend.api import bulk_api
from backend.api.http import ApiRequest, invoke
from backend.errors import Conflict, PermissionDenied, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.campaigns import BulkJobModel, BulkRecipientModel
from backend.models.messaging import MessageModel
from backend.services.campaigns import jobs, runner
from backend.services.contacts.contacts import create_contact
from backend.services.platform import system_config
from tests.unit.people import contact


def sms_contacts(actor, count: int, *, opted_in: bool = True, tags: list[str] | None = None) -> list[str]:
    return [contact(actor, f"Bulk {n}", optInSms=opted_in, **({"tags": tags} if tags else {})).contact_id for n in range(count)]


def run_until_settled(messaging, job_id: str, passes: int = 60) -> BulkJobModel:
    """The runner's passes and the outbox's sends, in turn, until the job ends (or stops moving)."""
    for _ in range(passes):
        runner._pace.clear()  # each pass may send a full step, whatever the clock says
        runner.run_once()
        messaging.drain()
        job = BulkJobModel.get(job_id, consistent_read=True)
        if job.status in (jobs.FINISHED, jobs.CANCELLED, jobs.PAUSED):
            return job
    return BulkJobModel.get(job_id, consistent_read=True)


def sent_to(messaging) -> Counter:
    return Counter(record["to"] for record in providers.SMS.get().sent)


@pytest.fixture(autouse=True)
def unpaced(tables):
    system_config.write(runner.UNLIMITED_KEY, True, updated_by="test")
    runner._leases.clear()
    runner._taken_over.clear()
    yield


def test_a_campaign_sends_each_reachable_contact_one_message_and_its_counts_are_the_rows(operator, messaging):
    reachable = sms_contacts(operator, 4)
    refused = sms_contacts(operator, 2, opted_in=False)
    no_phone = create_contact(operator, {"name": "Mail Only", "email": "mail.only@example.com"}).contact_id
    created = jobs.create_job(operator, {"name": "Spring sale", "channel": "sms", "contactIds": reachable + refused + [no_phone],
                                         "message": {"body": "20% off this week"}})
    assert created.status == "expanding" and created.total_recipients == 7

    job = run_until_settled(messaging, created.job_id)
    assert job.status == "finished"
    sends = sent_to(messaging)
    assert len(sends) == 4 and set(sends.values()) == {1}  # one message each, to the reachable ones only
    view = jobs.get_job(operator, created.job_id)
    rows = Counter(row.status for row in BulkRecipientModel.query(created.job_id))
    assert {status: n for status, n in view.counts.items() if n} == dict(rows) == {"SENT": 4, "SKIPPED": 3}
    assert view.skipped_reasons == {"CONSENT_REQUIRED": 2, "VALIDATION_ERROR": 1}
    assert view.progress == 100.0 and view.can_delete and not view.can_pause
    skipped = {row.contactId: row for row in BulkRecipientModel.query(created.job_id) if row.status == "SKIPPED"}
    assert skipped[no_phone].error == "no phone number" and "not opted in" in skipped[refused[0]].error
    # The messages are the channel's own (the sandbox got them through the outbox), with the campaign's ids;
    # no per-message audit row, one for the creation and one summary.
    messages = [MessageModel.get(row.messageId) for row in BulkRecipientModel.query(created.job_id) if row.messageId]
    assert {m.jobId for m in messages} == {created.job_id} and {m.channel for m in messages} == {"sms"}
    actions = sorted(row.action for row in AuditLogModel.query(f"bulk_job#{created.job_id}"))
    assert actions == ["bulk.create", "bulk.finish"]


def test_a_runner_that_dies_mid_campaign_leaves_no_duplicate_and_no_one_behind(operator, messaging, monkeypatch):
    ids = sms_contacts(operator, 6)
    created = jobs.create_job(operator, {"name": "Crash", "channel": "sms", "contactIds": ids, "message": {"body": "hi"}})
    real_send = runner.entry("sms").send
    calls = []

    def dies_after_three(actor, request, via):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process dies here: three messages queued, the cursor not moved
        calls.append(request["contactId"])
        return real_send(actor, request, via=via)

    class Dying:
        send = staticmethod(dies_after_three)

    monkeypatch.setattr(runner, "entry", lambda channel: Dying)
    with pytest.raises(KeyboardInterrupt):
        runner.run_once()  # expands, then sends until it dies
    monkeypatch.undo()
    assert len(calls) == 3 and BulkJobModel.get(created.job_id).dispatchCursor is None
    # A new process: its own runner id, the dead one's lease lapsed.
    runner._leases.clear()
    monkeypatch.setattr(runner, "RUNNER_ID", runner.RUNNER_ID + "-restarted")
    BulkJobModel.get(created.job_id).update(actions=[BulkJobModel.leaseUntil.set(BulkJobModel.get(created.job_id).createdAt)])
    job = run_until_settled(messaging, created.job_id)
    assert job.status == "finished"
    assert sorted(sent_to(messaging).values()) == [1] * 6  # all six, once each
    assert jobs.get_job(operator, created.job_id).counts["SENT"] == 6


def test_more_recipients_than_the_threshold_need_confirmation(operator, messaging):
    system_config.write(jobs.CONFIRM_KEY, {"recipients": 2}, updated_by="test")
    ids = sms_contacts(operator, 3)
    request = {"name": "Big", "channel": "sms", "contactIds": ids, "message": {"body": "hello"}}
    with pytest.raises(Conflict) as refused:
        jobs.create_job(operator, request)
    assert refused.value.code == "CONFIRMATION_REQUIRED" and refused.value.details[0]["recipients"] == 3
    assert list(BulkJobModel.scan()) == []  # nothing was written
    assert jobs.create_job(operator, {**request, "confirmed": True}).total_recipients == 3


@pytest.mark.parametrize("change, field", [
    ({"message": {"body": "  "}}, "message.body"),
    ({"message": {"body": "hi", "contactId": "x"}}, "message.contactId"),
    ({"channel": "fax"}, "channel"),
    ({"contactIds": []}, "contactIds"),
    ({"channel": "whatsapp", "message": {"type": "reaction", "reaction": {"messageId": "m", "emoji": "x"}}}, "message.type"),
    ({"channel": "whatsapp", "message": {"type": "template", "template": {"name": "nope", "language": "en_US"}}}, "message.template.name"),
    ({"audience": {"tags": ["vip"]}}, "contactIds"),
])
def test_a_bad_request_is_refused_with_its_field_and_writes_nothing(operator, messaging, change, field):
    ids = sms_contacts(operator, 1)
    request = {"name": "Bad", "channel": "sms", "contactIds": ids, "message": {"body": "hello"}, **change}
    with pytest.raises(ValidationError) as refused:
        jobs.create_job(operator, request)
    assert refused.value.field == field
    assert list(BulkJobModel.scan()) == []


def test_an_audience_by_tag_reaches_the_tagged_contacts(operator, messaging):
    vip = sms_contacts(operator, 3, tags=["vip"])
    sms_contacts(operator, 2, tags=["other"])
    created = jobs.create_job(operator, {"name": "VIP", "channel": "sms", "audience": {"tags": ["VIP"]}, "message": {"body": "hey"}})
    assert created.total_recipients == 3
    run_until_settled(messaging, created.job_id)
    assert {row.contactId for row in BulkRecipientModel.query(created.job_id)} == set(vip)
    assert len(sent_to(messaging)) == 3


def test_pause_resume_cancel_follow_the_job_state_and_held_messages_never_go(operator, viewer, messaging):
    ids = sms_contacts(operator, 5)
    created = jobs.create_job(operator, {"name": "States", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    with pytest.raises(Conflict):
        jobs.change_job(operator, created.job_id, {"action": "resume"})  # not paused
    with pytest.raises(PermissionDenied):
        jobs.change_job(viewer, created.job_id, {"action": "pause"})
    paused = jobs.change_job(operator, created.job_id, {"action": "pause"})
    assert paused.status == "paused" and paused.can_resume and not paused.can_pause
    runner.run_once()
    assert BulkJobModel.get(created.job_id).totalRecipients == 5 and not list(BulkRecipientModel.query(created.job_id))
    assert jobs.change_job(operator, created.job_id, {"action": "resume"}).status == "expanding"
    runner.run_once()  # expanded, and all five handed to the outbox (no pacing here)
    jobs._counts_cache.forget()  # the pages' counts may be half a second old
    assert jobs.get_job(operator, created.job_id).counts["QUEUED"] == 5
    jobs.change_job(operator, created.job_id, {"action": "pause"})
    messaging.drain()
    assert sent_to(messaging) == Counter()  # the outbox holds a paused campaign's queued messages
    cancelled = jobs.change_job(operator, created.job_id, {"action": "cancel"})
    assert cancelled.status == "cancelling" and not cancelled.can_resume
    job = run_until_settled(messaging, created.job_id)
    assert job.status == "cancelled" and sent_to(messaging) == Counter()
    assert jobs.get_job(operator, created.job_id).counts["CANCELLED"] == 5
    assert {MessageModel.get(row.messageId if row.messageId else runner.campaign_message_id(created.job_id, row.contactId, 0)).status
            for row in BulkRecipientModel.query(created.job_id)} == {"CANCELLED"}
    with pytest.raises(Conflict):
        jobs.change_job(operator, created.job_id, {"action": "resume"})  # cancel is final
    jobs.delete_job(operator, created.job_id)
    assert list(BulkRecipientModel.query(created.job_id)) == []


def test_a_resumed_campaign_sends_what_the_pause_held(operator, messaging):
    ids = sms_contacts(operator, 3)
    created = jobs.create_job(operator, {"name": "Hold", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    runner.run_once()
    jobs.change_job(operator, created.job_id, {"action": "pause"})
    messaging.drain()
    assert sent_to(messaging) == Counter()
    jobs.change_job(operator, created.job_id, {"action": "resume"})
    assert run_until_settled(messaging, created.job_id).status == "finished"
    assert sorted(sent_to(messaging).values()) == [1, 1, 1]


def test_retry_failed_sends_only_the_failed_recipients_again(operator, messaging):
    good = sms_contacts(operator, 2)
    failing = create_contact(operator, {"name": "Fails", "phone": "+447911230000", "optInSms": True}).contact_id
    created = jobs.create_job(operator, {"name": "Retry", "channel": "sms", "contactIds": good + [failing], "message": {"body": "x"}})
    job = run_until_settled(messaging, created.job_id)
    view = jobs.get_job(operator, created.job_id)
    assert job.status == "finished" and view.counts["FAILED"] == 1 and view.can_retry_failed
    assert BulkRecipientModel.get(created.job_id, failing).reason
    before = len(providers.SMS.get().sent)
    jobs.change_job(operator, created.job_id, {"action": "retry_failed"})
    run_until_settled(messaging, created.job_id)
    assert len(providers.SMS.get().sent) == before  # the good ones were not sent again (the failing number fails again)
    again = BulkRecipientModel.get(created.job_id, failing)
    assert again.attempt == 1 and again.status == "FAILED"


def test_the_routes_answer_with_the_same_rules(operator, viewer, messaging):
    ids = sms_contacts(operator, 2)

    def call(endpoint, actor, body=None, **path):
        raw = json.dumps(body).encode() if body is not None else b""
        return invoke(endpoint, actor, ApiRequest(method="PUT", headers={"content-type": "application/json"}, raw_body=raw, path_params=path))

    assert call(bulk_api.create, viewer, {"name": "x", "channel": "sms", "contactIds": ids, "message": {"body": "x"}}).status == 403
    made = call(bulk_api.create, operator, {"name": "x", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    assert made.status == 201
    job_id = made.body["jobId"]
    assert call(bulk_api.read, viewer, jobId=job_id).status == 200
    assert call(bulk_api.change, operator, {"action": "resume"}, jobId=job_id).status == 409
    assert call(bulk_api.change, operator, {"action": "explode"}, jobId=job_id).status == 422
    assert call(bulk_api.delete, operator, jobId=job_id).status == 409  # not finished
    assert call(bulk_api.read, viewer, jobId="nope").status == 404
    assert call(bulk_api.list_jobs, viewer).body["items"][0]["jobId"] == job_id


def test_the_wizard_preview_counts_by_the_send_rule_and_the_export_is_defused(operator, messaging):
    sms_contacts(operator, 3, tags=["club"])
    sms_contacts(operator, 2, opted_in=False, tags=["club"])
    preview = jobs.preview_audience(operator, "sms", tags=["club"])
    assert (preview.total, preview.reachable, preview.excluded) == (5, 3, {"No consent for this channel": 2})
    risky = create_contact(operator, {"name": "=HYPERLINK(1)", "phone": "+447911123456", "optInSms": True}).contact_id
    created = jobs.create_job(operator, {"name": "Csv", "channel": "sms", "contactIds": [risky], "message": {"body": "x"}})
    run_until_settled(messaging, created.job_id)
    lines = jobs.export_recipients_csv(operator, created.job_id).splitlines()
    assert lines[0].startswith("contactId,name,address,status") and ",'=HYPERLINK(1),'+447911123456,SENT," in lines[1]


def test_a_scheduled_campaign_waits_and_can_be_rescheduled(operator, messaging):
    from datetime import timedelta

    from backend.models.base import utcnow

    ids = sms_contacts(operator, 2)
    later = utcnow() + timedelta(hours=3)
    created = jobs.create_job(operator, {"name": "Later", "channel": "sms", "contactIds": ids, "message": {"body": "x"},
                                         "scheduledAt": later.isoformat()})
    job = run_until_settled(messaging, created.job_id, passes=3)
    assert job.status == "scheduled" and sent_to(messaging) == Counter()
    with pytest.raises(ValidationError):
        jobs.change_job(operator, created.job_id, {"action": "reschedule"})  # the new time is required
    sooner = jobs.change_job(operator, created.job_id, {"action": "reschedule", "scheduledAt": (utcnow() - timedelta(seconds=1)).isoformat()})
    assert sooner.status == "scheduled" and sooner.can_reschedule
    assert run_until_settled(messaging, created.job_id).status == "finished" and len(sent_to(messaging)) == 2


def test_recipients_page_by_status_and_all(operator, messaging):
    ids = sms_contacts(operator, 3) + sms_contacts(operator, 2, opted_in=False)
    created = jobs.create_job(operator, {"name": "Pages", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    run_until_settled(messaging, created.job_id)
    first = jobs.list_recipients(operator, created.job_id, status="SENT", limit=2)
    second = jobs.list_recipients(operator, created.job_id, status="SENT", limit=2, next_token=first.next_token)
    assert [r.status for r in first.items + second.items] == ["SENT"] * 3 and second.next_token is None
    assert len({r.contact_id for r in first.items + second.items}) == 3
    everyone = jobs.list_recipients(operator, created.job_id, limit=4)
    rest = jobs.list_recipients(operator, created.job_id, limit=4, next_token=everyone.next_token)
    assert sorted(r.contact_id for r in everyone.items + rest.items) == sorted(ids)
    assert {r.status for r in jobs.list_recipients(operator, created.job_id, status="SKIPPED").items} == {"SKIPPED"}


def test_a_finished_campaign_s_counts_follow_the_statuses_that_arrive_after_it_finished(operator, messaging):
    from backend.models.base import utcnow
    from backend.services.messaging.statuses import ProviderStatus, apply_status

    ids = sms_contacts(operator, 3)
    created = jobs.create_job(operator, {"name": "Late news", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    assert run_until_settled(messaging, created.job_id).status == "finished"
    delivered, failed, _ = (MessageModel.get(BulkRecipientModel.get(created.job_id, c).messageId) for c in ids)
    assert apply_status(ProviderStatus("sms", delivered.providerMessageId, "DELIVERED", utcnow(), message_id=delivered.messageId))
    assert apply_status(ProviderStatus("sms", failed.providerMessageId, "FAILED", utcnow(), "UNREACHABLE", "The phone is off.",
                                       message_id=failed.messageId))
    time.sleep(0.6)  # the pages' counts are at most half a second old
    view = jobs.get_job(operator, created.job_id)
    rows = Counter(row.status for row in BulkRecipientModel.query(created.job_id))
    assert {s: n for s, n in view.counts.items() if n} == dict(rows) == {"SENT": 1, "DELIVERED": 1, "FAILED": 1}
    assert BulkRecipientModel.get(created.job_id, ids[1]).error == "The phone is off."
    assert view.can_retry_failed  # a failure reported after the end can be retried


def test_a_repeated_status_event_brings_a_recipient_left_behind_by_a_crash_up_to_its_message(operator, messaging):
    from backend.models.base import utcnow
    from backend.services.messaging.statuses import ProviderStatus, apply_status

    ids = sms_contacts(operator, 1)
    created = jobs.create_job(operator, {"name": "Crash", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    assert run_until_settled(messaging, created.job_id).status == "finished"
    message = MessageModel.get(BulkRecipientModel.get(created.job_id, ids[0]).messageId)
    message.update(actions=[MessageModel.status.set("DELIVERED")])  # the process died before the recipient followed
    event = ProviderStatus("sms", message.providerMessageId, "DELIVERED", utcnow(), message_id=message.messageId)
    assert not apply_status(event)  # the provider repeats the event: the message is there already…
    assert BulkRecipientModel.get(created.job_id, ids[0]).status == "DELIVERED"  # …and its recipient follows it now
    stale = ProviderStatus("sms", message.providerMessageId, "SENT", utcnow(), message_id=message.messageId)
    assert not apply_status(stale) and BulkRecipientModel.get(created.job_id, ids[0]).status == "DELIVERED"


def test_a_recipient_whose_message_went_out_without_it_is_caught_up_and_the_job_finishes(operator, messaging, monkeypatch):
    from backend.services.messaging import campaign_recipients

    monkeypatch.setattr(runner, "CATCH_UP_SECONDS", 3600.0)  # not yet
    ids = sms_contacts(operator, 3)
    followed = campaign_recipients.follow
    lost_once = []

    def dies_before_following(row, status, **kwargs):  # the process died between the message's write and this one
        if not lost_once and row.contactId == ids[1]:
            lost_once.append(row.messageId)
            return False
        return followed(row, status, **kwargs)

    monkeypatch.setattr("backend.services.messaging.outbox.campaign_recipients.follow", dies_before_following)
    created = jobs.create_job(operator, {"name": "Left behind", "channel": "sms", "contactIds": ids, "message": {"body": "x"}})
    job = run_until_settled(messaging, created.job_id, passes=5)
    assert job.status == "sending" and BulkRecipientModel.get(created.job_id, ids[1]).status == "PENDING"
    assert jobs.get_job(operator, created.job_id).counts["QUEUED"] == 1  # the job waits on it
    monkeypatch.undo()
    monkeypatch.setattr(runner, "CATCH_UP_SECONDS", 0.0)
    job = run_until_settled(messaging, created.job_id)
    assert job.status == "finished" and MessageModel.get(lost_once[0]).status == "ACCEPTED"
    assert BulkRecipientModel.get(created.job_id, ids[1]).status == "SENT" and len(sent_to(messaging)) == 3
