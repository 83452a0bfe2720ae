"""Against DynamoDB Local, AWS's own engine: schema, real transactions under concurrency, TTL filtering."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from backend.errors import Conflict
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.schema import all_table_specs, dynamodb_client, init_db
from backend.runtime.dynamodb_local import DynamoDBLocal
from backend.services.contacts import importer as contact_import
from backend.services.contacts import contacts
from backend.services.platform.audit import audit_row, resource_history
from tests.conftest import unique_email, unique_phone

TTL_TABLES = {"Message", "DLQMessage", "AuditLog", "RateLimitTracker", "VoiceCall"}


def test_init_db_creates_twelve_tables_with_indexes_and_ttl_and_is_idempotent():
    client = dynamodb_client()
    specs = all_table_specs()
    assert len(specs) == 12
    for spec in specs:
        table = client.describe_table(TableName=spec.table_name)["Table"]
        assert {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])} == {i.name for i in spec.indexes}
        ttl = client.describe_time_to_live(TableName=spec.table_name)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"] == "ENABLED") == (spec.short_name in TTL_TABLES)
    assert init_db() == []


def test_init_db_adds_an_index_missing_from_an_older_table():
    client = dynamodb_client()
    contact = next(s for s in all_table_specs() if s.short_name == "Contact")
    client.update_table(TableName=contact.table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byCreated"}}])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # index deletion finishes asynchronously (slower with many tables)
        indexes = client.describe_table(TableName=contact.table_name)["Table"].get("GlobalSecondaryIndexes", [])
        if "byCreated" not in {g["IndexName"] for g in indexes}:
            break
        time.sleep(0.2)
    else:
        pytest.fail("DynamoDB Local did not finish deleting the index within 60 s")
    assert f"added index {contact.table_name}.byCreated" in init_db()


def test_concurrent_creates_of_one_phone_have_exactly_one_winner(operator):
    phone = unique_phone()

    def attempt(i: int):
        try:
            return contacts.create_contact(operator, {"name": f"Racer {i}", "phone": phone}).contact_id
        except Conflict:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(16)))
    winners = [r for r in results if r]
    assert len(winners) == 1
    assert [c.contact_id for c in contacts.search_contacts(operator, phone).items] == winners
    assert len(contacts.search_contacts(operator, "racer", limit=100).items) == 1


def test_concurrent_updates_do_not_lose_writes(operator):
    ann = contacts.create_contact(operator, {"name": "Ann", "phone": unique_phone()})

    def rename(i: int):
        try:
            contacts.update_contact(operator, ann.contact_id, {"name": f"Ann {i}"})
            return True
        except Conflict:
            return False

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(rename, range(12)))
    history = [e for e in contacts.contact_history(operator, ann.contact_id) if e.action == "contact.update"]
    assert len(history) == sum(outcomes)  # every accepted update is recorded; refused ones changed nothing


def test_expired_rows_are_dropped_on_read_before_dynamodb_deletes_them(operator):
    resource = unique_email()
    fresh = audit_row(operator, "contact.update", "contact", resource, ["name"])
    stale = audit_row(operator, "contact.update", "contact", resource, ["phone"], at=utcnow() - timedelta(days=200))
    fresh.save()
    stale.save()
    assert AuditLogModel.count(f"contact#{resource}") == 2  # the engine still holds the expired row
    assert [e.changed_fields for e in resource_history("contact", resource)] == [["name"]]


def test_import_writes_in_parallel_transactions(operator):
    rows = "\n".join(f"Person {i},+4479{i:08d},p{i}@example.com" for i in range(1, 301))
    plan = contact_import.plan_import(operator, ("name,phone,email\n" + rows).encode())
    summary = contact_import.run_import(operator, plan)
    assert summary.created == 300
    again = contact_import.plan_import(operator, ("name,phone,email\n" + rows).encode())
    assert again.count(contact_import.RowStatus.EXISTING) == 300


def test_dynamodb_local_is_never_started_twice(dynamodb_local):
    second = DynamoDBLocal(port=dynamodb_local.port, db_dir=None)
    assert second.ensure_running() is False
    assert second.process is None


def test_it_listens_on_the_loopback_address_only(dynamodb_local):
    """The engine would listen on every interface, with no credentials; the launcher keeps it on 127.0.0.1."""
    import psutil

    listening = [c.laddr for c in psutil.Process(dynamodb_local.process.pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening, "DynamoDB Local has no listening socket"
    assert {address.ip for address in listening} <= {"127.0.0.1", "::ffff:127.0.0.1"}, listening
    assert {address.port for address in listening} == {dynamodb_local.port}


def test_missing_java_gives_an_install_hint(monkeypatch, tmp_path):
    import backend.runtime.dynamodb_local as module

    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    local = DynamoDBLocal(port=1, db_dir=tmp_path)
    with pytest.raises(module.DynamoDBLocalError, match="apt-get install -y openjdk-17-jdk-headless"):
        local._start()
