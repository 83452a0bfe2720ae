"""The send queues: one SQS queue per channel, consumed by its outbound function, with an SQS dead-letter queue.

A queue carries only message ids (the Message row is the durable state). The consumer reports failed records
one by one (partial batch responses), so SQS redelivers only those; a record that fails `MAX_RECEIVES` times
moves to the channel's dead-letter queue.

A batch cannot outlive its function: the numbers are declared here once and derived. The consumer handles a
batch's records one after another, and one send takes at most `SEND_SECONDS_MAX` with its provider (the
provider clients' connect + read timeouts, which never retry, for each of its calls), so the consumer's
timeout is `BATCH_SIZE` sends plus a margin; the visibility timeout is `VISIBILITY_FACTOR` times that, as AWS
advises for Lambda consumers, so a batch still running is never handed to a second consumer.
"""
from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import SqsEventSource
from constructs import Construct

from backend.adapters.send_queue import SEND_SECONDS_MAX

MAX_RECEIVES = 5
BATCH_SIZE = 10
CONSUMER_MARGIN_SECONDS = 30  # a cold start, and each record's row reads and writes
CONSUMER_TIMEOUT = Duration.seconds(BATCH_SIZE * SEND_SECONDS_MAX + CONSUMER_MARGIN_SECONDS)
VISIBILITY_FACTOR = 6
LAMBDA_MAX_TIMEOUT_SECONDS = 900
if CONSUMER_TIMEOUT.to_seconds() > LAMBDA_MAX_TIMEOUT_SECONDS:
    raise ValueError(f"a batch of {BATCH_SIZE} sends needs {CONSUMER_TIMEOUT.to_seconds()} s, more than a Lambda "
                     "function may run: lower BATCH_SIZE")
DEAD_LETTER_RETENTION = Duration.days(14)  # the SQS maximum: time for a person to look


class SendQueues(Construct):
    """`by_channel` maps a channel ("whatsapp", ...) to its send queue; `dead_letters` to its dead-letter queue.
    Each consumer is built with `CONSUMER_TIMEOUT` (infra.wecare_stack)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name_prefix: str, consumers: dict[str, lambda_.Function]
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_channel: dict[str, sqs.Queue] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        for channel, consumer in consumers.items():
            self.dead_letters[channel] = dead_letters = _queue(
                self, f"{channel}-dlq", f"{name_prefix}{channel}-send-dlq", retention_period=DEAD_LETTER_RETENTION
            )
            self.by_channel[channel] = queue = _queue(
                self,
                channel,
                f"{name_prefix}{channel}-send",
                visibility_timeout=Duration.seconds(VISIBILITY_FACTOR * consumer.timeout.to_seconds()),
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=dead_letters),
            )
            consumer.add_event_source(SqsEventSource(queue, batch_size=BATCH_SIZE, report_batch_item_failures=True))

    def urls_json(self, channels: list[str]) -> str:
        """`WECARE_SEND_QUEUE_URLS` for a function that may enqueue on `channels`: {"whatsapp": "<url>", ...}."""
        return Stack.of(self).to_json_string({channel: self.by_channel[channel].queue_url for channel in channels})


def _queue(scope: Construct, construct_id: str, queue_name: str, **props) -> sqs.Queue:
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **props,
    )
