"""The message counters' storage, in the SystemConfig table (they are no table of their own).

One item per UTC day, `configKey` = "stats#YYYY-MM-DD", holds every counter of that day as a number attribute
named "<channel>|<direction>|<metric>" (e.g. "whatsapp|outbound|delivered"): a dashboard reads today with one
GetItem and 90 days with one BatchGetItem, and a day's item stays small (a few hundred numbers at most).
Counters change only by ADD inside a transaction that also moves the reader's checkpoint
("stats.checkpoint#<shard>" holds the sequence number of the last stream record counted), so a batch of stream
records is counted exactly once however often it is read, by however many processes.

The names are dynamic, so this is written with the low-level client rather than a PynamoDB model; the items
keep SystemConfig's own `value` and `updatedAt` so the table reads uniformly.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from datetime import date

from botocore.exceptions import ClientError

from pynamodb.attributes import UTCDateTimeAttribute

from backend.models.base import utcnow
from backend.models.runtime_config import SystemConfigModel
from backend.models.schema import dynamodb_client
from backend.settings import get_settings

DAY_PREFIX = "stats#"
CHECKPOINT_PREFIX = "stats.checkpoint#"
MAX_DAYS_PER_BATCH_GET = 100
_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


class CheckpointMoved(Exception):
    """Another reader counted past the checkpoint this batch started from: read it again and count the rest."""


def client():
    """One low-level client per endpoint and process (boto3 clients are thread-safe)."""
    settings = get_settings()
    key = (settings.effective_dynamodb_endpoint(), settings.aws_region)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = dynamodb_client(settings)
        return _clients[key]


def _stamp() -> str:
    return UTCDateTimeAttribute().serialize(utcnow())  # as SystemConfigModel.updatedAt is stored


def _table() -> str:
    return SystemConfigModel.Meta.table_name


def day_key(day: date | str) -> str:
    return f"{DAY_PREFIX}{day if isinstance(day, str) else day.isoformat()}"


def read_checkpoint(shard: str) -> str | None:
    item = client().get_item(TableName=_table(), Key={"configKey": {"S": CHECKPOINT_PREFIX + shard}},
                             ConsistentRead=True).get("Item")
    return item["sequence"]["S"] if item and "sequence" in item else None


def add_counts(deltas: Mapping[str, Mapping[str, int]], *, shard: str, previous: str | None, sequence: str) -> None:
    """Add `deltas` (day → {counter name: amount}) and move `shard`'s checkpoint from `previous` to `sequence`,
    all or nothing. Raises CheckpointMoved when the checkpoint is no longer `previous`."""
    now = _stamp()
    items = []
    for day, counts in sorted(deltas.items()):
        counts = {name: amount for name, amount in counts.items() if amount}
        if not counts:
            continue
        names = {f"#c{i}": name for i, name in enumerate(sorted(counts))}
        values = {f":c{i}": {"N": str(counts[name])} for i, name in enumerate(sorted(counts))}
        items.append({"Update": {
            "TableName": _table(),
            "Key": {"configKey": {"S": day_key(day)}},
            "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values))
                                + " SET #value = if_not_exists(#value, :value), #updatedAt = :now",
            "ExpressionAttributeNames": {**names, "#value": "value", "#updatedAt": "updatedAt"},
            "ExpressionAttributeValues": {**values, ":value": {"S": json.dumps({"kind": "message counters"})},
                                          ":now": {"S": now}},
        }})
    condition = "attribute_not_exists(#sequence)" if previous is None else "#sequence = :previous"
    checkpoint = {"Update": {
        "TableName": _table(),
        "Key": {"configKey": {"S": CHECKPOINT_PREFIX + shard}},
        "UpdateExpression": "SET #sequence = :sequence, #value = :value, #updatedAt = :now",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#sequence": "sequence", "#value": "value", "#updatedAt": "updatedAt"},
        "ExpressionAttributeValues": {":sequence": {"S": sequence}, ":now": {"S": now},
                                      ":value": {"S": json.dumps({"kind": "message counters' stream position"})},
                                      **({":previous": {"S": previous}} if previous is not None else {})},
    }}
    try:
        client().transact_write_items(TransactItems=[*items, checkpoint])
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if error.response["Error"]["Code"] == "TransactionCanceledException" and any(
            reason.get("Code") == "ConditionalCheckFailed" for reason in reasons
        ):
            raise CheckpointMoved(shard) from None
        raise


def read_days(days: Iterable[date | str]) -> dict[str, dict[str, int]]:
    """Every counter of each day asked for ("YYYY-MM-DD" → {name: count}); a day nothing happened on is absent."""
    keys = list(dict.fromkeys(day_key(day) for day in days))
    found: dict[str, dict[str, int]] = {}
    for start in range(0, len(keys), MAX_DAYS_PER_BATCH_GET):
        request = {_table(): {"Keys": [{"configKey": {"S": key}} for key in keys[start:start + MAX_DAYS_PER_BATCH_GET]],
                              "ConsistentRead": True}}
        while request:
            response = client().batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(_table(), []):
                day = item["configKey"]["S"][len(DAY_PREFIX):]
                found[day] = {name: int(value["N"]) for name, value in item.items() if "|" in name and "N" in value}
            request = response.get("UnprocessedKeys") or None
    return found


def replace_days(counts: Mapping[str, Mapping[str, int]]) -> None:
    """Write whole days (a recount, offline): each day's item becomes exactly `counts[day]`."""
    now = _stamp()
    for day, values in counts.items():
        item = {"configKey": {"S": day_key(day)}, "value": {"S": json.dumps({"kind": "message counters"})},
                "updatedAt": {"S": now}}
        item.update({name: {"N": str(amount)} for name, amount in values.items() if amount})
        client().put_item(TableName=_table(), Item=item)
