"""Group commit: the transactions that concurrent callers submit meanwhile go to DynamoDB as one.

A caller that finds a free slot commits at once (a lone Lambda invocation waits for nothing). Callers that
arrive while commits are in flight queue up, and the next free slot commits all of them together: up to
100 writes in one TransactWriteItems call, never two writes on the same item. Each caller still gets
exactly what `UnitOfWork.commit` would give it: nothing written and `WriteConflict` with its own failed
labels when one of its conditions fails; the others in the group are retried without it (a cancelled
transaction writes nothing, and DynamoDB names every failed condition). Any other failure of a group
(throttling, a conflicting transaction) falls back to committing each caller's work on its own.

Why: DynamoDB Local spends most of its time on per-request work, and a real table's throughput per
connection is bounded by round trips; one call for many small transactions helps both.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError

from backend.services.storage.unit_of_work import MAX_ITEMS, UnitOfWork, WriteConflict, failed_writes, transact

_PENDING, _TAKEN, _DONE = "pending", "taken", "done"


@dataclass(eq=False)
class _Ticket:
    work: UnitOfWork
    state: str = _PENDING
    error: BaseException | None = None
    keys: set[tuple] = field(default_factory=set)


@dataclass(frozen=True)
class GroupStats:
    groups: int  # TransactWriteItems calls made for groups (retries after a conflict not counted)
    works: int  # callers' units of work committed through them

    @property
    def mean_group(self) -> float:
        return self.works / self.groups if self.groups else 0.0


class GroupCommit:
    def __init__(self, *, max_items: int = MAX_ITEMS, max_in_flight: int = 2):
        self._max_items = max_items
        self._max_in_flight = max_in_flight  # two: one group is built and parsed while the other commits
        self._in_flight = 0
        self._pending: deque[_Ticket] = deque()
        self._changed = threading.Condition()
        self._groups = self._works = 0

    def stats(self) -> GroupStats:
        with self._changed:
            return GroupStats(self._groups, self._works)

    def commit(self, work: UnitOfWork) -> None:
        """Like `work.commit()`, possibly sharing the call with other threads' work."""
        if not work.writes:
            return
        if len(work.writes) > self._max_items:
            work.commit()  # too big to share; UnitOfWork reports it
            return
        ticket = _Ticket(work, keys={write.item_key() for write in work.writes})
        with self._changed:
            self._pending.append(ticket)
            while ticket.state is not _DONE:
                if ticket.state is _PENDING and self._in_flight < self._max_in_flight:
                    self._lead()
                else:
                    self._changed.wait()
        if ticket.error is not None:
            raise ticket.error

    def _lead(self) -> None:
        """Take a group (lock held), commit it with the lock released, then wake everyone."""
        group = self._take_group()
        self._in_flight += 1
        self._groups += 1
        self._works += len(group)
        self._changed.release()
        try:
            _commit_group(group)
        finally:
            self._changed.acquire()
            self._in_flight -= 1
            for ticket in group:
                ticket.state = _DONE
            self._changed.notify_all()

    def _take_group(self) -> list[_Ticket]:
        """The oldest pending tickets that fit, skipping any that touches an item already in the group."""
        group: list[_Ticket] = []
        keys: set[tuple] = set()
        size = 0
        skipped: list[_Ticket] = []
        while self._pending:
            ticket = self._pending.popleft()
            if size + len(ticket.work.writes) > self._max_items:
                self._pending.appendleft(ticket)
                break
            if ticket.keys & keys:
                skipped.append(ticket)
                continue
            ticket.state = _TAKEN
            group.append(ticket)
            keys |= ticket.keys
            size += len(ticket.work.writes)
        self._pending.extendleft(reversed(skipped))
        return group


def _commit_group(group: list[_Ticket]) -> None:
    """Set each ticket's outcome (error None means written)."""
    remaining = list(group)
    while len(remaining) > 1:
        writes = [write for ticket in remaining for write in ticket.work.writes]
        try:
            transact(writes)
            return
        except TransactWriteError as error:
            failed = failed_writes(error, writes)
        except Exception:  # e.g. the connection: each caller's own commit meets it again and reports it
            failed = None
        if failed is None:
            break
        remaining = _without_conflicts(remaining, {id(write) for write in failed})
    for ticket in remaining:
        try:
            ticket.work.commit()
        except Exception as error:  # handed to the caller's thread, which re-raises it
            ticket.error = error


def _without_conflicts(tickets: list[_Ticket], failed: set[int]) -> list[_Ticket]:
    """Give the tickets with a failed condition their WriteConflict; the rest are to be retried."""
    retry = []
    for ticket in tickets:
        mine = [write for write in ticket.work.writes if id(write) in failed]
        if mine:
            ticket.error = WriteConflict([write.label for write in mine])
        else:
            retry.append(ticket)
    return retry


inbound_commits = GroupCommit()
