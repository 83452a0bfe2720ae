"""On DynamoDB Local: a data directory from before the team inbox (a Contact table with `byActivity`, no
`byConversationStatus`; users without the `byTeam` key) is brought up to date at start-up: the old index is
dropped, the new one added, earlier conversations are open and earlier users are on the team."""
from __future__ import annotations

import pytest

from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.schema import dynamodb_client, init_db, table_spec
from backend.models.user import UserModel
from backend.services.messaging import conversations
from backend.services.platform import team
from tests.integration.conftest import private_dynamodb_local


dynamodb_local = pytest.fixture(scope="module", name="dynamodb_local")(private_dynamodb_local)


def _older_contact_table(client) -> str:
    """The Contact table as it was: `byActivity` (INBOX partition) instead of `byConversationStatus`."""
    request = table_spec(ContactModel).create_request()
    request["GlobalSecondaryIndexes"] = [g for g in request["GlobalSecondaryIndexes"] if g["IndexName"] != "byConversationStatus"]
    request["GlobalSecondaryIndexes"].append({
        "IndexName": "byActivity",
        "KeySchema": [{"AttributeName": "inboxPartition", "KeyType": "HASH"}, {"AttributeName": "lastActivityAt", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    })
    used = {k["AttributeName"] for g in request["GlobalSecondaryIndexes"] + [request] for k in g["KeySchema"]}
    request["AttributeDefinitions"] = [d for d in request["AttributeDefinitions"] if d["AttributeName"] != "conversationStatus"]
    request["AttributeDefinitions"].append({"AttributeName": "inboxPartition", "AttributeType": "S"})
    request["AttributeDefinitions"] = [d for d in request["AttributeDefinitions"] if d["AttributeName"] in used]
    client.delete_table(TableName=request["TableName"])
    client.get_waiter("table_not_exists").wait(TableName=request["TableName"])
    client.create_table(**request)
    client.get_waiter("table_exists").wait(TableName=request["TableName"])
    return request["TableName"]


def test_start_up_brings_an_earlier_inbox_up_to_date(dynamodb_local, viewer):
    client = dynamodb_client()
    table = _older_contact_table(client)
    now = utcnow()
    earlier = ContactModel(contactId="c" * 32, name="Earlier Customer", phone="+447700900111", createdAt=now, updatedAt=now,
                           lastActivityAt=now, lastPreview="hello from before", lastDirection="inbound", lastChannel="sms")
    earlier.save()
    UserModel(userId="u-earlier", email="earlier@example.com", role="Operator", createdAt=now, updatedAt=now).save()

    actions = init_db()

    assert f"dropped index {table}.byActivity (no longer declared)" in actions
    assert f"added index {table}.byConversationStatus" in actions
    assert conversations.open_legacy_conversations() == 1
    assert conversations.open_legacy_conversations() == 0  # once per installation
    assert [c.name for c in conversations.team_inbox(viewer, view="unassigned").items] == ["Earlier Customer"]
    assert team.index_earlier_users() >= 1
    assert "u-earlier" in {m.user_id for m in team.team_members(viewer)}
    assert init_db() == []
