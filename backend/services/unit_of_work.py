"""A batch of conditional writes committed all-or-nothing, reporting which labelled write lost a race."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from backend.models.base import WecareModel, transaction

MAX_ITEMS = 100


@dataclass
class _Write:
    kind: str  # save | delete | update
    row: WecareModel
    condition: Condition | None
    label: Any = None
    actions: list | None = None


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
        if len(self.writes) > MAX_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_ITEMS} writes, got {len(self.writes)}")
        try:
            with transaction() as tx:
                for write in self.writes:
                    if write.kind == "save":
                        tx.save(write.row, condition=write.condition)
                    elif write.kind == "update":
                        tx.update(write.row, list(write.actions), condition=write.condition, add_version_condition=False)
                    else:
                        tx.delete(write.row, condition=write.condition)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            failed = [
                write.label
                for write, reason in zip(self.writes, reasons)
                if reason is not None and reason.code == "ConditionalCheckFailed"
            ]
            if failed or any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
                raise WriteConflict(failed) from error
            raise


class WriteConflict(Exception):
    """One or more conditional writes failed; `labels` names the ones that did (None for unlabelled)."""

    def __init__(self, labels: list[Any]):
        super().__init__(f"conditional writes failed: {labels}")
        self.labels = labels


