"""The local messaging runtime inside the app process: send-queue workers, the sandbox's status events fed
through the inbound pipeline, and the schedule. In AWS, SQS, SNS and EventBridge do these jobs."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.adapters.channels.email_factory import set_email_event_sink
from backend.adapters.channels.factory import set_sandbox_event_sink
from backend.adapters.channels.sms_factory import set_sms_event_sink
from backend.adapters.channels.voice_factory import set_voice_event_sink
from backend.adapters.send_queue import LocalSendQueue, send_queue
from backend.runtime.schedules import start_local_scheduler
from backend.services.channels.email.events import ingest_email_event
from backend.services.channels.sms.inbound import ingest_sms_event
from backend.services.channels.whatsapp.inbound import ingest
from backend.services.channels.voice.events import ingest_voice_event
from backend.adapters.channels.whatsapp_events import parse_sns_message

log = logging.getLogger(__name__)


def _logged(ingest_event):
    """A sandbox sink: the SNS-shaped event takes the same path as a real one; a failure is logged, not raised
    into the sandbox's timer thread."""

    def sink(sns_message: str) -> None:
        try:
            ingest_event(sns_message)
        except Exception:
            log.exception("sandbox event could not be ingested")

    return sink


SANDBOX_SINKS = (
    (set_sandbox_event_sink, lambda message: ingest(parse_sns_message(message))),
    (set_sms_event_sink, ingest_sms_event),
    (set_email_event_sink, ingest_email_event),
    (set_voice_event_sink, ingest_voice_event),
)


@dataclass
class MessagingRuntime:
    queue: LocalSendQueue | None
    scheduler: object | None

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.queue is not None:
            self.queue.stop()
        for set_sink, _ in SANDBOX_SINKS:
            set_sink(None)


def start_messaging(*, scheduler: bool = True) -> MessagingRuntime:
    for set_sink, ingest_event in SANDBOX_SINKS:
        set_sink(_logged(ingest_event))
    queue = send_queue()
    local = queue if isinstance(queue, LocalSendQueue) else None
    if local is not None:
        local.start()
    return MessagingRuntime(queue=local, scheduler=start_local_scheduler() if scheduler else None)
