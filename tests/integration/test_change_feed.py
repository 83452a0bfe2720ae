"""The Message table's change feed against DynamoDB Local's real stream implementation."""
from __future__ import annotations

import base64
import logging
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.models.schema import drop_all, dynamodb_client, dynamodb_streams_client, init_db
from backend.runtime import change_feed as cf
from backend.runtime.change_feed import ChangeFeed, ChangeHub, MessageChange
from backend.runtime.dynamodb_local import DynamoDBLocal
from backend.settings import get_settings
from tests.integration.conftest import free_port

DELIVERY_TIMEOUT = 2.0


class Recorder:
    """An on_change that records every batch and lets a test wait for a condition on what arrived."""

    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[MessageChange]] = []
        self._fail_first = fail_first
        self._cond = threading.Condition()

    def __call__(self, batch: list[MessageChange]) -> None:
        with self._cond:
            self.batches.append(list(batch))
            self._cond.notify_all()
            if len(self.batches) <= self._fail_first:
                raise RuntimeError("a consumer bug")

    @property
    def changes(self) -> list[MessageChange]:
        with self._cond:
            return [change for batch in self.batches for change in batch]

    def wait_for(self, predicate, timeout: float = DELIVERY_TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate([c for b in self.batches for c in b]), timeout)

    def wait_for_ids(self, *message_ids: str, event: str | None = None, timeout: float = DELIVERY_TIMEOUT) -> bool:
        wanted = set(message_ids)

        def seen(changes):
            return wanted <= {c.message_id for c in changes if event is None or c.event == event}

        return self.wait_for(seen, timeout)


def new_message(status: str = "queued", contact_id: str | None = "c-1") -> MessageModel:
    now = utcnow()
    message = MessageModel(
        f"m-{uuid.uuid4().hex}",
        contactId=contact_id,
        channel="whatsapp",
        direction="outbound",
        status=status,
        createdAt=now,
        updatedAt=now,
        day=now.strftime("%Y-%m-%d"),
    )
    message.save()
    return message


@pytest.fixture(autouse=True)
def drop_tables_afterwards(tables):
    """Each test gets 12 fresh tables; drop them afterwards. In one DynamoDB Local session, index deletion
    slows down in ~10 s steps as tables pile up, and test_dynamodb_local's missing-index test (which waits
    at most 10 s for a deletion) fails when run after this module if its tables are left behind."""
    yield
    drop_all()


@pytest.fixture
def feeds():
    """Builds feeds of this test's Message table; every one is stopped at the end of the test."""
    made: list[ChangeFeed] = []

    def make(on_change, **options) -> ChangeFeed:
        feed = ChangeFeed(cf.message_table_name(), on_change, settings=get_settings(), **options)
        made.append(feed)
        return feed

    yield make
    for feed in made:
        feed.stop()


def started(feed: ChangeFeed) -> ChangeFeed:
    feed.start()
    assert feed.wait_ready(10), "the feed never acquired its starting iterators"
    return feed


def test_init_db_gives_the_message_table_a_stream_of_old_and_new_images():
    table = dynamodb_client().describe_table(TableName=cf.message_table_name())["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"]


def test_init_db_enables_the_stream_on_an_existing_table_without_one():
    client = dynamodb_client()
    table_name = cf.message_table_name()
    client.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in client.describe_table(TableName=table_name)["Table"]
    assert f"enabled stream {table_name} (NEW_AND_OLD_IMAGES)" in init_db()
    assert client.describe_table(TableName=table_name)["Table"]["StreamSpecification"]["StreamEnabled"]


def test_init_db_replaces_a_stream_of_new_images_only_with_one_of_old_and_new():
    """An install from before the message counters: its stream cannot change type in place."""
    client = dynamodb_client()
    table_name = cf.message_table_name()
    client.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})
    client.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    actions = init_db()
    assert f"ended stream {table_name} (NEW_IMAGE)" in actions
    assert f"enabled stream {table_name} (NEW_AND_OLD_IMAGES)" in actions
    spec = client.describe_table(TableName=table_name)["Table"]["StreamSpecification"]
    assert spec == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert not any("stream" in action for action in init_db())  # idempotent


def test_a_message_saved_after_ready_is_delivered_with_its_fields(feeds):
    recorder = Recorder()
    started(feeds(recorder))
    message = new_message(status="queued", contact_id="c-42")
    assert recorder.wait_for_ids(message.messageId)
    [change] = [c for c in recorder.changes if c.message_id == message.messageId]
    assert change == MessageChange(
        event="INSERT",
        message_id=message.messageId,
        contact_id="c-42",
        channel="whatsapp",
        direction="outbound",
        status="queued",
    )
    assert all(isinstance(batch, list) and batch for batch in recorder.batches)


def test_a_status_change_is_delivered_as_modify_and_a_delete_as_remove(feeds):
    recorder = Recorder()
    started(feeds(recorder))
    message = new_message(status="queued")
    assert recorder.wait_for_ids(message.messageId, event="INSERT")
    message.update(actions=[MessageModel.status.set("delivered"), MessageModel.updatedAt.set(utcnow())])
    assert recorder.wait_for_ids(message.messageId, event="MODIFY")
    modify = next(c for c in recorder.changes if c.event == "MODIFY")
    assert (modify.message_id, modify.status, modify.channel) == (message.messageId, "delivered", "whatsapp")
    message.delete()
    assert recorder.wait_for_ids(message.messageId, event="REMOVE")
    remove = next(c for c in recorder.changes if c.event == "REMOVE")
    assert remove == MessageChange("REMOVE", message.messageId, None, None, None, None)  # no new image: keys only


def test_writes_made_before_start_are_not_delivered(feeds):
    earlier = [new_message() for _ in range(3)]
    recorder = Recorder()
    started(feeds(recorder))
    later = new_message()
    assert recorder.wait_for_ids(later.messageId)
    time.sleep(0.2)  # anything else in flight would have arrived by now
    assert {c.message_id for c in recorder.changes} == {later.messageId}
    assert not {m.messageId for m in earlier} & {c.message_id for c in recorder.changes}


def test_a_callback_that_raises_does_not_stop_later_deliveries(feeds, caplog):
    recorder = Recorder(fail_first=1)
    feed = started(feeds(recorder))
    first = new_message()
    assert recorder.wait_for_ids(first.messageId)
    second = new_message()
    assert recorder.wait_for_ids(second.messageId)
    assert feed.running
    assert any("callback raised" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_stop_returns_promptly_and_ends_the_thread(feeds):
    feed = started(feeds(Recorder(), poll_interval=0.5))
    thread = feed._thread
    begun = time.monotonic()
    feed.stop()
    assert time.monotonic() - begun < 1.0
    assert not thread.is_alive()
    assert not feed.running
    feed.stop()  # idempotent


def test_a_burst_arrives_in_few_batches_and_in_order(feeds):
    recorder = Recorder()
    started(feeds(recorder))
    message = new_message(status="s0")
    for step in range(1, 30):
        message.update(actions=[MessageModel.status.set(f"s{step}")])
    assert recorder.wait_for(lambda changes: any(c.status == "s29" for c in changes))
    statuses = [c.status for c in recorder.changes if c.message_id == message.messageId]
    assert statuses == [f"s{step}" for step in range(30)]


class ExpiringStreams:
    """The real streams client, but `expire()` makes the next GetRecords use a 16-minute-old iterator.

    DynamoDB Local stamps its iterators with their creation time (base64 'shard|sequence|millis') and
    refuses ones older than 15 minutes, exactly as AWS does; we backdate the stamp to get a real expiry.
    """

    def __init__(self, real) -> None:
        self._real = real
        self._expire = threading.Event()
        self.errors: list[str] = []

    def __getattr__(self, name):
        return getattr(self._real, name)

    def expire(self) -> None:
        self._expire.set()

    def get_records(self, **request):
        if self._expire.is_set():
            self._expire.clear()
            request["ShardIterator"] = _backdated(request["ShardIterator"], minutes=16)
        try:
            return self._real.get_records(**request)
        except ClientError as error:
            self.errors.append(error.response["Error"]["Code"])
            raise


def _backdated(iterator: str, minutes: int) -> str:
    arn, serial, encoded = iterator.rsplit("|", 2)
    shard, sequence, created = base64.b64decode(encoded).decode().split("|")
    stamp = str(int(created) - minutes * 60_000).zfill(len(created))
    return "|".join([arn, serial, base64.b64encode(f"{shard}|{sequence}|{stamp}".encode()).decode()])


def test_an_expired_iterator_resumes_after_the_last_record_seen(feeds):
    streams = ExpiringStreams(dynamodb_streams_client())
    recorder = Recorder()
    started(feeds(recorder, streams_client=streams))
    first = new_message()
    assert recorder.wait_for_ids(first.messageId)
    streams.expire()
    second, third = new_message(), new_message()
    assert recorder.wait_for_ids(second.messageId, third.messageId)
    assert "ExpiredIteratorException" in streams.errors
    ids = [c.message_id for c in recorder.changes]
    assert sorted(ids) == sorted([first.messageId, second.messageId, third.messageId])  # nothing lost or repeated


def test_a_replaced_stream_is_followed_from_its_start(feeds):
    recorder = Recorder()
    feed = started(feeds(recorder))
    client = dynamodb_client()
    table_name = cf.message_table_name()
    before = new_message()
    assert recorder.wait_for_ids(before.messageId)
    client.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})
    client.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    after = new_message()  # possibly before the feed has even noticed the new stream: must not be missed
    assert recorder.wait_for_ids(after.messageId, timeout=5)
    assert feed.running


def test_hub_fans_out_to_every_subscriber_until_it_unsubscribes(feeds):
    hub = ChangeHub()
    first, second = Recorder(), Recorder()
    unsubscribe_first = hub.subscribe(first)
    hub.subscribe(second)
    hub.subscribe(Recorder(fail_first=99))  # a broken subscriber harms nobody
    started(feeds(hub.publish))
    one = new_message()
    assert first.wait_for_ids(one.messageId) and second.wait_for_ids(one.messageId)
    unsubscribe_first()
    unsubscribe_first()  # idempotent
    assert hub.subscriber_count == 2
    two = new_message()
    assert second.wait_for_ids(two.messageId)
    time.sleep(0.2)
    assert two.messageId not in {c.message_id for c in first.changes}


def test_start_change_hub_starts_one_feed_per_process():
    try:
        hub = cf.start_change_hub(get_settings())
        assert cf.start_change_hub(get_settings()) is hub
        feed = cf.change_feed()
        assert feed is not None and feed.wait_ready(10)
        assert cf.change_hub() is hub
        recorder = Recorder()
        unsubscribe = hub.subscribe(recorder)
        message = new_message()
        assert recorder.wait_for_ids(message.messageId)
        assert [c.message_id for c in recorder.changes].count(message.messageId) == 1  # one feed, not two
        unsubscribe()
    finally:
        cf.stop_change_hub()
    assert cf.change_hub() is None and cf.change_feed() is None
    cf.stop_change_hub()  # idempotent


def test_the_feed_rides_out_an_endpoint_outage_and_logs_it_once(caplog):
    """DynamoDB Local goes away (in memory: its tables with it) and comes back; init-db recreates them."""
    local = DynamoDBLocal(port=free_port(), db_dir=None)
    local.ensure_running()
    settings = get_settings().model_copy(update={"dynamodb_endpoint": local.endpoint})
    init_db(settings)
    client = dynamodb_client(settings)
    table_name = cf.message_table_name(settings)
    recorder = Recorder()
    feed = ChangeFeed(table_name, recorder, settings=settings, max_backoff=0.5)

    def put(message_id: str) -> None:
        now = utcnow()
        item = {"messageId": message_id, "channel": "sms", "direction": "inbound", "status": "received",
                "createdAt": now.isoformat(), "updatedAt": now.isoformat(), "day": now.strftime("%Y-%m-%d")}
        client.put_item(TableName=table_name, Item={k: {"S": v} for k, v in item.items()})

    try:
        assert started(feed)
        put("m-before-outage")
        assert recorder.wait_for_ids("m-before-outage")
        caplog.set_level(logging.INFO, logger=cf.__name__)
        local.stop()
        time.sleep(2.0)  # several failed polls and retries
        assert feed.running
        local.ensure_running()
        init_db(settings)
        put("m-after-outage")
        assert recorder.wait_for_ids("m-after-outage", timeout=10)
        outage_warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "retrying" in r.getMessage()]
        assert len(outage_warnings) == 1
        assert any("recovered" in r.getMessage() for r in caplog.records)
    finally:
        feed.stop()
        local.stop()


class FakeStreams:
    """A scripted stream: shard A closes (a rollover) and child B already holds a record when found."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shards: dict[str, dict] = {"A": {"parent": None, "records": [], "closed": False}}
        self.iterator_requests: list[tuple[str, str]] = []
        self.describe_pages = 0

    def add(self, shard: str, message_id: str) -> None:
        with self.lock:
            records = self.shards[shard]["records"]
            sequence = f"{len(records) + 1:021d}"
            records.append({
                "eventName": "INSERT",
                "dynamodb": {"Keys": {"messageId": {"S": message_id}}, "SequenceNumber": sequence,
                             "NewImage": {"messageId": {"S": message_id}, "status": {"S": "queued"}}},
            })

    def roll_over(self) -> None:
        with self.lock:
            self.shards["A"]["closed"] = True
            self.shards["B"] = {"parent": "A", "records": [], "closed": False}

    def describe_stream(self, StreamArn, ExclusiveStartShardId=None):  # noqa: N803 - boto3's names
        with self.lock:
            self.describe_pages += 1
            ids = sorted(self.shards)
            start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
            page = ids[start:start + 1]  # one shard per page: exercises pagination
            shards = []
            for shard_id in page:
                shard = {"ShardId": shard_id, "SequenceNumberRange": {"StartingSequenceNumber": "1"}}
                if self.shards[shard_id]["parent"]:
                    shard["ParentShardId"] = self.shards[shard_id]["parent"]
                if self.shards[shard_id]["closed"]:
                    shard["SequenceNumberRange"]["EndingSequenceNumber"] = "9"
                shards.append(shard)
            description = {"Shards": shards}
            if start + 1 < len(ids):
                description["LastEvaluatedShardId"] = page[-1]
            return {"StreamDescription": description}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):  # noqa: N803
        with self.lock:
            self.iterator_requests.append((ShardId, ShardIteratorType))
            position = len(self.shards[ShardId]["records"]) if ShardIteratorType == "LATEST" else 0
            return {"ShardIterator": f"{ShardId}:{position}"}

    def get_records(self, ShardIterator, Limit):  # noqa: N803
        with self.lock:
            shard_id, position = ShardIterator.split(":")
            shard = self.shards[shard_id]
            records = shard["records"][int(position):]
            end = len(shard["records"])
            done = shard["closed"] and not records
            return {"Records": records, **({} if done else {"NextShardIterator": f"{shard_id}:{end}"})}


class FakeTable:
    def describe_table(self, TableName):  # noqa: N803
        return {"Table": {"StreamSpecification": {"StreamEnabled": True}, "LatestStreamArn": "arn:fake"}}


def test_a_child_shard_found_later_is_read_from_its_start_after_its_parent():
    streams = FakeStreams()
    streams.add("A", "m-old")  # before start: not wanted
    recorder = Recorder()
    feed = ChangeFeed("Fake", recorder, client=FakeTable(), streams_client=streams, poll_interval=0.01)
    try:
        assert started(feed)
        streams.add("A", "m-parent")
        assert recorder.wait_for_ids("m-parent")
        streams.roll_over()
        streams.add("B", "m-child")  # written to the child before the feed knows the child exists
        assert recorder.wait_for_ids("m-child")
        assert [c.message_id for c in recorder.changes] == ["m-parent", "m-child"]
        assert streams.iterator_requests == [("A", "LATEST"), ("B", "TRIM_HORIZON")]
    finally:
        feed.stop()
