"""/admin/audit without a browser: an Admin sees the last week newest first, filters by action and user, loads
more, opens an entry's before/after and exports the CSV, through the page's own (background) handlers; a bad
filter shows its message; anyone else gets the "Admins only" state."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.models.base import utcnow
from backend.services.platform import audit_log, users
from backend.services.platform.access import Actor, Role
from backend.services.platform.audit import audit_row
from wecare_app.pages import admin_audit
from wecare_app.pages.admin_audit import AuditLogState
from tests.unit.state_double import StateDouble

HANDLERS = ("load", "search", "clear_filters", "load_more", "open_entry", "export")


class PageDouble(StateDouble):
    """AuditLogState's handlers run outside Reflex: vars are attributes, the lock is a no-op, `run` calls the
    service as `actor` on a worker thread as SessionState.run does."""

    state = AuditLogState

    _snapshot, _search, _show_page, _failed = (AuditLogState._snapshot, AuditLogState._search, AuditLogState._show_page,
                                                AuditLogState._failed)
    load = AuditLogState.event_handlers["load"].fn
    search = AuditLogState.event_handlers["search"].fn
    clear_filters = AuditLogState.event_handlers["clear_filters"].fn
    load_more = AuditLogState.event_handlers["load_more"].fn
    open_entry = AuditLogState.event_handlers["open_entry"].fn
    export = AuditLogState.event_handlers["export"].fn

    @property
    def filtered(self) -> bool:
        return AuditLogState.computed_vars["filtered"].fget(self)


def write(actor: Actor, action: str, resource: str, *, days_ago: float = 0, details: dict | None = None, changed=()):
    kind, resource_id = resource.split("#", 1)
    row = audit_row(actor, action, kind, resource_id, changed, details, at=utcnow() - timedelta(days=days_ago))
    row.save()
    return row


def test_the_handlers_that_call_services_are_background_events():
    assert all(AuditLogState.event_handlers[name].is_background for name in HANDLERS)


def test_an_admin_sees_the_week_filters_loads_more_and_opens_an_entry(admin, monkeypatch):
    monkeypatch.setattr(admin_audit, "PAGE_SIZE", 2)
    ann = users.create_user(admin, "ann@example.com", "Operator", "correct horse battery")
    as_ann = Actor(user_id=ann.user_id, email="ann@example.com", role=Role.OPERATOR)
    write(admin, "contact.create", "contact#old", days_ago=9)
    changed = write(as_ann, "inbox.labels", "config#inbox.labels", days_ago=1, changed=["value"],
                    details={"before": {"VIP": "red"}, "after": {"VIP": "green"}, "via": "ui"})
    made = write(as_ann, "contact.create", "contact#c1", days_ago=2, changed=["name"], details={"via": "api"})
    page = PageDouble(admin)

    asyncio.run(page.load())
    assert not page.loading and page.denied == "" and page.load_error == ""
    assert [r["action"] for r in page.rows] == ["user.create", "inbox.labels"]  # newest first, two a page
    assert page.next_token and page.range_label.endswith(utcnow().strftime("%d %b %Y"))
    asyncio.run(page.load_more())
    assert [r["action"] for r in page.rows] == ["user.create", "inbox.labels", "contact.create"]
    assert page.next_token == ""  # the entry 9 days ago is outside the default week
    row = page.rows[1]
    assert (row["who"], row["role"], row["changed"], row["before_after"]) == ("ann@example.com", "Operator", "value", "yes")

    page.action_filter = "contact."
    page.user_filter = "ann@example.com"
    asyncio.run(page.search())
    assert [r["entry_id"] for r in page.rows] == [audit_log.entry_id_of(made)] and page.filtered

    asyncio.run(page.open_entry(audit_log.entry_id_of(changed)))
    assert page.detail_open and not page.detail_loading and page.detail["action"] == "inbox.labels"
    assert page.detail_changes == [{"field": "VIP", "before": "red", "after": "green", "changed": "yes"}]
    assert page.detail_facts == [{"key": "via", "value": "ui"}] and page.detail["kept_until"]

    asyncio.run(page.clear_filters())
    assert not page.filtered and len(page.rows) == 2


def test_export_downloads_the_filtered_csv(admin, monkeypatch):
    write(admin, "contact.create", "contact#c1", days_ago=1)
    write(admin, "templates.sync", "templates#catalogue", days_ago=1)
    downloads = []
    monkeypatch.setattr(admin_audit.rx, "download", lambda **kwargs: downloads.append(kwargs) or "download")
    page = PageDouble(admin)
    page.action_filter = "contact."
    asyncio.run(page.search())
    page.action_filter = "templates."  # typed, not searched: the export is what the list shows
    events = asyncio.run(page.export())
    assert events[0] == "download" and not page.exporting
    [download] = downloads
    assert download["filename"].startswith("audit-log-") and download["mime_type"] == "text/csv"
    lines = download["data"].splitlines()
    assert lines[0].startswith("time,actorEmail") and len(lines) == 2 and "contact.create" in lines[1]


def test_a_bad_filter_shows_its_message_and_no_rows(admin):
    page = PageDouble(admin)
    page.start_day, page.end_day = (utcnow() - timedelta(days=1)).date().isoformat(), (utcnow() - timedelta(days=3)).date().isoformat()
    asyncio.run(page.search())
    assert page.filter_error.startswith("end:") and page.rows == [] and not page.loading
    page.start_day = page.end_day = ""
    page.user_filter = "nobody@example.com"
    asyncio.run(page.search())
    assert "nobody@example.com" in page.filter_error


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_other_roles_get_the_admins_only_state(who, request):
    page = PageDouble(request.getfixturevalue(who))
    asyncio.run(page.load())
    assert page.denied == admin_audit.DENIED and page.rows == [] and not page.loading


def test_the_page_draws_the_filters_table_detail_and_retention_note():
    rendered = str(admin_audit.admin_audit_page().render())
    for element in ("audit-user", "audit-action", "audit-resource-type", "audit-resource-id", "audit-start", "audit-end",
                    "audit-search", "audit-export", "audit-detail", "audit-actions", "audit-retention"):
        assert element in rendered, element
    assert "kept for 180 days" in rendered and "Entries are kept for 180 days" in rendered
