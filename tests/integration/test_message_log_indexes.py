"""On DynamoDB Local: init_db brings a Message table from before the log's indexes up to date (a data directory
from an earlier run), and the indexes it builds cover the messages already stored."""
from __future__ import annotations

from datetime import timedelta

import pytest

from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.models.schema import dynamodb_client, init_db, table_spec
from backend.services.messaging import messages
from backend.services.messaging.rows import new_message_id, new_message_row
from tests.integration.conftest import private_dynamodb_local

NEW_INDEXES = ("byStatus", "byChannel", "byDirection")


dynamodb_local = pytest.fixture(scope="module", name="dynamodb_local")(private_dynamodb_local)


def _older_message_table(client) -> str:
    """The Message table as it was: byDay keys-only, no status/channel/direction indexes."""
    request = table_spec(MessageModel).create_request()
    request["GlobalSecondaryIndexes"] = [g for g in request["GlobalSecondaryIndexes"] if g["IndexName"] not in NEW_INDEXES]
    for index in request["GlobalSecondaryIndexes"]:
        if index["IndexName"] == "byDay":
            index["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    used = {k["AttributeName"] for g in request["GlobalSecondaryIndexes"] + [request] for k in g["KeySchema"]}
    request["AttributeDefinitions"] = [d for d in request["AttributeDefinitions"] if d["AttributeName"] in used]
    client.delete_table(TableName=request["TableName"])
    client.get_waiter("table_not_exists").wait(TableName=request["TableName"])
    client.create_table(**request)
    client.get_waiter("table_exists").wait(TableName=request["TableName"])
    return request["TableName"]


def test_init_db_adds_the_log_indexes_to_an_older_table_and_they_cover_its_rows(viewer):
    client = dynamodb_client()
    table = _older_message_table(client)
    now = utcnow()
    for n, (channel, status) in enumerate((("sms", "FAILED"), ("whatsapp", "DELIVERED"), ("sms", "DELIVERED"))):
        new_message_row(message_id=new_message_id(), channel=channel, direction="outbound", status=status,
                        now=now - timedelta(minutes=n), body=f"old message {n}").save()

    actions = init_db()

    assert f"dropped index {table}.byDay (KEYS_ONLY projection)" in actions
    assert {f"added index {table}.{name}" for name in (*NEW_INDEXES, "byDay")} <= set(actions)
    described = {g["IndexName"]: g for g in client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]}
    assert sorted(described["byDay"]["Projection"]["NonKeyAttributes"]) == sorted(MessageModel.by_day.Meta.projection.non_key_attributes)
    assert init_db() == []
    assert [m.body for m in messages.message_log(viewer, status="DELIVERED", channel="sms").items] == ["old message 2"]
    assert [m.body for m in messages.message_log(viewer, channel="sms").items] == ["old message 0", "old message 2"]
    assert [m.body for m in messages.message_log(viewer, q="MESSAGE 1").items] == ["old message 1"]
