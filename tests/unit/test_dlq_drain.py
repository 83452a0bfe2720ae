"""The send queues' SQS dead-letter queues drained into the dead-letter table (issue 15): a queue record that
failed every receive becomes one dead letter a person sees and replays from /admin/dlq; a record whose message
already went out, or was filed already (a pass that crashed before its delete), is only deleted; a malformed
one is deleted and logged; one pass takes a bounded number of records. On moto's SQS and DynamoDB."""
from __future__ import annotations

import json
import logging
import time

import boto3
import pytest

from backend.adapters.send_queue import SqsDeadLetters, SqsSendQueue, lambda_handler, use_send_dead_letters
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.channels.whatsapp.send import send_whatsapp
from backend.services.contacts.contacts import create_contact
from backend.services.messaging import dlq, dlq_drain, outbox
from backend.services.messaging.dlq_drain import DrainReport, drain_send_dead_letters
from backend.settings import reset_settings_cache
from tests.conftest import unique_phone

CHANNELS = ("whatsapp", "sms", "email", "voice")
MAX_RECEIVES = 5  # infra/components/queues.py: a record that fails this many receives moves to the DLQ
SCHEDULED = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


class Queues:
    """Each channel's send queue redriving to its dead-letter queue after MAX_RECEIVES, as the stack builds them."""

    def __init__(self):
        self.client = boto3.client("sqs", region_name="us-east-1")
        self.dead_urls, self.send_urls = {}, {}
        for channel in CHANNELS:
            dead = self.dead_urls[channel] = self.client.create_queue(QueueName=f"{channel}-send-dlq")["QueueUrl"]
            arn = self.client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES})
            self.send_urls[channel] = self.client.create_queue(
                QueueName=f"{channel}-send", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
        self.dead_letters = SqsDeadLetters(self.dead_urls, client=self.client)

    def dead(self, channel: str, body: str) -> None:
        """A record in the channel's dead-letter queue, put there directly (as SQS moves it)."""
        self.client.send_message(QueueUrl=self.dead_urls[channel], MessageBody=body)

    def held(self, channel: str) -> int:
        """Records still in the channel's dead-letter queue, visible or not (a deleted one is gone)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        found = self.client.get_queue_attributes(QueueUrl=self.dead_urls[channel], AttributeNames=names)["Attributes"]
        return sum(int(found[name]) for name in names)

    def consume_failing(self, channel: str) -> None:
        """The channel's consumer (its real Lambda handler) failing every record, until SQS gives up on them."""
        handler = lambda_handler(f"outbound-{channel}")
        url = self.send_urls[channel]
        while answer := self.client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages"):
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": {}, "eventSource": "aws:sqs"} for m in answer]
            failed = {f["itemIdentifier"] for f in handler({"Records": records}, None)["batchItemFailures"]}
            for m in answer:
                if m["MessageId"] not in failed:
                    self.client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def queues(messaging):
    found = Queues()
    use_send_dead_letters(found.dead_letters)
    yield found
    use_send_dead_letters(None)


@pytest.fixture
def contact(operator, messaging):
    return create_contact(operator, {"name": "Queue Dead", "phone": unique_phone(), "optInWhatsApp": True})


def queued(operator, contact) -> str:
    """A message written PENDING and queued (on the local queue, left undrained: its SQS record is the test's)."""
    return send_whatsapp(operator, {"contactId": contact.contact_id, "type": "template",
                                    "template": {"name": "welcome_back", "language": "en_US"}}).message_id


def body(message_id: str) -> str:
    return json.dumps({"messageId": message_id})


def test_a_record_the_queue_gave_up_on_becomes_one_dead_letter_a_person_replays(admin, operator, contact, messaging, queues, monkeypatch):
    message_id = queued(operator, contact)
    SqsSendQueue(queues.send_urls).enqueue("whatsapp", message_id)  # the record AWS would carry

    def crash(*args, **kwargs):
        raise RuntimeError("the consumer crashes on this message")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "deliver", crash)
        queues.consume_failing("whatsapp")
    assert queues.held("whatsapp") == 1 and MessageModel.get(message_id).status == "PENDING"

    assert drain_send_dead_letters() == DrainReport(recorded=1)
    assert queues.held("whatsapp") == 0
    [entry] = dlq.list_dead_letters(admin)
    assert (entry.dlq_id, entry.queue, entry.message_id, entry.contact_id) == (
        outbox.dlq_id("whatsapp", message_id), "whatsapp", message_id, contact.contact_id)
    assert (entry.error, entry.error_code, entry.can_replay) == ("queue: delivery attempts exhausted", "QUEUE_EXHAUSTED", True)
    assert entry.recipient_address == contact.phone
    assert MessageModel.get(message_id).status == "DEAD"

    [result] = dlq.replay(admin, {"dlqIds": [entry.dlq_id]})
    messaging.drain()
    assert result.outcome == "replayed" and MessageModel.get(message_id).status == "ACCEPTED"
    assert len(messaging.provider.sent) == 1
    assert dlq.list_dead_letters(admin) == []


def test_a_record_whose_message_already_went_out_is_only_deleted(admin, operator, contact, messaging, queues):
    message_id = queued(operator, contact)
    messaging.drain()
    assert MessageModel.get(message_id).status == "ACCEPTED"
    queues.dead("whatsapp", body(message_id))

    assert drain_send_dead_letters() == DrainReport(cleared=1)
    assert queues.held("whatsapp") == 0
    assert dlq.list_dead_letters(admin, state=None) == [] and MessageModel.get(message_id).status == "ACCEPTED"


def seen_again_soon(monkeypatch) -> None:
    """A record a pass receives is hidden for a second, not a minute: the next pass (after `time.sleep`) sees it."""
    monkeypatch.setattr(dlq_drain, "DRAIN_VISIBILITY_SECONDS", 1)


class Crash(BaseException):
    """The process dying between the dead letter's write and the record's delete."""


@pytest.mark.parametrize("meanwhile", ["nothing", "a person replays it"])
def test_a_record_seen_again_after_a_crash_before_its_delete_makes_one_dead_letter(admin, operator, contact, messaging, queues, monkeypatch, meanwhile):
    message_id = queued(operator, contact)
    queues.dead("whatsapp", body(message_id))
    seen_again_soon(monkeypatch)

    def crash(record):
        raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(queues.dead_letters, "delete", crash)
        with pytest.raises(Crash):
            drain_send_dead_letters()
    assert queues.held("whatsapp") == 1
    time.sleep(1.1)
    dlq_id = outbox.dlq_id("whatsapp", message_id)
    filed = DLQMessageModel.get(dlq_id)
    if meanwhile == "a person replays it":
        assert dlq.replay(admin, {"dlqIds": [dlq_id]})[0].outcome == "replayed"  # PENDING again, entry replayed

    assert drain_send_dead_letters() == DrainReport(cleared=1)
    assert queues.held("whatsapp") == 0
    again = DLQMessageModel.get(dlq_id)
    assert again.failedAt == filed.failedAt  # not filed a second time
    assert [d.dlq_id for d in dlq.list_dead_letters(admin, state=None)] == [dlq_id]
    if meanwhile == "a person replays it":
        assert again.state == "replayed" and MessageModel.get(message_id).status == "PENDING"
        messaging.drain()
        assert MessageModel.get(message_id).status == "ACCEPTED" and len(messaging.provider.sent) == 1
    else:
        assert again.state == "waiting" and MessageModel.get(message_id).status == "DEAD"


def test_a_message_dead_again_after_a_replay_is_filed_again(admin, operator, contact, messaging, queues):
    """The record of a replay that died in the queue too is a new failure: the entry waits again, its replay
    counted, rather than being taken for the record the first pass filed."""
    message_id = queued(operator, contact)
    queues.dead("whatsapp", body(message_id))
    assert drain_send_dead_letters() == DrainReport(recorded=1)
    dlq_id = outbox.dlq_id("whatsapp", message_id)
    assert dlq.replay(admin, {"dlqIds": [dlq_id]})[0].outcome == "replayed"
    queues.dead("whatsapp", body(message_id))  # the replay's record, dead in its turn (the local queue not drained)

    assert drain_send_dead_letters() == DrainReport(recorded=1)
    [entry] = dlq.list_dead_letters(admin)
    assert (entry.dlq_id, entry.replay_count, entry.failed_again) == (dlq_id, 1, True)


def test_a_record_of_a_message_being_sent_is_left_for_a_later_pass(admin, operator, contact, messaging, queues, monkeypatch):
    message_id = queued(operator, contact)
    MessageModel.get(message_id).update(actions=[MessageModel.status.set("SENDING")])  # a worker holds it
    queues.dead("whatsapp", body(message_id))
    seen_again_soon(monkeypatch)

    assert drain_send_dead_letters() == DrainReport(left=1)
    assert queues.held("whatsapp") == 1 and dlq.list_dead_letters(admin) == []
    MessageModel.get(message_id).update(actions=[MessageModel.status.set("ACCEPTED")])  # its send went out
    time.sleep(1.1)
    assert drain_send_dead_letters() == DrainReport(cleared=1)
    assert queues.held("whatsapp") == 0 and dlq.list_dead_letters(admin, state=None) == []


def test_malformed_records_and_records_of_no_message_are_deleted_and_logged(admin, queues, caplog):
    for text in ("not json", json.dumps({"other": 1}), json.dumps({"messageId": ""})):
        queues.dead("sms", text)
    queues.dead("email", body("no-such-message"))
    with caplog.at_level(logging.WARNING, logger="backend.services.messaging.dlq_drain"):
        assert drain_send_dead_letters() == DrainReport(malformed=4)
    assert queues.held("sms") == queues.held("email") == 0 and dlq.list_dead_letters(admin, state=None) == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "malformed sms" in r.getMessage()]
    assert len(errors) == 3
    assert any("no-such-message" in r.getMessage() for r in caplog.records)


def test_one_pass_takes_at_most_its_bound_from_every_queue_in_turn(queues, monkeypatch):
    for index in range(25):
        queues.dead("whatsapp", body(f"gone-w{index}"))
    for index in range(5):
        queues.dead("voice", body(f"gone-v{index}"))

    assert drain_send_dead_letters(limit=14) == DrainReport(malformed=14)
    assert queues.held("whatsapp") + queues.held("voice") == 30 - 14
    assert queues.held("voice") < 5  # the flooded queue did not take the whole pass
    assert dlq_drain.DRAIN_LIMIT <= 50 and dlq_drain.DRAIN_BATCH == 10

    monkeypatch.setattr(dlq_drain, "DRAIN_LIMIT", 7)
    assert dlq_drain.drain_summary() == {"queueRecorded": 0, "queueCleared": 0, "queueMalformed": 7, "queueLeft": 0}
    assert queues.held("whatsapp") + queues.held("voice") == 30 - 14 - 7


def test_the_schedule_drains_the_queues_its_settings_name(admin, operator, contact, messaging, monkeypatch):
    """`WECARE_SEND_DLQ_URLS` (JSON, by channel) is what dlq-replay's schedule drains; without it (local) the
    drain does nothing and the schedule's summary is as it was."""
    found = Queues()
    use_send_dead_letters(None)
    summary = lambda_handler("dlq-replay")(SCHEDULED, None)
    assert not any(key.startswith("queue") for key in summary)

    message_id = queued(operator, contact)
    found.dead("email", "not json")
    found.dead("whatsapp", body(message_id))
    monkeypatch.setenv("WECARE_SEND_DLQ_URLS", json.dumps(found.dead_urls))
    reset_settings_cache()
    try:
        summary = lambda_handler("dlq-replay")(SCHEDULED, None)
    finally:
        use_send_dead_letters(None)
        monkeypatch.delenv("WECARE_SEND_DLQ_URLS")
        reset_settings_cache()
    assert (summary["queueRecorded"], summary["queueMalformed"], summary["queueCleared"], summary["queueLeft"]) == (1, 1, 0, 0)
    assert [d.message_id for d in dlq.list_dead_letters(admin)] == [message_id]
    assert found.held("whatsapp") == found.held("email") == 0
