"""The audit log, readable: each search reads the key its filters name (the table's key for a resource, byActor for
a user, byDay otherwise), never a Scan; pages follow one another without gaps or repeats; the dates bound what is
read and one request reads a bounded amount; expired rows never show; the detail lays out before/after; the CSV
is defused and its export audited; only Admins read it; a bad filter names its field."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from backend.api import audit_api
from backend.api.http import ApiRequest, invoke
from backend.errors import NotFound, PermissionDenied, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.user import UserModel
from backend.services.platform import audit_log, users
from backend.services.platform.access import Actor, Role
from backend.services.platform.audit import audit_row

PASSWORD = "correct horse battery"


class Reads:
    """Which key each search read (the table's, byActor, byDay), how many Query calls; a Scan fails the test."""

    def __init__(self, monkeypatch):
        self.used: list[str] = []  # per Query call: the index's name, or "table" for the table's own key
        query = AuditLogModel.query  # the indexes' queries go through it too, naming themselves

        def counted(*args, **kwargs):
            self.used.append(kwargs.get("index_name") or "table")
            return query(*args, **kwargs)

        monkeypatch.setattr(AuditLogModel, "query", counted)
        monkeypatch.setattr(AuditLogModel, "scan", _no_scan)
        monkeypatch.setattr(UserModel, "scan", _no_scan)

    def reset(self) -> None:
        self.used = []


def _no_scan(*args, **kwargs):
    raise AssertionError("the audit log must not scan a table")


@pytest.fixture
def reads(monkeypatch) -> Reads:
    return Reads(monkeypatch)


def write(actor: Actor, action: str, resource: str, *, days_ago: float = 0, details: dict | None = None,
          changed=(), expired: bool = False) -> AuditLogModel:
    """One audit row `days_ago` days back (its resource "type#id"); `expired`: past its TTL, not yet deleted."""
    kind, resource_id = resource.split("#", 1)
    row = audit_row(actor, action, kind, resource_id, changed, details, at=utcnow() - timedelta(days=days_ago))
    if expired:
        row.expiresAt = utcnow() - timedelta(minutes=1)
    row.save()
    return row


def ids(page) -> list[str]:
    return [entry.audit_id for entry in page.items]


def everything(admin: Actor, **filters) -> list[str]:
    """Every matching row's id over all pages (at most 50 requests)."""
    found, token = [], None
    for _ in range(50):
        page = audit_log.search_audit(admin, **filters, next_token=token)
        found += ids(page)
        token = page.next_token
        if token is None:
            return found
    raise AssertionError("the search never ended")


# ---------------------------------------------------------------- which key


def test_a_resource_is_read_by_the_table_key_between_the_dates(admin, operator, reads):
    old = write(operator, "contact.update", "contact#c1", days_ago=20)
    first = write(operator, "contact.create", "contact#c1", days_ago=3)
    second = write(admin, "contact.update", "contact#c1", days_ago=1)
    write(operator, "contact.update", "contact#c2", days_ago=1)
    reads.reset()

    page = audit_log.search_audit(admin, resource_type="contact", resource_id="c1")
    assert page.read == "resource" and set(reads.used) == {"table"}
    assert ids(page) == [second.auditId, first.auditId]  # newest first; 20 days ago is outside the default week
    wider = audit_log.search_audit(admin, resource_type="contact", resource_id="c1", start=(utcnow() - timedelta(days=30)).date())
    assert ids(wider) == [second.auditId, first.auditId, old.auditId]
    # the other filters are tested on the rows read from that key
    mine = audit_log.search_audit(admin, resource_type="contact", resource_id="c1", user=operator.user_id)
    assert ids(mine) == [first.auditId] and set(reads.used) == {"table"}


def test_a_user_is_read_by_byactor_and_an_email_is_resolved_to_the_user(admin, reads):
    ann = users.create_user(admin, "ann@example.com", "Operator", PASSWORD)
    as_ann = Actor(user_id=ann.user_id, email="ann@example.com", role=Role.OPERATOR)
    done = write(as_ann, "contact.create", "contact#c1", days_ago=2)
    write(admin, "contact.create", "contact#c2", days_ago=2)
    reads.reset()

    by_email = audit_log.search_audit(admin, user="  Ann@Example.com ")
    assert by_email.read == "user" and set(reads.used) == {"byActor"}
    assert ids(by_email) == [done.auditId]
    assert ids(audit_log.search_audit(admin, user=ann.user_id)) == [done.auditId]
    assert ids(audit_log.search_audit(admin, user=ann.user_id, action="contact.update")) == []
    with pytest.raises(ValidationError) as unknown:
        audit_log.search_audit(admin, user="nobody@example.com")
    assert unknown.value.field == "user"


def test_without_a_user_or_resource_it_walks_byday_from_the_end_back_with_the_filters_on_the_rows(admin, reads):
    write(admin, "contact.create", "contact#old", days_ago=8)  # before the default week
    made = write(admin, "contact.create", "contact#c1", days_ago=6)
    changed = write(admin, "contact.update", "contact#c1", days_ago=2)
    note = write(admin, "conversation.note", "contact#c1", days_ago=1)
    sync = write(admin, "templates.sync", "templates#catalogue", days_ago=0)
    reads.reset()

    page = audit_log.search_audit(admin)
    assert page.read == "day" and set(reads.used) == {"byDay"} and len(reads.used) == 7  # one Query a day
    assert ids(page) == [sync.auditId, note.auditId, changed.auditId, made.auditId]
    assert (page.start, page.end) == ((utcnow() - timedelta(days=6)).date(), utcnow().date())
    assert ids(audit_log.search_audit(admin, action="Contact.")) == [changed.auditId, made.auditId]  # a prefix, any case
    assert ids(audit_log.search_audit(admin, resource_type="templates")) == [sync.auditId]
    day = (utcnow() - timedelta(days=2)).date().isoformat()
    assert ids(audit_log.search_audit(admin, start=day, end=day)) == [changed.auditId]
    assert set(reads.used) == {"byDay"}


# ---------------------------------------------------------------- paging and bounds


def test_pages_follow_one_another_newest_first_and_the_last_has_no_token(admin):
    rows = [write(admin, "contact.update", f"contact#c{n}", days_ago=n * 0.7) for n in range(8)]
    newest_first = [row.auditId for row in rows]
    first = audit_log.search_audit(admin, limit=3)
    second = audit_log.search_audit(admin, limit=3, next_token=first.next_token)
    third = audit_log.search_audit(admin, limit=3, next_token=second.next_token)
    assert ids(first) + ids(second) + ids(third) == newest_first
    assert third.next_token is None and not third.truncated
    assert everything(admin, limit=2, action="contact.update") == newest_first
    with pytest.raises(ValidationError) as other:  # a token continues only the search that issued it
        audit_log.search_audit(admin, limit=3, action="contact", next_token=first.next_token)
    assert other.value.field == "nextToken"
    with pytest.raises(ValidationError) as forged:
        audit_log.search_audit(admin, next_token="not-a-token")
    assert forged.value.field == "nextToken"


def test_a_sparse_search_over_180_days_reads_a_month_of_days_a_request_and_says_how_far_back(admin, reads):
    rare = write(admin, "webhook.secret.rotate", "webhook#inbound", days_ago=100)
    write(admin, "contact.create", "contact#c1", days_ago=1)
    start = (utcnow() - timedelta(days=179)).date()
    reads.reset()

    first = audit_log.search_audit(admin, action="webhook.", start=start)
    assert ids(first) == [] and first.truncated and first.next_token
    assert len(reads.used) == audit_log.DAY_QUERIES_MAX
    assert first.searched_to == (utcnow() - timedelta(days=audit_log.DAY_QUERIES_MAX - 1)).date()
    found, token, requests = [], first.next_token, 1
    while token:
        reads.reset()
        page = audit_log.search_audit(admin, action="webhook.", start=start, next_token=token)
        assert len(reads.used) <= audit_log.DAY_QUERIES_MAX
        found, token, requests = found + ids(page), page.next_token, requests + 1
    assert found == [rare.auditId] and requests == 6  # 180 days, 31 a request


def test_one_request_reads_at_most_read_max_rows_and_its_token_reads_on(admin, monkeypatch):
    monkeypatch.setattr(audit_log, "READ_MAX", 5)
    noise = [write(admin, "contact.update", f"contact#n{n}", days_ago=0.01 * n) for n in range(7)]
    wanted = write(admin, "user.create", "user#u1", days_ago=1)
    first = audit_log.search_audit(admin, action="user.")
    assert (ids(first), first.examined, first.truncated) == ([], 5, True) and first.next_token
    second = audit_log.search_audit(admin, action="user.", next_token=first.next_token)
    assert ids(second) == [wanted.auditId] and second.next_token is None
    assert everything(admin, limit=3) == [row.auditId for row in noise] + [wanted.auditId]


def test_expired_rows_are_hidden_from_every_read(admin):
    gone = write(admin, "contact.update", "contact#c1", days_ago=1, expired=True)
    kept = write(admin, "contact.update", "contact#c1", days_ago=1)
    assert ids(audit_log.search_audit(admin)) == [kept.auditId]
    assert ids(audit_log.search_audit(admin, resource_type="contact", resource_id="c1")) == [kept.auditId]
    assert ids(audit_log.search_audit(admin, user=admin.user_id)) == [kept.auditId]
    with pytest.raises(NotFound):
        audit_log.get_entry(admin, audit_log.entry_id_of(gone))
    text, count, _ = audit_log.export_audit_csv(admin)
    assert count == 1 and gone.auditId not in text


# ---------------------------------------------------------------- the detail


def test_the_detail_shows_before_and_after_side_by_side_and_other_details_as_rows(admin):
    config = write(admin, "config.change", "config#outbox.sendBy", changed=["value"],
                   details={"before": {"hours": 24, "note": "default"}, "after": {"hours": 12, "note": "default"}, "via": "ui"})
    labels = write(admin, "inbox.labels", "config#inbox.labels",
                   details={"before": [], "after": [{"name": "VIP", "color": "red"}, {"name": "Late", "color": "gray"}]})
    plain = write(admin, "contact.update", "contact#c1", changed=["name"], details={"via": "api", "tags": ["a", "b"]})

    detail = audit_log.get_entry(admin, audit_log.entry_id_of(config))
    assert detail.has_before_after and detail.changed_fields == ["value"]
    assert [(c.field, c.before, c.after, c.changed) for c in detail.changes] == [
        ("hours", "24", "12", True), ("note", "default", "default", False)]
    assert [(f.key, f.value) for f in detail.facts] == [("via", "ui")]
    listed = audit_log.get_entry(admin, audit_log.entry_id_of(labels))
    assert [(c.field, c.before, c.after) for c in listed.changes] == [
        ("value", "(none)", "name: VIP · color: red\nname: Late · color: gray")]
    other = audit_log.get_entry(admin, audit_log.entry_id_of(plain))
    assert not other.has_before_after and other.changes == []
    assert [(f.key, f.value) for f in other.facts] == [("via", "api"), ("tags", "a, b")]
    assert other.expires_at is not None and round((other.expires_at - other.at) / timedelta(days=1)) == 180
    for bad in ("", "nonsense", audit_log.entry_id_of(plain)[:-4]):
        with pytest.raises(NotFound):
            audit_log.get_entry(admin, bad)


# ---------------------------------------------------------------- export


def test_the_export_defuses_every_cell_and_is_audited_once_while_reading_is_not(admin):
    sneaky = Actor(user_id="u-sneaky", email="=cmd@example.com", role=Role.OPERATOR)
    write(sneaky, "contact.update", "contact#=HYPERLINK(\"http://x\")", details={"name": "+1 evil"})
    write(admin, "contact.create", "contact#c2")
    before = sum(1 for _ in AuditLogModel.by_day.query(utcnow().date().isoformat()))
    audit_log.search_audit(admin)
    audit_log.get_entry(admin, audit_log.search_audit(admin).items[0].entry_id)
    assert sum(1 for _ in AuditLogModel.by_day.query(utcnow().date().isoformat())) == before  # reading wrote nothing

    text, count, complete = audit_log.export_audit_csv(admin, action="contact.")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(audit_log.EXPORT_COLUMNS) and count == 2 and complete and len(rows) == 3
    sneaky_row = next(r for r in rows[1:] if r[2] == "u-sneaky")
    assert sneaky_row[1] == "'=cmd@example.com" and sneaky_row[6] == "'=HYPERLINK(\"http://x\")"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    exported = [r for r in AuditLogModel.by_day.query(utcnow().date().isoformat()) if r.action == "audit.export"]
    assert len(exported) == 1 and exported[0].actorId == admin.user_id
    assert exported[0].details["rows"] == 2 and exported[0].details["filters"]["action"] == "contact."
    _, capped, partial = audit_log.export_audit_csv(admin, max_rows=1)
    assert (capped, partial) == (1, False)


# ---------------------------------------------------------------- who and what


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_only_admins_read_or_export_the_log(who, request):
    actor = request.getfixturevalue(who)
    for call in (lambda: audit_log.search_audit(actor), lambda: audit_log.export_audit_csv(actor),
                 lambda: audit_log.get_entry(actor, "x")):
        with pytest.raises(PermissionDenied):
            call()


def _days_ago(n: int) -> str:
    return (utcnow() - timedelta(days=n)).date().isoformat()


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"start": "2024-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": _days_ago(2), "end": _days_ago(5)}, "end"),  # end before start
        ({"start": _days_ago(181)}, "start"),  # before what the table keeps
        ({"start": _days_ago(180), "end": (utcnow() + timedelta(days=1)).date().isoformat()}, "start"),  # 181 days
        ({"end": (utcnow() + timedelta(days=3)).date().isoformat()}, "end"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"resource_id": "c1"}, "resourceType"),
        ({"resource_type": "contact#x"}, "resourceType"),
        ({"user": "not a user!"}, "user"),
        ({"user": "ann@"}, "user"),
        ({"action": "x" * 101}, "action"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(admin, filters, field):
    with pytest.raises(ValidationError) as refused:
        audit_log.search_audit(admin, **filters)
    assert refused.value.field == field


def test_the_action_catalog_lists_what_the_services_write():
    import re
    from pathlib import Path

    assert {"contact.update", "dlq.replay.send_anyway", "audit.export", "inbox.labels"} <= set(audit_log.ACTIONS)
    assert list(audit_log.ACTIONS) == sorted(set(audit_log.ACTIONS))
    services = Path(__file__).resolve().parents[2] / "backend" / "services"
    written = {match for path in services.rglob("*.py")
               for match in re.findall(r'audit_row\([^,()]+, *"([a-z_.]+)"', path.read_text())}
    assert written and written - set(audit_log.ACTIONS) == set()  # every action a service names, suggested


# ---------------------------------------------------------------- REST


def test_the_endpoints_answer_the_page_the_entry_and_a_csv_download(admin, viewer):
    row = write(admin, "contact.update", "contact#c1", details={"before": {"name": "A"}, "after": {"name": "B"}})
    listed = invoke(audit_api.search, admin, ApiRequest("GET", query={"action": "contact.", "limit": "10"}))
    assert listed.status == 200 and [i["auditId"] for i in listed.body["items"]] == [row.auditId]
    assert listed.body["read"] == "day" and listed.body["nextToken"] is None and listed.body["items"][0]["hasBeforeAfter"]
    entry_id = listed.body["items"][0]["entryId"]
    read = invoke(audit_api.read_entry, admin, ApiRequest("GET", path_params={"entryId": entry_id}))
    assert read.status == 200 and read.body["changes"] == [{"field": "name", "before": "A", "after": "B", "changed": True}]
    exported = invoke(audit_api.export, admin, ApiRequest("GET", query={"action": "contact."}))
    assert exported.status == 200 and exported.media_type.startswith("text/csv")
    assert exported.headers["Content-Disposition"].startswith("attachment;") and exported.headers["X-Audit-Rows"] == "1"
    assert exported.body_bytes().decode().splitlines()[0].startswith("time,actorEmail")
    assert invoke(audit_api.search, viewer, ApiRequest("GET")).status == 403
    bad = invoke(audit_api.search, admin, ApiRequest("GET", query={"start": "nope"}))
    assert bad.status == 422 and bad.body["error"]["field"] == "start"
