"""The local messaging runtime inside the app process: send-queue workers, the sandbox's status events fed
through the inbound pipeline, and the schedule. In AWS, SQS, SNS and EventBridge do these jobs."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.adapters.channels.factory import set_sandbox_event_sink
from backend.adapters.send_queue import LocalSendQueue, send_queue
from backend.runtime.schedules import start_local_scheduler
from backend.services.inbound_whatsapp import ingest
from backend.services.whatsapp_events import parse_sns_message

log = logging.getLogger(__name__)


def deliver_sandbox_event(sns_message: str) -> None:
    """The sandbox's SNS-shaped events take the same path as real ones from AWS."""
    try:
        ingest(parse_sns_message(sns_message))
    except Exception:
        log.exception("sandbox event could not be ingested")


@dataclass
class MessagingRuntime:
    queue: LocalSendQueue | None
    scheduler: object | None

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.queue is not None:
            self.queue.stop()
        set_sandbox_event_sink(None)


def start_messaging(*, scheduler: bool = True) -> MessagingRuntime:
    set_sandbox_event_sink(deliver_sandbox_event)
    queue = send_queue()
    local = queue if isinstance(queue, LocalSendQueue) else None
    if local is not None:
        local.start()
    return MessagingRuntime(queue=local, scheduler=start_local_scheduler() if scheduler else None)
