"""A dead letter whose send may already have gone out (OUTCOME_UNKNOWN) is never resent blindly: replay-all,
a replay of a selection and the schedule skip it with the reason; a person replays it alone, only with
`sendAnyway`, and the audit trail says so. The crash of issue 10: the provider took the message, the answer
and every status event were lost, so the replay's "did it go out?" check finds nothing."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from backend.adapters.channels.errors import OUTCOME_UNKNOWN
from backend.api.asgi_door import build_api
from backend.errors import ValidationError
from backend.models.base import utcnow
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.channels.maintenance import run_dlq_schedule
from backend.services.messaging import dlq, outbox
from backend.services.platform import users
from backend.services.platform.audit import resource_history

pytest.register_assert_rewrite("tests.unit.dlq_crash")
pytest_plugins = ["tests.unit.dlq_crash"]  # the fixtures crashy, lost and throttled
from tests.unit.dlq_crash import dead_letter, sends, waiting_untouched  # noqa: E402


@pytest.mark.parametrize("request_of", [lambda ids: {"all": True}, lambda ids: {"dlqIds": ids}], ids=["all", "selection"])
def test_a_bulk_replay_skips_what_may_have_gone_out_and_replays_the_rest(admin, messaging, crashy, lost, throttled, request_of):
    results = {r.dlq_id: r for r in dlq.replay(admin, request_of([lost, throttled]))}
    messaging.drain()
    assert (results[lost].outcome, results[lost].reason) == ("skipped", dlq.SEND_ANYWAY_REASON)
    assert results[lost].reason == "may already have been delivered; replay it by hand with send anyway"
    assert results[throttled].outcome == "replayed" and sends(crashy, throttled) == 1
    assert sends(crashy, lost) == 1 and waiting_untouched(lost)


def test_the_schedule_skips_what_may_have_gone_out_and_says_so(admin, messaging, crashy, lost, throttled, monkeypatch, caplog):
    later = utcnow() + timedelta(minutes=10)
    monkeypatch.setattr(dlq, "utcnow", lambda: later)
    results = {r.dlq_id: r for r in dlq.scheduled_replay()}
    assert (results[lost].outcome, results[lost].reason) == ("skipped", dlq.SEND_ANYWAY_REASON)
    assert results[throttled].outcome == "replayed"
    messaging.drain()
    assert sends(crashy, lost) == 1 and waiting_untouched(lost)

    with caplog.at_level(logging.WARNING, logger="backend.services.channels.maintenance"):
        summary = run_dlq_schedule()  # the next pass: still skipped, and the log names it and says why
    messaging.drain()
    assert summary["replayed"] == 0 and sends(crashy, lost) == 1 and waiting_untouched(lost)
    assert any(lost in record.getMessage() and dlq.SEND_ANYWAY_REASON in record.getMessage() for record in caplog.records)


def test_a_replay_by_hand_needs_send_anyway_and_is_audited_as_such(admin, messaging, crashy, lost):
    [refused] = dlq.replay(admin, {"dlqIds": [lost]})
    messaging.drain()
    assert (refused.outcome, refused.reason) == ("skipped", dlq.SEND_ANYWAY_REASON)
    assert sends(crashy, lost) == 1 and waiting_untouched(lost)
    assert [e.action for e in resource_history("dlq", lost)] == []

    [sent] = dlq.replay(admin, {"dlqIds": [lost], "sendAnyway": True}, via="ui")
    messaging.drain()
    assert sent.outcome == "replayed" and sends(crashy, lost) == 2  # the risk a person chose to take, once
    message_id = DLQMessageModel.get(lost).messageId
    assert MessageModel.get(message_id).status == "ACCEPTED"
    assert "sent anyway from the dead-letter queue by admin@example.com" in MessageModel.get(message_id).statusHistory[-2].detail
    [audit] = resource_history("dlq", lost)
    assert (audit.action, audit.actor_email, audit.details["messageId"], audit.details["errorCode"], audit.details["via"]) == (
        "dlq.replay.send_anyway", "admin@example.com", message_id, OUTCOME_UNKNOWN, "ui")

    [again] = dlq.replay(admin, {"dlqIds": [lost], "sendAnyway": True})
    messaging.drain()
    assert again.outcome == "refused" and sends(crashy, lost) == 2


def test_send_anyway_never_resends_what_the_provider_is_known_to_have(admin, messaging, crashy, lost):
    from backend.services.messaging.statuses import ProviderStatus, apply_status

    message_id = DLQMessageModel.get(lost).messageId
    assert apply_status(ProviderStatus("whatsapp", "wamid.late", "DELIVERED", utcnow(), message_id=message_id))
    [result] = dlq.replay(admin, {"dlqIds": [lost], "sendAnyway": True})
    messaging.drain()
    assert result.outcome == "already_delivered" and sends(crashy, lost) == 1
    assert DLQMessageModel.get(lost).state == "delivered"


def test_an_entry_filed_again_meanwhile_is_judged_afresh(admin, messaging, crashy, throttled):
    """Read as THROTTLED, then lost on a replay and filed again as OUTCOME_UNKNOWN before the write: refused."""
    real_get = MessageModel.get

    def refiled_meanwhile(message_id, **kwargs):
        row = real_get(message_id, **kwargs)
        outbox.dead_letter(row, OUTCOME_UNKNOWN, "lost meanwhile", from_status="DEAD")
        return real_get(message_id, **kwargs)

    MessageModel.get = refiled_meanwhile
    try:
        [result] = dlq.replay(admin, {"dlqIds": [throttled]})
    finally:
        MessageModel.get = real_get
    messaging.drain()
    assert result.outcome == "refused" and sends(crashy, throttled) == 0
    assert DLQMessageModel.get(throttled).errorCode == OUTCOME_UNKNOWN and waiting_untouched(throttled)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sendAnyway": "true"}, "sendAnyway"),
        ({"sendAnyway": 1}, "sendAnyway"),
        ({"sendAnyway": None}, "sendAnyway"),
        ({"sendAnyway": True, "all": True}, "body"),
        ({"sendAnyway": True, "extra": [1]}, "dlqIds"),
    ],
)
def test_send_anyway_is_true_or_false_for_one_entry(admin, messaging, crashy, lost, throttled, body, field):
    ids = [lost, throttled] if field == "dlqIds" else [lost]
    data = {"dlqIds": ids, **{k: v for k, v in body.items() if k != "extra"}}
    with pytest.raises(ValidationError) as refused:
        dlq.replay(admin, data)
    assert "sendAnyway" in str(refused.value)
    if field == "sendAnyway":
        assert refused.value.field == "sendAnyway"
    messaging.drain()
    assert waiting_untouched(lost) and waiting_untouched(throttled) and sends(crashy, lost) == 1


def test_the_view_says_it_needs_send_anyway_and_why(admin, lost, throttled):
    views = {d.dlq_id: d for d in dlq.list_dead_letters(admin)}
    risky, plain = views[lost].to_api(), views[throttled].to_api()
    assert (risky["canReplay"], risky["needsSendAnyway"], risky["replayBlockedReason"]) == (False, True, dlq.SEND_ANYWAY_REASON)
    assert "twice" in risky["replayRisk"] and risky["canDiscard"]
    assert (plain["canReplay"], plain["needsSendAnyway"], plain["replayRisk"]) == (True, False, None)
    closed = views[lost].model_copy(update={"state": "discarded"})
    assert (closed.can_replay, closed.needs_send_anyway, closed.replay_risk, closed.replay_blocked_reason) == (False, False, None, "already discarded")


# ---------------------------------------------------------------- REST: POST /api/dlq/replay


@pytest.fixture
def api(admin, messaging):
    users.create_user(admin, "dlq-admin@example.com", "Admin", "correct horse battery")
    client = TestClient(build_api(), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {users.sign_in('dlq-admin@example.com', 'correct horse battery').token}"
    return client


@pytest.mark.parametrize(
    "extra",
    [{"sendAnyway": "yes"}, {"sendAnyway": 1}, {"sendAnyway": [True]}, {"sendAnyway": True, "all": True}, {"sendAnyway": True, "action": "discard"}],
)
def test_rest_refuses_a_send_anyway_that_is_not_true_or_false_for_one_entry(api, crashy, lost, extra):
    response = api.post("/api/dlq/replay", json={"dlqIds": [lost], **extra})
    assert response.status_code == 422, response.text
    assert "sendAnyway" in response.json()["error"]["message"]
    assert waiting_untouched(lost)


def test_rest_replays_by_hand_only_with_send_anyway(api, messaging, crashy, lost):
    response = api.post("/api/dlq/replay", json={"dlqIds": [lost]})
    assert response.status_code == 200
    assert response.json()["results"] == [{"dlqId": lost, "outcome": "skipped", "reason": dlq.SEND_ANYWAY_REASON}]
    listed = api.get("/api/dlq").json()["items"]
    assert [(i["dlqId"], i["canReplay"], i["needsSendAnyway"]) for i in listed] == [(lost, False, True)]

    response = api.post("/api/dlq/replay", json={"dlqIds": [lost], "sendAnyway": True})
    messaging.drain()
    assert response.status_code == 200 and response.json()["results"][0]["outcome"] == "replayed"
    assert sends(crashy, lost) == 2
    assert [(e.action, e.actor_email) for e in resource_history("dlq", lost)] == [("dlq.replay.send_anyway", "dlq-admin@example.com")]


def _age(dlq_id: str, days: int) -> None:
    """The dead letter's message was queued `days` ago."""
    row = MessageModel.get(DLQMessageModel.get(dlq_id).messageId)
    row.update(actions=[MessageModel.createdAt.set(utcnow() - timedelta(days=days))])


def test_a_person_s_replay_of_an_old_message_sends_it_but_the_schedule_s_lets_it_expire(admin, operator, messaging, crashy):
    """A person replaying a dead letter decides afresh to send it now (its send-by time restarts); the
    schedule retrying a throttled send two days on does not, so a reminder never goes out days late unasked."""
    by_hand, by_schedule = dead_letter(operator, messaging, crashy, "throttled"), dead_letter(operator, messaging, crashy, "throttled")
    for dlq_id in (by_hand, by_schedule):
        _age(dlq_id, 2)
    assert dlq.replay_one(admin, by_hand).outcome == "replayed"
    assert dlq.replay_one(dlq.SCHEDULER, by_schedule, via="schedule").outcome == "replayed"
    messaging.drain()
    assert sends(crashy, by_hand) == 1 and sends(crashy, by_schedule) == 0
    assert MessageModel.get(DLQMessageModel.get(by_schedule).messageId).status == "EXPIRED"
