"""Send queues: SQS in AWS; locally an in-process scheduler whose workers call the same Lambda handlers.

A queue carries only message ids: the durable state is the Message row (written PENDING before enqueueing),
so losing the local queue in a crash loses nothing; the outbox sweep re-enqueues what is left.

In AWS a record that fails `MAX_RECEIVES` times moves to its channel's SQS dead-letter queue
(infra/components/queues.py); `SqsDeadLetters` reads and empties those for the dead-letter drain
(services/messaging/dlq_drain.py). The local queue keeps no dead letters: there is nothing to drain.
"""
from __future__ import annotations

import heapq
import importlib.util
import itertools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

import boto3

from backend.adapters.channels.errors import PROVIDER_CLIENT_CONFIG
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
MAX_SQS_DELAY = 900
LOCAL_VISIBILITY_SECONDS = 5.0
LOCAL_MAX_RECEIVES = 5
# The longest one queued send can take with its provider: at most two calls (a WhatsApp media upload, then the
# send), each connect + read, since the clients never retry. A claimed send older than this (and a margin) has
# lapsed; an SQS consumer's timeout is sized from it (infra/components/queues.py).
PROVIDER_CALLS_PER_SEND = 2
SEND_SECONDS_MAX = PROVIDER_CALLS_PER_SEND * (PROVIDER_CLIENT_CONFIG.connect_timeout + PROVIDER_CLIENT_CONFIG.read_timeout)


class SendQueue(Protocol):
    def enqueue(self, channel: str, message_id: str, delay_seconds: float = 0.0) -> None: ...


def message_id_of(body: str | None) -> str | None:
    """The message id a send queue record's body carries (`{"messageId": ...}`, as `enqueue` writes it), or
    None when it carries none (a malformed record: it can never be delivered)."""
    try:
        parsed = json.loads(body or "")
    except ValueError:
        return None
    value = parsed.get("messageId") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def sqs_record(message_id: str, receive_count: int = 1, record_id: str | None = None) -> dict:
    """An SQS Lambda event record carrying one message id (what the outbound handlers consume)."""
    return {
        "messageId": record_id or uuid.uuid4().hex,
        "receiptHandle": "local",
        "body": json.dumps({"messageId": message_id}),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "eventSource": "aws:sqs",
    }


class SqsSendQueue:
    def __init__(self, queue_urls: dict[str, str], client=None, region: str | None = None):
        self.queue_urls = queue_urls
        self.client = client or boto3.client("sqs", region_name=region)

    def enqueue(self, channel: str, message_id: str, delay_seconds: float = 0.0) -> None:
        url = self.queue_urls.get(channel)
        if not url:
            raise RuntimeError(f"no send queue configured for channel {channel!r}")
        self.client.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"messageId": message_id}),
            DelaySeconds=max(0, min(MAX_SQS_DELAY, int(round(delay_seconds)))),
        )


SQS_RECEIVE_MAX = 10  # ReceiveMessage returns at most ten records


@dataclass(frozen=True)
class DeadRecord:
    """One record of a send queue's SQS dead-letter queue: the message id its body carries (None: malformed),
    when it was first sent to the send queue (SQS keeps that time when it moves the record), and the handle to
    delete it by."""

    channel: str
    record_id: str
    receipt_handle: str
    message_id: str | None
    sent_at: datetime | None


class SqsDeadLetters:
    """The send queues' SQS dead-letter queues, `queue_urls` by channel (`WECARE_SEND_DLQ_URLS`)."""

    def __init__(self, queue_urls: dict[str, str], client=None, region: str | None = None):
        self.queue_urls = queue_urls
        self.client = client or boto3.client("sqs", region_name=region)

    @property
    def channels(self) -> list[str]:
        return list(self.queue_urls)

    def waiting(self, channel: str) -> int:
        """About how many records the channel's dead-letter queue holds that may be received now."""
        answer = self.client.get_queue_attributes(QueueUrl=self.queue_urls[channel], AttributeNames=["ApproximateNumberOfMessages"])
        return int(answer.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))

    def receive(self, channel: str, max_records: int, visibility_seconds: int) -> list[DeadRecord]:
        """Up to `max_records` (at most ten) records, without waiting (short poll: an empty answer may leave a
        few behind, for the next pass); each is hidden from other receives for `visibility_seconds`."""
        answer = self.client.receive_message(
            QueueUrl=self.queue_urls[channel],
            MaxNumberOfMessages=max(1, min(SQS_RECEIVE_MAX, max_records)),
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_seconds,
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        return [_dead_record(channel, message) for message in answer.get("Messages", [])]

    def delete(self, record: DeadRecord) -> None:
        self.client.delete_message(QueueUrl=self.queue_urls[record.channel], ReceiptHandle=record.receipt_handle)


def _dead_record(channel: str, message: dict) -> DeadRecord:
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return DeadRecord(
        channel=channel,
        record_id=message.get("MessageId", ""),
        receipt_handle=message["ReceiptHandle"],
        message_id=message_id_of(message.get("Body")),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, timezone.utc) if sent and sent.isdigit() else None,
    )


def lambda_handler(function: str) -> Callable[[dict, object], dict]:
    """Load `lambdas/<function>/handler.py` (folder names have dashes, so not importable by name)."""
    path = LAMBDAS_DIR / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"lambda_{function.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


class LocalSendQueue:
    """Due-time ordered queue; `start()` runs worker threads, `run_due()` drains synchronously (tests)."""

    def __init__(self, handler_for: Callable[[str], Callable[[dict, object], dict]] | None = None, workers: int = 2):
        self._handler_for = handler_for or (lambda channel: lambda_handler(f"outbound-{channel}"))
        self._handlers: dict[str, Callable] = {}
        self._heap: list[tuple[float, int, str, str, int]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._busy = 0

    def enqueue(self, channel: str, message_id: str, delay_seconds: float = 0.0) -> None:
        self._push(channel, message_id, 1, time.monotonic() + max(0.0, delay_seconds))

    def _push(self, channel: str, message_id: str, receive_count: int, due: float) -> None:
        with self._condition:
            heapq.heappush(self._heap, (due, next(self._sequence), channel, message_id, receive_count))
            self._condition.notify()

    def __len__(self) -> int:
        with self._condition:
            return len(self._heap)

    def start(self) -> None:
        if self._threads:
            return
        self._stopping = False
        for index in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"send-queue-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 2.0) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def idle(self) -> bool:
        with self._condition:
            return not self._heap and self._busy == 0

    def run_due(self, *, ignore_delays: bool = False, max_items: int = 10_000) -> int:
        """Process every item that is due (or all of them); returns how many were processed."""
        processed = 0
        while processed < max_items:
            with self._condition:
                if not self._heap or (not ignore_delays and self._heap[0][0] > time.monotonic()):
                    return processed
                item = heapq.heappop(self._heap)
            self._deliver(*item[2:])
            processed += 1
        return processed

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._stopping and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = None if not self._heap else max(0.0, self._heap[0][0] - time.monotonic())
                    self._condition.wait(timeout)
                if self._stopping:
                    return
                item = heapq.heappop(self._heap)
                self._busy += 1
            try:
                self._deliver(*item[2:])
            finally:
                with self._condition:
                    self._busy -= 1

    def _deliver(self, channel: str, message_id: str, receive_count: int) -> None:
        handler = self._handlers.get(channel)
        if handler is None:
            handler = self._handlers[channel] = self._handler_for(channel)
        try:
            result = handler({"Records": [sqs_record(message_id, receive_count)]}, None) or {}
            failed = bool(result.get("batchItemFailures"))
        except Exception:
            log.exception("send handler for %s crashed on %s", channel, message_id)
            failed = True
        if failed:
            if receive_count < LOCAL_MAX_RECEIVES:
                self._push(channel, message_id, receive_count + 1, time.monotonic() + LOCAL_VISIBILITY_SECONDS)
            else:
                log.error("%s message %s failed %d receives; the outbox sweep will pick it up", channel, message_id, receive_count)


_queue: SendQueue | None = None
_queue_lock = threading.Lock()


def send_queue(settings: Settings | None = None) -> SendQueue:
    """SQS when queue URLs are configured (AWS), else this process's local queue."""
    global _queue
    with _queue_lock:
        if _queue is None:
            settings = settings or get_settings()
            if settings.send_queue_urls:
                _queue = SqsSendQueue(settings.send_queue_urls, region=settings.aws_region)
            else:
                _queue = LocalSendQueue(workers=settings.outbox_workers)
        return _queue


def use_send_queue(queue: SendQueue | None) -> None:
    """Replace this process's queue (tests; None resets to the settings' default)."""
    global _queue
    with _queue_lock:
        _queue = queue


_dead_letters: SqsDeadLetters | None = None


def send_dead_letters(settings: Settings | None = None) -> SqsDeadLetters | None:
    """The send queues' SQS dead-letter queues when their URLs are configured (AWS); None locally, where the
    local queue keeps no dead letters (a record that fails `LOCAL_MAX_RECEIVES` times is the sweep's)."""
    global _dead_letters
    with _queue_lock:
        if _dead_letters is None:
            settings = settings or get_settings()
            if settings.send_dlq_urls:
                _dead_letters = SqsDeadLetters(settings.send_dlq_urls, region=settings.aws_region)
        return _dead_letters


def use_send_dead_letters(dead_letters: SqsDeadLetters | None) -> None:
    """Replace this process's dead-letter queues (tests; None resets to the settings' default)."""
    global _dead_letters
    with _queue_lock:
        _dead_letters = dead_letters
