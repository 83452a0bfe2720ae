"""A batch of conditional writes committed all-or-nothing, reporting which labelled write lost a race.

One write alone is sent as that write (a conditional PutItem, UpdateItem or DeleteItem), not as a transaction
of one: it is as atomic, and a transaction costs the store about twice the work (DynamoDB bills it double)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition

from backend.models.base import WecareModel, transaction

MAX_ITEMS = 100
CONDITION_FAILED = "ConditionalCheckFailed"
_SENT_ORDER = {"delete": 0, "save": 1, "update": 2}  # pynamodb sends a transaction's writes grouped by kind


@dataclass
class _Write:
    kind: str  # save | delete | update
    row: WecareModel
    condition: Condition | None
    label: Any = None
    actions: list | None = None

    def item_key(self) -> tuple:
        """Which stored item this write touches: a transaction may touch each item only once."""
        return (type(self.row).Meta.table_name, *self.row._get_serialized_keys())


@dataclass
class UnitOfWork:
    writes: list[_Write] = field(default_factory=list)

    def save(self, row: WecareModel, condition: Condition | None = None, label: Any = None) -> None:
        self.writes.append(_Write("save", row, condition, label))

    def delete(self, row: WecareModel, condition: Condition | None = None, label: Any = None) -> None:
        self.writes.append(_Write("delete", row, condition, label))

    def update(self, row: WecareModel, actions: list, condition: Condition | None = None, label: Any = None) -> None:
        """Apply update actions to the stored item; a versioned row's version is bumped, not checked."""
        self.writes.append(_Write("update", row, condition, label, actions))

    def __len__(self) -> int:
        return len(self.writes)

    def commit(self) -> None:
        """Write everything or nothing. On a failed condition raise `WriteConflict` with the failed labels."""
        if not self.writes:
            return
        if len(self.writes) == 1:
            _write_one(self.writes[0])
            return
        try:
            transact(self.writes)
        except TransactWriteError as error:
            failed = failed_writes(error, self.writes)
            if failed is None:
                raise
            raise WriteConflict([write.label for write in failed]) from error


def transact(writes: list[_Write]) -> None:
    """One TransactWriteItems call for these writes (raises pynamodb's TransactWriteError)."""
    if len(writes) > MAX_ITEMS:
        raise ValueError(f"a transaction holds at most {MAX_ITEMS} writes, got {len(writes)}")
    with transaction() as tx:
        for write in _as_sent(writes):
            if write.kind == "save":
                tx.save(write.row, condition=write.condition)
            elif write.kind == "update":
                tx.update(write.row, list(write.actions), condition=write.condition, add_version_condition=False)
            else:
                tx.delete(write.row, condition=write.condition)


def _write_one(write: _Write) -> None:
    try:
        if write.kind == "save":
            write.row.save(condition=write.condition)
        elif write.kind == "update":
            write.row.update(list(write.actions), condition=write.condition, add_version_condition=False)
        else:
            write.row.delete(condition=write.condition)
    except (PutError, UpdateError, DeleteError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise WriteConflict([write.label]) from error
        raise


def failed_writes(error: TransactWriteError, writes: list[_Write]) -> list[_Write] | None:
    """The writes whose condition failed, or None when the transaction failed for another reason
    (throttling, a concurrent transaction on the same item, bad input)."""
    reasons = error.cancellation_reasons or []
    if not any(reason is not None and reason.code == CONDITION_FAILED for reason in reasons):
        return None
    return [write for write, reason in zip(_as_sent(writes), reasons) if reason is not None and reason.code == CONDITION_FAILED]


def _as_sent(writes: list[_Write]) -> list[_Write]:
    """The writes in the order DynamoDB receives them, which is the order of its cancellation reasons."""
    return sorted(writes, key=lambda write: _SENT_ORDER[write.kind])


class WriteConflict(Exception):
    """One or more conditional writes failed; `labels` names the ones that did (None for unlabelled)."""

    def __init__(self, labels: list[Any]):
        super().__init__(f"conditional writes failed: {labels}")
        self.labels = labels
