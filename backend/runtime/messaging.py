"""The local messaging runtime inside the app process: send-queue workers, the sandbox's status events fed
through the inbound pipeline, and the schedule. In AWS, SQS, SNS and EventBridge do these jobs.

Starting is also recovering: the last process's in-memory queue and timers died with it, so its PENDING rows
are re-enqueued at once (`outbox.recover_after_restart`) and, in sandbox mode, the status events it still owed
are delivered (`sandbox_events.resume_channel`), before the first minute of the schedule."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.adapters.channels.sandbox_events import resume_channel
from backend.adapters.send_queue import LocalSendQueue, send_queue
from backend.runtime.campaigns import CampaignRunner
from backend.runtime.schedules import start_local_scheduler
from backend.services.channels.registry import REGISTRY, Ingest, find_send
from backend.services.media import library
from backend.services.messaging import conversations, outbox
from backend.services.platform import team
from backend.settings import SendMode, get_settings

log = logging.getLogger(__name__)


def _logged(ingest: Ingest):
    """A sandbox sink: the SNS-shaped event takes the channel's own ingest, as a real one does; a failure is
    logged, not raised into the sandbox's timer thread."""

    def sink(sns_message: str) -> None:
        try:
            ingest(sns_message, None)
        except Exception:
            log.exception("sandbox event could not be ingested")

    return sink


@dataclass
class MessagingRuntime:
    queue: LocalSendQueue | None
    scheduler: object | None
    campaigns: CampaignRunner | None = None

    def stop(self) -> None:
        if self.campaigns is not None:
            self.campaigns.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.queue is not None:
            self.queue.stop()
        for entry in REGISTRY.values():
            entry.provider.set_sink(None)


def start_messaging(*, scheduler: bool | None = None) -> MessagingRuntime:
    """`scheduler` (default: only locally): the minute's schedule (DLQ replay, sweeps). In AWS EventBridge runs it
    on the dlq-replay and campaign functions, so the web tier's processes must not run it again."""
    if scheduler is None:
        scheduler = get_settings().is_local
    sandbox = get_settings().send_mode is SendMode.SANDBOX
    for channel, entry in REGISTRY.items():
        sink = _logged(entry.ingest)
        entry.provider.set_sink(sink)
        if sandbox:
            resume_channel(channel.value, sink)
    queue = send_queue()
    local = queue if isinstance(queue, LocalSendQueue) else None
    if local is not None:
        local.start()
        _recover()
    campaigns = CampaignRunner().start() if local is not None and scheduler else None
    return MessagingRuntime(queue=local, scheduler=start_local_scheduler() if scheduler else None, campaigns=campaigns)


def _recover() -> None:
    """The start-up sweep; a failure is logged and left to the minute's schedule, never fatal to the app."""
    try:
        report = outbox.recover_after_restart(find_send=find_send)
    except Exception:
        log.exception("the start-up outbox sweep failed; the schedule will retry within a minute")
        return
    if report.requeued or report.dead_lettered or report.expired or report.settled:
        log.info("start-up sweep: %s", report)
    try:
        opened = conversations.open_legacy_conversations()
        team.index_earlier_users()
        library.index_earlier_files()
    except Exception:
        log.exception("could not give the conversations from before the team inbox a status; retried at the next start")
        return
    if opened:
        log.info("team inbox: %d earlier conversation(s) are open", opened)
