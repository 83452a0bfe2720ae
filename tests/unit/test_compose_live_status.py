"""The composer's "Last send" follows each message live (issue 11): `message_progress` reads the messages by key
and words their status from one table (Queued, Sent, Delivered, Read, or Failed and why); the page's live loop
re-reads only the messages of the last send that the change feed names, and a late, older read never shows
over a newer one."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import reflex as rx

from backend.errors import PermissionDenied, ValidationError
from backend.models.base import utcnow
from backend.runtime.change_feed import MessageChange
from backend.services.channels import send_many
from backend.services.messaging import messages
from backend.services.messaging.progress import STATUS_LABELS, Progress, message_progress
from backend.services.messaging.statuses import STATUSES, ProviderStatus, apply_status
from backend.services.platform.access import Actor, Role
from wecare_app.pages.compose import state as compose_state
from wecare_app.pages.compose.display import followed_ids, outcome_row, with_progress
from wecare_app.pages.compose.state import ComposeState
from wecare_app.state.session_state import SessionState
from tests.unit.people import contact, customer_writes


def _send_sms(operator, *names: str) -> list[send_many.SendOutcome]:
    ids = [contact(operator, name, optInSms=True).contact_id for name in names]
    return send_many.send_to_contacts(operator, "sms", ids, {"body": "Your order is ready"}, via="ui")


def _status(message_id: str, status: str, **error) -> None:
    assert apply_status(ProviderStatus(channel="sms", provider_message_id=f"p-{message_id}", status=status,
                                       at=utcnow(), message_id=message_id, **error))


def _change(message_id: str, status: str = "SENT") -> MessageChange:
    return MessageChange(event="MODIFY", message_id=message_id, contact_id=None, channel="sms", direction="outbound",
                         status=status)


# ---------------------------------------------------------------- the service


def test_progress_words_each_status_from_one_table(operator, viewer, messaging):
    [outcome] = _send_sms(operator, "Queued Person")
    [queued] = message_progress(viewer, [outcome.message_id])
    assert (queued.label, queued.failed, queued.settled) == ("Queued", False, False)
    for status, label in (("SENT", "Sent"), ("DELIVERED", "Delivered"), ("READ", "Read")):
        _status(outcome.message_id, status)
        [now] = message_progress(viewer, [outcome.message_id])
        assert (now.status, now.label) == (status, label)
    assert now.settled  # nothing moves a read message on
    assert set(STATUS_LABELS) == set(STATUSES)


def test_a_failure_carries_its_reason(operator, viewer, messaging):
    [outcome] = _send_sms(operator, "Failing Person")
    _status(outcome.message_id, "FAILED", error_code="UNREACHABLE", error_detail="Phone is not reachable")
    [failed] = message_progress(viewer, [outcome.message_id])
    assert (failed.label, failed.failed, failed.settled) == ("Failed", True, True)
    assert failed.reason == "Phone is not reachable (UNREACHABLE)"


def test_progress_keeps_the_order_asked_and_leaves_out_deleted_and_inbound_messages(operator, viewer, messaging):
    first, second, third = _send_sms(operator, "One Person", "Two Person", "Three Person")
    messages.delete_message(operator, second.message_id)
    writer = contact(operator, "Inbound Person")
    customer_writes(writer.phone, "a question")
    [inbound] = messages.conversation(viewer, writer.contact_id).items
    asked = [third.message_id, second.message_id, inbound.message_id, first.message_id, third.message_id]
    assert [p.message_id for p in message_progress(viewer, asked)] == [third.message_id, first.message_id]


def test_progress_needs_a_reader_and_message_ids(operator, messaging):
    [outcome] = _send_sms(operator, "Private Person")
    with pytest.raises(PermissionDenied):
        message_progress(Actor(user_id="u-norole"), [outcome.message_id])
    viewer = Actor(user_id="u-viewer", role=Role.VIEWER)
    for bad in (["phone#+447700900123"], [None], "not-a-list", [f"{n:032x}" for n in range(101)]):
        with pytest.raises(ValidationError):
            message_progress(viewer, bad)


# ---------------------------------------------------------------- the rows


def _row(message_id: str = "a" * 32) -> dict:
    return outcome_row(send_many.SendOutcome(contact_id="c1", name="Ann", ok=True, code="QUEUED", reason="Queued",
                                             link="/inbox/c1", message_id=message_id))


def _progress(status: str, label: str, *, at, failed: bool = False, reason: str | None = None) -> Progress:
    return Progress(message_id="a" * 32, status=status, label=label, failed=failed, settled=status in ("READ", "FAILED"),
                    reason=reason, updated_at=at)


def test_a_row_follows_its_message_and_ignores_an_older_read():
    now = utcnow()
    delivered = with_progress(_row(), _progress("DELIVERED", "Delivered", at=now))
    assert delivered["detail"] == "Delivered" and not delivered["failed"]
    assert with_progress(delivered, _progress("SENT", "Sent", at=now - timedelta(seconds=1))) == delivered
    failed = with_progress(delivered, _progress("FAILED", "Failed", at=now + timedelta(seconds=1), failed=True,
                                                reason="Phone is not reachable (UNREACHABLE)"))
    assert (failed["detail"], failed["failed"]) == ("Failed: Phone is not reachable (UNREACHABLE)", True)
    assert followed_ids([failed]) == set()  # settled: nothing more to follow


def test_refused_rows_and_calls_are_not_followed():
    refused = outcome_row(send_many.SendOutcome(contact_id="c2", name="Bo", ok=False, code="OPTED_OUT", reason="opted out"))
    call = outcome_row(send_many.SendOutcome(contact_id="c3", name="Cy", ok=True, code="QUEUED", reason="Queued",
                                             link="/voice/x", call_id="x"))
    assert followed_ids([refused, call, _row()]) == {"a" * 32}


# ---------------------------------------------------------------- the page's live loop


@pytest.fixture
def compose(operator, monkeypatch):
    """A ComposeState whose service calls run here as the operator (the live loop is driven by the test)."""
    async def run(self, service, *args, **kwargs):
        return service(operator, *args, **kwargs)

    monkeypatch.setattr(SessionState, "run", run)
    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(ComposeState.get_full_name().split(".")[1:])


def _follow(state, monkeypatch, batches: list[list[MessageChange]], read: list) -> None:
    """Run the page's live loop over `batches`, recording which messages each re-read asked for."""
    async def feed(page_state, prefix, on_batch, *, tick):
        assert (page_state, prefix) == (state, "/inbox/compose")
        for batch in batches:
            await on_batch(batch)

    monkeypatch.setattr(compose_state, "follow_changes", feed)
    monkeypatch.setattr(compose_state, "message_progress", lambda actor, ids: read.append(sorted(ids)) or message_progress(actor, ids))
    asyncio.run(ComposeState.follow.fn(state))


def test_the_live_loop_moves_the_rows_on_as_their_messages_change(compose, operator, messaging, monkeypatch):
    ann, bob = _send_sms(operator, "Ann Live", "Bob Live")
    compose.outcome = [outcome_row(ann), outcome_row(bob)]
    assert [r["detail"] for r in compose.outcome] == ["Queued", "Queued"]
    _status(ann.message_id, "DELIVERED")
    _status(bob.message_id, "FAILED", error_code="UNREACHABLE", error_detail="Phone is not reachable")
    other = "f" * 32  # somebody else's message: not read again
    read: list = []
    _follow(compose, monkeypatch, [[], [_change(other)], [_change(ann.message_id), _change(bob.message_id), _change(other)]], read)
    assert read == [sorted([ann.message_id, bob.message_id])]
    assert [(r["name"], r["detail"], r["failed"]) for r in compose.outcome] == [
        ("Ann Live", "Delivered", False), ("Bob Live", "Failed: Phone is not reachable (UNREACHABLE)", True)]

    _status(ann.message_id, "READ")
    read.clear()
    _follow(compose, monkeypatch, [[_change(ann.message_id), _change(bob.message_id)]], read)
    assert read == [[ann.message_id]]  # Bob's failure is settled: only Ann's message is read again
    assert compose.outcome[0]["detail"] == "Read"
