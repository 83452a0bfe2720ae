"""The recurring jobs (EventBridge rule → function): the outbox sweep, media retries and transient DLQ replays
(dlq-replay), and the campaign runner's passes (bulk-job-control).

A rule runs at the interval the local scheduler uses. A run that cannot be delivered within one interval is
dropped: the next one does the same work.
"""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from backend.runtime.schedules import INTERVAL_SECONDS

INTERVAL = Duration.seconds(INTERVAL_SECONDS)


class Schedule(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str, target: lambda_.IFunction,
                 name: str = "messaging-schedule",
                 description: str = "Outbox sweep, inbound media retries and transient dead-letter replays") -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            rule_name=f"{name_prefix}{name}",
            description=description,
            schedule=events.Schedule.rate(INTERVAL),
            targets=[targets.LambdaFunction(target, retry_attempts=2, max_event_age=INTERVAL)],
        )
