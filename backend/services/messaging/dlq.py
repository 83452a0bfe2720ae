"""The dead-letter queue: messages that failed every retry, to inspect, replay (at most 5 times) or discard.

A replay first checks the message itself: if the provider in fact took it (a late status, or an accepted
send recorded after the failure), the entry is closed as delivered and nothing is re-sent. That check can
only find what was recorded: when a send's answer was lost (OUTCOME_UNKNOWN) and its status events were lost
too, the message may have gone out with no trace here. Such an entry is never replayed in bulk or by the
schedule; a person replays it alone, with `sendAnyway`, knowing the customer may receive it twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, StrictBool, computed_field, model_validator

from backend.adapters.channels.errors import OUTCOME_UNKNOWN
from backend.errors import NotFound, ValidationError
from backend.services.rules.channels import CHANNEL_NAMES, Channel
from backend.models.base import utcnow
from backend.models.messaging import PENDING_SEND, DLQMessageModel, MessageModel, StatusChange
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.audit import audit_row
from backend.services.messaging.dlq_recipients import Recipient, recipients
from backend.services.messaging.statuses import EXPIRED, WENT_OUT
from backend.services.storage.expiring_map import ExpiringMap
from backend.services.messaging.outbox import enqueue
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict
from backend.services.platform.validation import check_choice, parse_input

MAX_REPLAYS = 5
EXAMINE_MAX = 2_000  # dead letters one listing reads per queue, newest first: a filter cannot make it read them all
QUEUES = CHANNEL_NAMES  # one dead-letter queue per channel of the catalog
WAITING_COUNT_SECONDS = 2.0
TRANSIENT_CODES = {"THROTTLED", "PROVIDER_UNAVAILABLE"}
# Errors after which the provider may already have the message: a replay could deliver it a second time.
MAY_HAVE_GONE_OUT = frozenset({OUTCOME_UNKNOWN})
# A replayed message's journey ends when it went out (statuses.WENT_OUT) or failed again: dead-lettered anew (its
# entry waiting once more, DeadLetter.failed_again), failed for good, or expired unsent.
FAILED_AGAIN = frozenset({"DEAD", "FAILED", EXPIRED})
SEND_ANYWAY_REASON = "may already have been delivered; replay it by hand with send anyway"
SEND_ANYWAY_RISK = (
    "The provider's answer to this send was lost: it may already have delivered the message, and nothing "
    "recorded says so. Sending it anyway may give the customer the same message twice."
)


def replay_refusal(state: str, replay_count: int) -> str | None:
    """Why an entry in `state`, replayed `replay_count` times, may not be replayed; None when it may. The one
    rule: `replay_one` refuses by it, the schedule skips by it, and `DeadLetter.can_replay` shows it. (A replay
    may still find the message gone, or the entry changed meanwhile: those it can only tell when it tries.)"""
    if state != "waiting":
        return f"already {state}"
    if replay_count >= MAX_REPLAYS:
        return f"replayed {MAX_REPLAYS} times already; discard it"
    return None


def send_anyway_reason(error_code: str | None) -> str | None:
    """Why an entry that failed with `error_code` is not replayed without `sendAnyway`; None when it may be.
    The one rule: bulk replays and the schedule skip by it, a replay by hand needs `sendAnyway` past it, and
    `DeadLetter.needs_send_anyway` shows it."""
    return SEND_ANYWAY_REASON if error_code in MAY_HAVE_GONE_OUT else None


def discard_refusal(state: str) -> str | None:
    """Why an entry in `state` may not be discarded; None when it may (only a waiting entry is closed)."""
    return None if state == "waiting" else f"already {state}"


class DeadLetter(ApiView):
    dlq_id: str
    queue: str
    message_id: str | None = None
    contact_id: str | None = None
    error: str
    error_code: str | None = None
    attempts: int = 0
    replay_count: int = 0
    state: str
    failed_at: datetime
    last_replay_at: datetime | None = None
    last_replay_by: str | None = None
    payload: dict
    # Who it was for (dlq_recipients): the contact's name ("Deleted contact" once deleted) and the phone or
    # email the message was for, so that no page looks the contact up.
    recipient_name: str = ""
    recipient_address: str | None = None
    recipient_deleted: bool = False

    @computed_field  # JSON: failedAgain (a replay was sent and the message came back: what the page reports)
    @property
    def failed_again(self) -> bool:
        return self.state == "waiting" and self.last_replay_at is not None and self.failed_at > self.last_replay_at

    # What may be done with it, by the rules `replay` and `discard` apply, so that no client works them out.
    @computed_field  # JSON: replayBlockedReason
    @property
    def replay_blocked_reason(self) -> str | None:
        return replay_refusal(self.state, self.replay_count) or send_anyway_reason(self.error_code)

    @computed_field  # JSON: canReplay (a plain replay, alone or in bulk)
    @property
    def can_replay(self) -> bool:
        return self.replay_blocked_reason is None

    @computed_field  # JSON: needsSendAnyway (only a replay by hand with sendAnyway sends it)
    @property
    def needs_send_anyway(self) -> bool:
        return replay_refusal(self.state, self.replay_count) is None and send_anyway_reason(self.error_code) is not None

    @computed_field  # JSON: replayRisk (what sending it anyway risks, for the confirmation)
    @property
    def replay_risk(self) -> str | None:
        return SEND_ANYWAY_RISK if self.needs_send_anyway else None

    @computed_field  # JSON: discardBlockedReason
    @property
    def discard_blocked_reason(self) -> str | None:
        return discard_refusal(self.state)

    @computed_field  # JSON: canDiscard
    @property
    def can_discard(self) -> bool:
        return self.discard_blocked_reason is None


def to_dead_letter(row: DLQMessageModel, recipient: Recipient) -> DeadLetter:
    return DeadLetter(
        dlq_id=row.dlqId,
        queue=row.queue,
        message_id=row.messageId,
        contact_id=row.contactId,
        error=row.error,
        error_code=row.errorCode,
        attempts=int(row.attempts or 0),
        replay_count=int(row.replayCount or 0),
        state=row.state,
        failed_at=row.failedAt,
        last_replay_at=row.lastReplayAt,
        last_replay_by=row.lastReplayBy,
        payload=row.payload or {},
        recipient_name=recipient.name,
        recipient_address=recipient.address,
        recipient_deleted=recipient.deleted,
    )


def _views(rows: list[DLQMessageModel]) -> list[DeadLetter]:
    """The views of `rows`, their recipients read in one batch."""
    found = recipients(rows)
    return [to_dead_letter(row, found[row.dlqId]) for row in rows]


def list_dead_letters(
    actor: Actor,
    *,
    queue: str | None = None,
    error_code: str | None = None,
    older_than_minutes: int | None = None,
    state: str | None = "waiting",
    limit: int = 100,
) -> list[DeadLetter]:
    """Newest failures first, per queue (the byQueue index), filtered by error, age and state."""
    require(actor, Operation.DLQ_MANAGE)
    check_choice("queue", queue, QUEUES)
    if not 1 <= limit <= 500:
        raise ValidationError("limit: must be between 1 and 500", field="limit")
    kept_minutes = int(DLQMessageModel.retention.total_seconds() // 60)
    if older_than_minutes is not None and not 0 <= older_than_minutes <= kept_minutes:
        raise ValidationError(f"olderThanMinutes: from 0 to {kept_minutes} (dead letters are kept 7 days)", field="olderThanMinutes")
    now = utcnow()
    before = now - timedelta(minutes=older_than_minutes) if older_than_minutes else None
    rows: list[DLQMessageModel] = []
    for name in (queue,) if queue else QUEUES:
        condition = DLQMessageModel.failedAt <= before if before else None
        for row in DLQMessageModel.by_queue.query(name, condition, scan_index_forward=False, limit=EXAMINE_MAX,
                                                  page_size=500):
            if not row.is_live(now) or (state and row.state != state) or (error_code and row.errorCode != error_code):
                continue
            rows.append(row)
    rows.sort(key=lambda row: row.failedAt, reverse=True)
    return _views(rows[:limit])


_waiting: ExpiringMap[dict[str, int]] = ExpiringMap(capacity=1, ttl_seconds=WAITING_COUNT_SECONDS)


def forget_waiting_counts() -> None:
    _waiting.forget()


def waiting_counts() -> dict[str, int]:
    """Dead letters waiting for a person, per queue (the dashboard's tile: a number every role may see; the
    entries themselves are the Admins'). Read through the byQueue index, at most EXAMINE_MAX per queue, at most
    once per WAITING_COUNT_SECONDS per process (every open dashboard refreshes on every counted batch)."""
    cached = _waiting.get("all")
    if cached is not None:
        return dict(cached)
    now = utcnow()
    counts = {
        name: sum(1 for row in DLQMessageModel.by_queue.query(name, scan_index_forward=False, limit=EXAMINE_MAX,
                                                              page_size=500,
                                                              filter_condition=DLQMessageModel.state == "waiting")
                  if row.is_live(now))
        for name in QUEUES
    }
    _waiting.put("all", counts)
    return dict(counts)


def get_dead_letter(actor: Actor, dlq_id: str) -> DeadLetter:
    require(actor, Operation.DLQ_MANAGE)
    return _views([_row(dlq_id)])[0]


def _row(dlq_id: str) -> DLQMessageModel:
    if not isinstance(dlq_id, str) or not 1 <= len(dlq_id) <= 100:
        raise NotFound("No such dead letter.", field="dlqIds")
    try:
        row = DLQMessageModel.get(dlq_id, consistent_read=True)
    except DLQMessageModel.DoesNotExist:
        raise NotFound(f"No dead letter {dlq_id!r}.", field="dlqIds") from None
    if not row.is_live():
        raise NotFound(f"No dead letter {dlq_id!r}.", field="dlqIds")
    return row


class DlqAction(ApiModel):
    dlq_ids: list[str] = Field(default_factory=list, max_length=500)
    all: bool = False
    queue: Channel | None = None

    @model_validator(mode="after")
    def _something_chosen(self):
        if not self.dlq_ids and not self.all:
            raise ValueError("give dlqIds, or all: true")
        return self


class ReplayAction(DlqAction):
    """A replay; `send_anyway` (JSON sendAnyway, true or false only) replays one entry that may already have
    been delivered. Only one, named by id: the risk is taken per message, never for a selection or a filter."""

    send_anyway: StrictBool = False

    @model_validator(mode="after")
    def _send_anyway_one_by_one(self):
        if self.send_anyway and (self.all or len(set(self.dlq_ids)) != 1):
            raise ValueError("sendAnyway replays one entry: give exactly one dlqId, without all")
        return self


class DlqResult(ApiView):
    dlq_id: str
    outcome: str  # replayed | already_delivered | discarded | refused | skipped (needs sendAnyway)
    reason: str | None = None


def _chosen(actor: Actor, request: DlqAction) -> list[str]:
    if request.all:
        return [d.dlq_id for d in list_dead_letters(actor, queue=request.queue, limit=500)]
    return list(dict.fromkeys(request.dlq_ids))


def replay(actor: Actor, data: ReplayAction | dict, *, via: str = "api") -> list[DlqResult]:
    """Replay the chosen entries; those that may already have been delivered are skipped (with the reason)
    unless the request is a `sendAnyway` of that one entry."""
    require(actor, Operation.DLQ_MANAGE)
    request = parse_input(ReplayAction, data)
    return [replay_one(actor, dlq_id, via=via, send_anyway=request.send_anyway) for dlq_id in _chosen(actor, request)]


def replay_one(actor: Actor, dlq_id: str, *, via: str = "api", send_anyway: bool = False) -> DlqResult:
    """Replay one entry. A message the provider is known to have is closed as delivered, never re-sent (even
    with `send_anyway`); one that may have gone out unrecorded is skipped unless `send_anyway`."""
    entry = _row(dlq_id)
    blocked = replay_refusal(entry.state, int(entry.replayCount or 0))
    if blocked is not None:
        return DlqResult(dlq_id=dlq_id, outcome="refused", reason=blocked)
    try:
        message = MessageModel.get(entry.messageId, consistent_read=True)
    except MessageModel.DoesNotExist:
        return DlqResult(dlq_id=dlq_id, outcome="refused", reason="the message no longer exists (deleted or expired)")
    now = utcnow()
    work = UnitOfWork()
    if message.status in WENT_OUT or message.providerMessageId:
        _close(work, entry, "delivered", actor, now)
        work.save(audit_row(actor, "dlq.replay", "dlq", dlq_id, ["state"], {"outcome": "already_delivered", "via": via}, at=now))
        work.commit()
        return DlqResult(dlq_id=dlq_id, outcome="already_delivered", reason=f"the provider already has it ({message.status})")
    risked = send_anyway_reason(entry.errorCode) is not None
    if risked and not send_anyway:
        return DlqResult(dlq_id=dlq_id, outcome="skipped", reason=SEND_ANYWAY_REASON)
    how = "sent anyway" if risked else "replayed"
    step = StatusChange(status="PENDING", at=now, detail=f"{how} from the dead-letter queue by {actor.email or actor.user_id}")
    work.update(
        message,
        [
            MessageModel.status.set("PENDING"),
            MessageModel.attempts.set(0),
            MessageModel.pendingWork.set(PENDING_SEND),
            MessageModel.statusHistory.set(MessageModel.statusHistory.append([step])),
            MessageModel.updatedAt.set(now),
            # A person's replay is a fresh decision to send: its send-by time counts from now. The schedule's
            # is not, so a message the schedule keeps retrying still expires on time.
            *([] if actor.is_system else [MessageModel.queuedAt.set(now)]),
        ],
        condition=MessageModel.status.is_in("DEAD", "FAILED"),
        label="message",
    )
    work.update(
        entry,
        [
            DLQMessageModel.replayCount.add(1),
            DLQMessageModel.state.set("replayed"),
            DLQMessageModel.lastReplayAt.set(now),
            DLQMessageModel.lastReplayBy.set(actor.email or actor.user_id or "system"),
        ],
        # The very failure read above: one filed again meanwhile (say, an answer lost on the last replay) is
        # judged afresh, never replayed by what the old one allowed.
        condition=(DLQMessageModel.state == "waiting") & (DLQMessageModel.replayCount < MAX_REPLAYS) & (DLQMessageModel.failedAt == entry.failedAt),
        label="entry",
    )
    facts = {"outcome": "replayed", "messageId": message.messageId, "via": via}
    if risked:  # a person took the risk of a second delivery: the trail says so, and why it was a risk
        facts["errorCode"] = entry.errorCode
    action = "dlq.replay.send_anyway" if risked else "dlq.replay"
    work.save(audit_row(actor, action, "dlq", dlq_id, ["state", "replayCount"], facts, at=now))
    try:
        work.commit()
    except WriteConflict:
        return DlqResult(dlq_id=dlq_id, outcome="refused", reason="changed meanwhile (replayed or delivered); reload")
    enqueue(message.channel, message.messageId)
    return DlqResult(dlq_id=dlq_id, outcome="replayed")


def _close(work: UnitOfWork, entry: DLQMessageModel, state: str, actor: Actor, now: datetime) -> None:
    work.update(
        entry,
        [DLQMessageModel.state.set(state), DLQMessageModel.lastReplayAt.set(now), DLQMessageModel.lastReplayBy.set(actor.email or actor.user_id or "system")],
        condition=DLQMessageModel.state == "waiting",
        label="entry",
    )


def discard(actor: Actor, data: DlqAction | dict, *, via: str = "api") -> list[DlqResult]:
    require(actor, Operation.DLQ_MANAGE)
    request = parse_input(DlqAction, data)
    results = []
    for dlq_id in _chosen(actor, request):
        entry = _row(dlq_id)
        blocked = discard_refusal(entry.state)
        if blocked is not None:
            results.append(DlqResult(dlq_id=dlq_id, outcome="refused", reason=blocked))
            continue
        now = utcnow()
        work = UnitOfWork()
        _close(work, entry, "discarded", actor, now)
        work.save(audit_row(actor, "dlq.discard", "dlq", dlq_id, ["state"], {"via": via}, at=now))
        try:
            work.commit()
            results.append(DlqResult(dlq_id=dlq_id, outcome="discarded"))
        except WriteConflict:
            results.append(DlqResult(dlq_id=dlq_id, outcome="refused", reason=f"already {entry.state}"))
    return results


SCHEDULER = Actor.system("dlq-schedule")


def scheduled_replay(min_age: timedelta = timedelta(minutes=5)) -> list[DlqResult]:
    """The schedule: replay entries whose failure was transient (throttling, outage), once they are a few
    minutes old; permanent errors wait for a person, and entries that may already have been delivered are
    reported as skipped (a person sends them anyway, or discards them)."""
    cutoff = utcnow() - min_age
    results = []
    for queue in QUEUES:
        for row in DLQMessageModel.by_queue.query(queue, DLQMessageModel.failedAt <= cutoff):
            if not row.is_live() or replay_refusal(row.state, int(row.replayCount or 0)) is not None:
                continue
            skipped = send_anyway_reason(row.errorCode)
            if skipped is not None:
                results.append(DlqResult(dlq_id=row.dlqId, outcome="skipped", reason=skipped))
            elif row.errorCode in TRANSIENT_CODES:
                results.append(replay_one(SCHEDULER, row.dlqId, via="schedule"))
    return results
