"""The Message table's stream → messages-read, which keeps the message counters the dashboard and analytics read
(`backend/services/analytics/counters.py` `count_stream_event`; docs/architecture.md, "counters kept from the
stream").

Lambda reads each shard from its oldest record (TRIM_HORIZON: a new mapping counts what the stream still holds,
24 hours of it, rather than starting at "now" and missing the writes made while it was created) in batches of
up to `BATCH_SIZE`, one shard's batches in order. A batch the function fails is split in two and the halves
retried (bisect), so one record that can never be counted holds back only itself, within `RETRY_ATTEMPTS`
retries; what still fails is dropped from the stream and its shard and sequence range are put on the encrypted
`failed` queue (an alarm watches it; the days it names can be recounted). The handler counts a batch once
however often it is delivered (its claim is the first sequence number of each run of records it writes in one
transaction) and returns counts, not `batchItemFailures`, so partial batch responses are not turned on.

A limit of bisecting, for the handler's owners: a half's claim is its own first record, so when a batch wrote
one run, failed on a later run and is split inside the run it wrote, the second half counts that run's tail a
second time. Runs break only when a batch touches more days than one transaction takes, so this needs a
failure in a batch spanning many days; retrying whole batches (no bisect) would avoid it at the price of one
poison record discarding its whole batch.

The reader is granted only what reading the stream takes: DescribeStream, GetRecords and GetShardIterator on
this table's stream, and ListStreams on this table's streams only (the CDK's DynamoEventSource would grant
ListStreams on `*`, every table of the account, which the stack's least-privilege rule forbids). The counters
it writes are SystemConfig items: that grant is infra.table_access's.
"""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import SqsDlq
from constructs import Construct

BATCH_SIZE = 100
RETRY_ATTEMPTS = 5  # then the batch is bisected; retries of the halves are bounded by this too
FAILED_RETENTION = Duration.days(14)  # the SQS maximum: time for a person to look
STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


class MessageStream(Construct):
    """`failed` is the queue of the batches `reader` could not count; `mapping` the event source mapping."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name_prefix: str, table: dynamodb.ITable,
        reader: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        if table.table_stream_arn is None:
            raise ValueError("the Message table has no stream: its spec must name a stream view type")
        self.failed = sqs.Queue(
            self,
            "Failed",
            queue_name=f"{name_prefix}message-stream-failed",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILED_RETENTION,
        )
        reader.add_to_role_policy(
            iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[table.table_stream_arn])
        )
        reader.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=[f"{table.table_arn}/stream/*"])
        )
        # The function resource depends on its role's policy, and the mapping on the function: the grants
        # exist before Lambda checks them on creating the mapping.
        self.mapping = reader.add_event_source_mapping(
            "MessageStream",
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE,
            bisect_batch_on_error=True,
            retry_attempts=RETRY_ATTEMPTS,
            on_failure=SqsDlq(self.failed),  # also grants the reader sqs:SendMessage on it (Lambda sends as it)
        )
