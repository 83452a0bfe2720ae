"""What the app process does differently in AWS (the web tier, issue 15): it runs no local schedule (EventBridge
runs it on the functions), its counters feed only listens (messages-read counts on the stream's event source
mapping: two counters with their own claims would count twice), and two processes starting at once both get
past enabling a table's TTL."""
from __future__ import annotations

import boto3
import pytest

from botocore.exceptions import ClientError

from backend.models import schema
from backend.models.schema import all_table_specs, init_db
from backend.runtime import counters_feed, messaging
from backend.settings import get_settings, reset_settings_cache


@pytest.fixture
def env(monkeypatch):
    def use(name: str):
        monkeypatch.setenv("WECARE_ENV", name)
        reset_settings_cache()
        return get_settings()
    yield use
    monkeypatch.undo()
    reset_settings_cache()


class FakeFeed:
    running = True

    def __init__(self, *args, **options):
        self.options = options

    def start(self):
        return None

    def stop(self, timeout=None):
        self.running = False


def test_the_counters_feed_counts_locally_and_in_aws_only_shares_the_live_feed(env, monkeypatch):
    built = []
    monkeypatch.setattr(counters_feed, "feed_for", lambda settings, publish, **options: built.append(options) or FakeFeed())
    monkeypatch.setattr(counters_feed, "start_change_hub", lambda settings=None: "the process's live hub")
    monkeypatch.setattr(counters_feed, "_feed", None)
    monkeypatch.setattr(counters_feed, "_pid", None)
    assert counters_feed.start_counters_feed(env("aws")) == "the process's live hub" and built == []
    counters_feed.start_counters_feed(env("local"))
    assert "on_records" in built[0] and "start_from" in built[0]  # locally it counts, from its checkpoint


@pytest.mark.parametrize("where, scheduled", [("local", True), ("aws", False)])
def test_the_minute_schedule_runs_only_locally(env, monkeypatch, where, scheduled):
    env(where)
    started = []
    monkeypatch.setattr(messaging, "start_local_scheduler", lambda: started.append(1) or "scheduler")
    monkeypatch.setattr(messaging, "send_queue", lambda: object())  # not the local queue: no workers, no sweep
    runtime = messaging.start_messaging()
    assert (runtime.scheduler == "scheduler") is scheduled and bool(started) is scheduled


def test_a_ttl_another_process_enabled_first_is_not_an_error(monkeypatch):
    spec = next(spec for spec in all_table_specs() if spec.ttl_attribute)
    init_db()
    client = boto3.client("dynamodb", region_name="us-east-1")
    monkeypatch.setattr(schema, "dynamodb_client", lambda settings=None: client)
    # what a second process sees when the first one's update lands between its read and its own update
    monkeypatch.setattr(client, "describe_time_to_live",
                        lambda **kwargs: {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})

    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "TimeToLive is already enabled"}},
                          "UpdateTimeToLive")

    monkeypatch.setattr(client, "update_time_to_live", refuse)
    report = init_db()  # the refusal means the TTL is on: nothing to report, nothing raised
    assert not any(line.startswith("enabled TTL") for line in report)

    def broken(**kwargs):
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "Attribute name is invalid"}},
                          "UpdateTimeToLive")

    monkeypatch.setattr(client, "update_time_to_live", broken)
    with pytest.raises(ClientError):
        init_db()  # any other refusal still stops the start
