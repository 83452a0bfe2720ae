"""The team inbox: conversations owned (assigned), where they stand (open, pending, snoozed, resolved), labelled
and noted; the views with their counts; a customer's message re-opens and wakes; every change audited and in
the timeline; notes never sent nor counted; a failed reply marks the conversation."""
from __future__ import annotations

from datetime import timedelta

import pytest

from backend.api import conversations_api
from backend.api.http import ApiRequest, invoke
from backend.errors import NotFound, PermissionDenied, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.channels.sms.send import send_sms
from backend.services.contacts.contacts import create_contact, delete_contact
from backend.services.messaging import conversations, inbox_settings, messages
from backend.services.messaging.conversations import team_inbox
from backend.services.platform import team
from backend.services.platform.access import Actor, Role
from backend.services.platform.users import create_user
from tests.conftest import unique_email
from tests.unit.people import contact, customer_writes


@pytest.fixture
def colleague(admin):
    """A second operator (a real user: assignments go to active Operators and Admins only)."""
    team.forget_team()
    user = create_user(admin, unique_email(), "Operator", "a-long-password-1", display_name="Cleo Colleague")
    return Actor(user_id=user.user_id, email=user.email, role=Role.OPERATOR)


@pytest.fixture
def me(admin):
    team.forget_team()
    user = create_user(admin, unique_email(), "Operator", "a-long-password-1", display_name="Mo Me")
    return Actor(user_id=user.user_id, email=user.email, role=Role.OPERATOR)


def writing(name: str, operator, text: str = "hello"):
    """A contact who has just written on WhatsApp: an open conversation."""
    person = contact(operator, name, optInWhatsApp=True)
    customer_writes(person.phone, text)
    return person


def ids(page) -> list[str]:
    return [c.contact_id for c in page.items]


def timeline(actor, contact_id):
    return messages.conversation(actor, contact_id, limit=50).items


def test_a_customer_message_opens_a_conversation_in_unassigned_and_all(me, messaging):
    ann = writing("Ann Open", me)
    page = team_inbox(me, view="unassigned")
    assert ann.contact_id in ids(page)
    assert page.items[ids(page).index(ann.contact_id)].status == "open"
    assert ann.contact_id in ids(team_inbox(me, view="all"))
    assert ann.contact_id not in ids(team_inbox(me, view="mine"))
    assert page.counts.unassigned >= 1 and page.counts.all >= page.counts.unassigned


def test_assigning_moves_it_to_mine_for_the_assignee_audited_and_in_the_timeline(me, colleague, messaging):
    ann = writing("Ann Assign", me)
    before = team_inbox(colleague, view="mine").counts.mine
    view = conversations.assign(me, ann.contact_id, {"assigneeId": colleague.user_id})
    assert view.assignee_id == colleague.user_id
    mine = team_inbox(colleague, view="mine")
    assert ann.contact_id in ids(mine) and mine.counts.mine == before + 1
    assert ann.contact_id not in ids(team_inbox(me, view="unassigned"))
    events = [e for e in timeline(me, ann.contact_id) if e.kind == "event"]
    assert [e.body for e in events] == ["Assigned to Cleo Colleague"] and events[0].author == me.email
    audit = list(AuditLogModel.query(f"contact#{ann.contact_id}"))
    assert [a.details for a in audit if a.action == "conversation.assigned"] == [{"from": None, "to": colleague.user_id}]


def test_assignment_goes_only_to_active_operators_and_admins(me, admin, messaging):
    ann = writing("Ann Nobody", me)
    viewer_user = create_user(admin, unique_email(), "Viewer", "a-long-password-1")
    for who in ("u-does-not-exist", viewer_user.user_id):
        with pytest.raises(ValidationError) as refused:
            conversations.assign(me, ann.contact_id, {"assigneeId": who})
        assert refused.value.field == "assigneeId"
    assert ContactModel.get(ann.contact_id).assigneeId is None
    assert [e for e in timeline(me, ann.contact_id) if e.kind == "event"] == []


def test_a_viewer_reads_the_views_but_changes_nothing(me, viewer, messaging):
    ann = writing("Ann Viewer", me)
    assert ann.contact_id in ids(team_inbox(viewer, view="all"))
    for change in (
        lambda: conversations.assign(viewer, ann.contact_id, {"assigneeId": None}),
        lambda: conversations.set_status(viewer, ann.contact_id, {"status": "resolved"}),
        lambda: conversations.add_note(viewer, ann.contact_id, {"text": "hm"}),
        lambda: conversations.set_labels(viewer, ann.contact_id, {"labels": []}),
    ):
        with pytest.raises(PermissionDenied):
            change()
    assert ContactModel.get(ann.contact_id).conversationStatus == "open"


def test_resolved_leaves_the_open_views_and_a_customer_message_re_opens_it(me, colleague, messaging):
    ann = writing("Ann Resolve", me)
    conversations.assign(me, ann.contact_id, {"assigneeId": colleague.user_id})
    conversations.set_status(colleague, ann.contact_id, {"status": "resolved"})
    assert ann.contact_id in ids(team_inbox(me, view="resolved"))
    assert ann.contact_id not in ids(team_inbox(colleague, view="mine"))
    customer_writes(ann.phone, "one more thing")
    row = ContactModel.get(ann.contact_id)
    assert (row.conversationStatus, row.assigneeId) == ("open", colleague.user_id)  # back to its owner
    assert ann.contact_id in ids(team_inbox(colleague, view="mine"))
    assert ann.contact_id not in ids(team_inbox(me, view="resolved"))


def test_snooze_needs_a_future_time_and_a_customer_message_or_the_time_wakes_it(me, messaging):
    ann = writing("Ann Snooze", me)
    for bad in ({"status": "snoozed"}, {"status": "snoozed", "snoozedUntil": (utcnow() - timedelta(minutes=1)).isoformat()},
                {"status": "snoozed", "snoozedUntil": (utcnow() + timedelta(days=91)).isoformat()},
                {"status": "resolved", "snoozedUntil": (utcnow() + timedelta(hours=1)).isoformat()},
                {"status": "closed"}):
        with pytest.raises(ValidationError):
            conversations.set_status(me, ann.contact_id, bad)
    until = utcnow() + timedelta(hours=2)
    view = conversations.set_status(me, ann.contact_id, {"status": "snoozed", "snoozedUntil": until.isoformat()})
    assert view.status == "snoozed" and ann.contact_id in ids(team_inbox(me, view="snoozed"))
    assert conversations.wake_snoozed(now=utcnow()) == 0  # not yet
    assert conversations.wake_snoozed(now=until + timedelta(seconds=1)) == 1
    row = ContactModel.get(ann.contact_id)
    assert (row.conversationStatus, row.snoozedUntil) == ("open", None)
    assert [e.body for e in timeline(me, ann.contact_id) if e.kind == "event"][0] == "Snooze ended: open again"
    bo = writing("Bo Snooze", me)
    conversations.set_status(me, bo.contact_id, {"status": "snoozed", "snoozedUntil": until.isoformat()})
    customer_writes(bo.phone, "are you there?")
    assert ContactModel.get(bo.contact_id).conversationStatus == "open"


def test_notes_are_in_the_timeline_never_sent_nor_in_the_log(me, messaging):
    ann = writing("Ann Note", me)
    provider_sends = len(messaging.provider.sent) if hasattr(messaging.provider, "sent") else None
    note = conversations.add_note(me, ann.contact_id, {"text": "  Called her back; wants a refund.  "})
    assert (note.kind, note.body, note.author) == ("note", "Called her back; wants a refund.", me.email)
    assert messaging.drain() == 0  # nothing was queued
    if provider_sends is not None:
        assert len(messaging.provider.sent) == provider_sends
    items = timeline(me, ann.contact_id)
    assert [i.kind for i in items][:2] == ["note", "text"]
    log = messages.message_log(me, limit=200)
    assert note.entry_id not in {m.message_id for m in log.items}
    with pytest.raises(NotFound):
        messages.get_message(me, note.entry_id)
    with pytest.raises(ValidationError):
        conversations.add_note(me, ann.contact_id, {"text": "   "})
    with pytest.raises(ValidationError):
        conversations.add_note(me, ann.contact_id, {"text": "x" * 4001})


def test_labels_come_from_the_admin_catalog(me, admin, messaging):
    ann = writing("Ann Label", me)
    with pytest.raises(PermissionDenied):
        inbox_settings.save_labels(me, {"labels": [{"name": "billing"}]})
    inbox_settings.save_labels(admin, {"labels": [{"name": "billing", "color": "blue"}, {"name": "vip", "color": "amber"}]})
    with pytest.raises(ValidationError) as unknown:
        conversations.set_labels(me, ann.contact_id, {"labels": ["refunds"]})
    assert unknown.value.field == "labels"
    view = conversations.set_labels(me, ann.contact_id, {"labels": ["vip", "billing"]})
    assert view.labels == ["billing", "vip"]
    assert ids(team_inbox(me, view="all", label="vip")) == [ann.contact_id]
    conversations.set_labels(me, ann.contact_id, {"labels": ["vip"]})
    assert [e.body for e in timeline(me, ann.contact_id) if e.kind == "event"] == ["Labels removed billing", "Labels added billing, vip"]
    for bad in ({"labels": [{"name": "a", "color": "octarine"}]}, {"labels": [{"name": "x"}, {"name": "X"}]}, {"labels": [{"name": "<b>"}]}):
        with pytest.raises(ValidationError):
            inbox_settings.save_labels(admin, bad)


def test_canned_replies_are_admin_managed_per_channel_with_placeholders(me, admin, messaging):
    ann = create_contact(me, {"name": "Ann Canned Smith", "email": unique_email()})
    with pytest.raises(ValidationError) as wrong:
        inbox_settings.save_canned_replies(admin, {"replies": [{"shortcut": "hi", "title": "Hi", "text": "Hi {{surname}}"}]})
    assert wrong.value.field == "replies.0.text"
    with pytest.raises(ValidationError):
        inbox_settings.save_canned_replies(admin, {"replies": [{"shortcut": "hi", "title": "a", "text": "a"}, {"shortcut": "hi", "title": "b", "text": "b"}]})
    with pytest.raises(PermissionDenied):
        inbox_settings.save_canned_replies(me, {"replies": []})
    inbox_settings.save_canned_replies(admin, {"replies": [
        {"shortcut": "hours", "title": "Opening hours", "text": "Hi {{first_name}}, we open 9-5.", "channels": []},
        {"shortcut": "sms-only", "title": "Short", "text": "Thanks!", "channels": ["sms"]},
    ]})
    assert [r.shortcut for r in inbox_settings.list_canned_replies(me, "email")] == ["hours"]
    assert [r.shortcut for r in inbox_settings.list_canned_replies(me, "sms")] == ["hours", "sms-only"]
    assert inbox_settings.use_canned_reply(me, ann.contact_id, "hours").text == "Hi Ann, we open 9-5."
    with pytest.raises(ValidationError):
        inbox_settings.use_canned_reply(me, ann.contact_id, "nope")


def test_a_failed_reply_marks_the_conversation_until_the_next_send(me, messaging):
    ann = create_contact(me, {"name": "Ann Failed", "phone": "+447911230000", "optInSms": True})
    failed = send_sms(me, {"contactId": ann.contact_id, "body": "hello"})
    messaging.drain()
    item = next(c for c in team_inbox(me, view="all").items if c.contact_id == ann.contact_id)
    assert item.failed_message_id == failed.message_id and item.failed
    send_sms(me, {"contactId": ann.contact_id, "body": "hello again"})
    item = next(c for c in team_inbox(me, view="all").items if c.contact_id == ann.contact_id)
    assert item.failed_message_id is None


def test_a_deleted_contact_leaves_every_view(me, messaging):
    ann = writing("Ann Deleted", me)
    delete_contact(me, ann.contact_id)
    assert ann.contact_id not in ids(team_inbox(me, view="all"))
    with pytest.raises(NotFound):
        conversations.set_status(me, ann.contact_id, {"status": "resolved"})


def test_the_rest_routes_check_roles_and_input(me, viewer, admin, messaging):
    ann = writing("Ann Rest", me)

    def call(endpoint, actor, body=None, **params):
        import json as _json
        request = ApiRequest(method="PUT", headers={"content-type": "application/json"},
                             raw_body=_json.dumps(body).encode() if body is not None else b"", query=params.pop("query", {}), path_params=params)
        return invoke(endpoint, actor, request)

    assert call(conversations_api.team_inbox, viewer, query={"view": "all"}).status == 200
    assert call(conversations_api.team_inbox, viewer, query={"view": "everything"}).status == 422
    assert call(conversations_api.set_status, viewer, {"status": "resolved"}, contactId=ann.contact_id).status == 403
    done = call(conversations_api.set_status, me, {"status": "resolved"}, contactId=ann.contact_id)
    assert done.status == 200 and done.body["status"] == "resolved"
    note = call(conversations_api.add_note, me, {"text": "ok"}, contactId=ann.contact_id)
    assert note.status == 201 and note.body["kind"] == "note"
    assert call(conversations_api.save_labels, me, {"labels": []}).status == 403
    assert call(conversations_api.save_labels, admin, {"labels": [{"name": "x", "colour": "red"}]}).status == 422
    options = call(conversations_api.reply_options, viewer, contactId=ann.contact_id)
    assert options.status == 200 and options.body["defaultChannel"] == "whatsapp"


def test_live_refreshes_share_one_index_read_and_never_show_a_change_go_back(me, colleague, messaging, monkeypatch):
    ann = writing("Ann Shared", me)
    bo = writing("Bo Shared", me)
    reads = []
    original = ContactModel.by_conversation_status.query

    def counted(status, *args, **kwargs):
        reads.append(status)
        return original(status, *args, **kwargs)

    monkeypatch.setattr(ContactModel.by_conversation_status, "query", counted)
    monkeypatch.setattr(conversations, "SNAPSHOT_SECONDS", 60.0)
    for _ in range(20):  # twenty pages refreshing after one change batch
        team_inbox(me, view="all", fresh_contact_ids=(ann.contact_id,), live=True)
    assert len(reads) == len(conversations.STATUSES)  # one read of each status for all of them

    # Ann is resolved (her page's batch names her); a later batch names only Bo: Ann stays resolved, though the
    # shared snapshot was read before the change.
    conversations.set_status(me, ann.contact_id, {"status": "resolved"})
    team_inbox(me, view="all", fresh_contact_ids=(ann.contact_id,), live=True)
    later = team_inbox(me, view="all", fresh_contact_ids=(bo.contact_id,), live=True)
    assert ann.contact_id not in ids(later) and bo.contact_id in ids(later)
    assert ann.contact_id in ids(team_inbox(me, view="resolved", live=True))
    # A call that is not a live refresh (a first load, REST) reads the index afresh.
    before = len(reads)
    assert ann.contact_id in ids(team_inbox(me, view="resolved"))
    assert len(reads) == before + len(conversations.STATUSES)


def test_pages_that_heard_the_same_batch_share_one_key_read(me, messaging, monkeypatch):
    import time as _time

    from backend.services.messaging import conversations as module

    ann = writing("Ann Batch", me)
    keyed = []
    original = module.rows_by_key

    def counted(model, keys, **kwargs):
        keyed.append(tuple(keys))
        return original(model, keys, **kwargs)

    monkeypatch.setattr(module, "rows_by_key", counted)
    published = _time.monotonic()
    for _ in range(20):
        page = team_inbox(me, fresh_contact_ids=(ann.contact_id,), live=True, fresh_since=published)
        assert ann.contact_id in ids(page)
    assert keyed == [(ann.contact_id,)]  # read once, after the batch was published: every page may use it
    conversations.set_status(me, ann.contact_id, {"status": "resolved"})
    later = _time.monotonic()  # a new batch names her again: the earlier read is too old for it
    assert ann.contact_id not in ids(team_inbox(me, fresh_contact_ids=(ann.contact_id,), live=True, fresh_since=later))
    assert keyed == [(ann.contact_id,), (ann.contact_id,)]


def test_pages_finding_the_snapshot_stale_wait_for_the_read_under_way(me, messaging, monkeypatch):
    """Twenty live refreshes at once with no fresh snapshot: one read of each status, not twenty (reads that
    each outlast a snapshot's life would otherwise pile up), and every page gets the conversation."""
    import threading

    ann = writing("Ann Stale", me)
    reads = []
    original = ContactModel.by_conversation_status.query
    gate = threading.Event()

    def slow(status, *args, **kwargs):
        reads.append(status)
        gate.wait(5)  # the read is still under way while the other pages arrive
        return original(status, *args, **kwargs)

    monkeypatch.setattr(ContactModel.by_conversation_status, "query", slow)
    conversations.forget_snapshots()
    pages: list = []
    threads = [threading.Thread(target=lambda: pages.append(team_inbox(me, view="all", live=True))) for _ in range(20)]
    for thread in threads:
        thread.start()
    threading.Timer(0.3, gate.set).start()
    for thread in threads:
        thread.join(10)
    assert len(pages) == 20 and all(ann.contact_id in ids(page) for page in pages)
    assert sorted(reads) == sorted(conversations.STATUSES)
