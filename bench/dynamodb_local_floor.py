"""Benchmark: what DynamoDB Local itself costs per written item, with nothing of ours in the way.

    PYTHONPATH=. .venv/bin/python bench/dynamodb_local_floor.py [--items 6000]

Conditional puts of tiny items into a table without indexes, in TransactWriteItems calls of 1, 25 and
100 items, then the same into a table with the Contact table's three indexes. DynamoDB Local runs every
write on one SQLite thread and re-reads the table's schema (JSON) for each item, so the cost per item is
the engine's floor: no design of ours writes an item for less. The figures bound what any write-heavy
target can reach on this machine (a contact import writes three items per contact: the contact and its
phone and email claims).
"""
from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.local_dynamodb import cpu_sample, local_database, machine_load  # noqa: E402

WARMUP_ITEMS = 6_000
INDEXES = ("byName", "byCreated", "byConversationStatus")


def create_table(client, name: str, indexes: tuple[str, ...]) -> None:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    extra = {}
    if indexes:
        attributes += [{"AttributeName": f"{index}Key", "AttributeType": "S"} for index in indexes]
        extra["GlobalSecondaryIndexes"] = [
            {"IndexName": index, "KeySchema": [{"AttributeName": f"{index}Key", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}
            for index in indexes
        ]
    client.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST", **extra,
    )


def write(client, table: str, indexes: tuple[str, ...], items: int, per_call: int) -> None:
    for _ in range(0, items, per_call):
        puts = []
        for _ in range(per_call):
            item = {"pk": {"S": uuid.uuid4().hex}, "name": {"S": "Ann Example"}}
            item.update({f"{index}Key": {"S": uuid.uuid4().hex[:8]} for index in indexes})
            puts.append({"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}})
        client.transact_write_items(TransactItems=puts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=6_000, help="items written per measurement")
    args = parser.parse_args()
    print(f"Machine: {machine_load()}")
    with local_database("floor") as database:
        from backend.models.schema import dynamodb_client

        client = dynamodb_client()
        for name, indexes in (("floor-plain", ()), ("floor-indexed", INDEXES)):
            create_table(client, name, indexes)
        write(client, "floor-plain", (), WARMUP_ITEMS, 100)  # the JIT settles before anything is timed
        write(client, "floor-indexed", INDEXES, WARMUP_ITEMS, 100)
        print(f"{'table':<34} {'items/call':>10} {'DynamoDB Local CPU/item':>24} {'items/s (one client)':>21}")
        floor_ms = None
        for name, indexes, label in (("floor-plain", (), "no index"), ("floor-indexed", INDEXES, "3 indexes (as Contact)")):
            for per_call in (1, 25, 100):
                start = cpu_sample(database)
                write(client, name, indexes, args.items, per_call)
                end = cpu_sample(database)
                java_ms = 1000 * (end.java_cpu - start.java_cpu) / args.items
                rate = args.items / (end.wall - start.wall)
                print(f"{label:<34} {per_call:>10} {java_ms:>21.3f} ms {rate:>21,.0f}")
                if not indexes and per_call == 100:
                    floor_ms = java_ms
        print(f"SUMMARY dynamodb_local_floor: {floor_ms:.3f} ms of DynamoDB Local CPU per item at best "
              f"(100-item transactions, no index); a contact written as 3 items costs at least {3 * floor_ms:.2f} ms, "
              f"at most {1000 / (3 * floor_ms):,.0f} contacts/s on its single write thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
