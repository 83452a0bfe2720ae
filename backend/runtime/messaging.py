"""The local messaging runtime inside the app process: send-queue workers, the sandbox's status events fed
through the inbound pipeline, and the schedule. In AWS, SQS, SNS and EventBridge do these jobs."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.adapters.send_queue import LocalSendQueue, send_queue
from backend.runtime.schedules import start_local_scheduler
from backend.services.channels.registry import REGISTRY, Ingest

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

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.queue is not None:
            self.queue.stop()
        for entry in REGISTRY.values():
            entry.provider.set_sink(None)


def start_messaging(*, scheduler: bool = True) -> MessagingRuntime:
    for entry in REGISTRY.values():
        entry.provider.set_sink(_logged(entry.ingest))
    queue = send_queue()
    local = queue if isinstance(queue, LocalSendQueue) else None
    if local is not None:
        local.start()
    return MessagingRuntime(queue=local, scheduler=start_local_scheduler() if scheduler else None)
