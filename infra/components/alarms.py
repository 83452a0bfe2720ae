"""The stack's alarms and the topic they notify: subscribe the people on call to the `AlarmTopicArn` output
(email, chat) once per stage; every alarm here publishes to it when it goes into ALARM.

What is watched, each in 5-minute periods, and "no data" is never an alarm (a function not invoked, a queue
with nothing on it, publish no data points):
- every deployed function: any Errors (an exception escaped the handler or it timed out; the handlers catch
  what they expect, so this is a bug or an outage) and any Throttles (the account's or function's concurrency
  ran out, so work waits or, for the API, is refused);
- each send queue: a backlog of `SEND_BACKLOG` visible messages for `SEND_BACKLOG_PERIODS` periods (sends are
  not keeping up; a queue holding a campaign at its channel's rate drains within that);
- each queue of work that failed for good (the send queues' dead-letter queues, the events topics' `failed`
  queues, the Message stream's `failed` queue): any visible message, for a person to look at (the DLQ page);
- the HTTP API: any `5xx` (AWS/ApiGateway, by ApiId): a 500 a function answered, a function error or an
  integration timeout;
- each channel's failed-send rate (below);
- the Message stream's reader: an iterator age above `STREAM_ITERATOR_AGE` (the dashboard counters lag).

The failed-send rate is counted from what the outbound functions log, not from their errors. A send the
provider refuses is not a function error: `outbox.deliver` classifies it, marks the message FAILED (or dead
-letters it after its attempts) and returns; the queue door then logs one line per delivered record,
`"<channel> <message id>: <result> <detail>"` (backend/api/queue_door.py), and reports nothing to Lambda. A math
expression over function errors would therefore stay at zero while every message of a channel fails, so it
would be a dishonest alarm. Instead two metric filters on each `outbound-<channel>` log group (JSON logs:
the line is the `message` of a record whose `logger` is `backend.api.queue_door`) count the results "failed"
and "dead" (not sent, for good) and "accepted" (handed to the provider) into the `WECARE.DIGITAL/<stage prefix>`
namespace, and the alarm is failed / (failed + accepted) above `FAILED_SEND_PERCENT`, once a period has at least
`FAILED_SEND_MIN_SENDS` results (two failures out of three sends are not yet a trend). Retries ("retry"), rate
and quiet-hours waits, expiries and skips are neither. The filters depend on that log line's wording: change
it and `SEND_RESULT_LINE` with it.

The topic is not KMS-encrypted (an encrypted one would need a customer managed key whose policy admits
CloudWatch); it takes only TLS requests and only CloudWatch alarms of this account may publish to it.
"""
from __future__ import annotations

from typing import Mapping

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)
SEND_BACKLOG = 1000
SEND_BACKLOG_PERIODS = 3
FAILED_SEND_PERCENT = 10
FAILED_SEND_MIN_SENDS = 10
FAILED_SEND_PERIODS = 2  # two periods in a row: one bad batch of a campaign is not yet an outage
STREAM_ITERATOR_AGE = Duration.minutes(15)  # the counters lag the messages by more than this

SEND_RESULT_LOGGER = "backend.api.queue_door"
SEND_RESULT_LINE = "*: {result} *"  # `"%s %s: %s %s", channel, message_id, outcome.result, outcome.detail`
FAILED_RESULTS = ("failed", "dead")
ACCEPTED_RESULTS = ("accepted",)


class Alarms(Construct):
    """`topic` is the alarm topic; `alarms` maps each alarm's name (without the stage prefix) to the alarm.

    `functions` maps a function name to the function; `send_consumers` a channel to its outbound function
    (its log group holds the send results); `send_queues` a channel to its send queue; `failed_queues` a label
    (the queue's name without the prefix) to each queue of work that failed for good; `stream_readers` the
    functions fed by a table stream (their iterator age is watched)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        functions: Mapping[str, lambda_.Function],
        send_consumers: Mapping[str, lambda_.Function],
        send_queues: Mapping[str, sqs.IQueue],
        failed_queues: Mapping[str, sqs.IQueue],
        http_api: apigw.IHttpApi,
        stream_readers: Mapping[str, lambda_.Function] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = name_prefix
        self.namespace = f"WECARE.DIGITAL/{name_prefix.rstrip('-')}"
        self.topic = sns.Topic(self, "Topic", topic_name=f"{name_prefix}alarms", enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                    },
                },
            )
        )
        self._action = actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for name, function in functions.items():
            self._alarm(f"{name}-errors", function.metric_errors(period=PERIOD, statistic="Sum"), 1,
                        f"{name} raised an error (see its log group)")
            self._alarm(f"{name}-throttles", function.metric_throttles(period=PERIOD, statistic="Sum"), 1,
                        f"{name} was throttled: its concurrency ran out")
        for channel, queue in send_queues.items():
            self._alarm(
                f"{channel}-send-backlog",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                SEND_BACKLOG,
                f"{SEND_BACKLOG}+ {channel} sends waiting for {SEND_BACKLOG_PERIODS * 5} minutes: sends are not keeping up",
                periods=SEND_BACKLOG_PERIODS,
            )
        for label, queue in failed_queues.items():
            self._alarm(
                f"{label}-not-empty",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                1,
                f"{label} holds work that failed for good: look at it and replay or discard it",
            )
        self._alarm(
            "api-5xx",
            http_api.metric_server_error(period=PERIOD, statistic="Sum"),
            1,
            "the HTTP API answered 5xx: a function's 500, a function error or an integration timeout",
        )
        for channel, consumer in send_consumers.items():
            self._failed_send_rate(channel, consumer)
        for name, reader in (stream_readers or {}).items():
            self._alarm(
                f"{name}-stream-behind",
                reader.metric("IteratorAge", period=PERIOD, statistic="Maximum"),
                STREAM_ITERATOR_AGE.to_milliseconds(),
                f"{name} is more than {STREAM_ITERATOR_AGE.to_minutes()} minutes behind its table's stream",
            )

    def _failed_send_rate(self, channel: str, consumer: lambda_.Function) -> None:
        failed = self._send_results(channel, "Failed", FAILED_RESULTS, consumer.log_group)
        accepted = self._send_results(channel, "Accepted", ACCEPTED_RESULTS, consumer.log_group)
        results = "(FILL(failed, 0) + FILL(accepted, 0))"
        rate = cloudwatch.MathExpression(
            expression=f"IF({results} >= {FAILED_SEND_MIN_SENDS}, 100 * FILL(failed, 0) / {results}, 0)",
            using_metrics={"failed": failed, "accepted": accepted},
            label=f"{channel} failed sends (%)",
            period=PERIOD,
        )
        self._alarm(
            f"{channel}-failed-sends",
            rate,
            FAILED_SEND_PERCENT,
            f"more than {FAILED_SEND_PERCENT}% of {channel} sends failed for good "
            f"({FAILED_SEND_PERIODS} periods of {FAILED_SEND_MIN_SENDS}+ sends): check the provider and the errors "
            "on the failed messages",
            periods=FAILED_SEND_PERIODS,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )

    def _send_results(
        self, channel: str, kind: str, results: tuple[str, ...], log_group: logs.ILogGroup
    ) -> cloudwatch.Metric:
        pattern = logs.FilterPattern.all(
            logs.FilterPattern.string_value("$.logger", "=", SEND_RESULT_LOGGER),
            logs.FilterPattern.any(
                *(logs.FilterPattern.string_value("$.message", "=", SEND_RESULT_LINE.format(result=r)) for r in results)
            ),
        )
        metric_filter = logs.MetricFilter(
            self,
            f"{channel}-{kind.lower()}-send-results",
            log_group=log_group,
            filter_pattern=pattern,
            metric_namespace=self.namespace,
            metric_name=f"{kind}Sends-{channel}",
            metric_value="1",
        )
        return metric_filter.metric(period=PERIOD, statistic="Sum")

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"{self._prefix}{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[name] = alarm
