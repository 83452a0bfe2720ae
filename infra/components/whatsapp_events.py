"""The WhatsApp events topic: End User Messaging Social publishes every inbound message and status event of the
WABA to it (set the `WhatsAppEventsTopicArn` output as the WABA's event destination); one function handles them.

The topic is not KMS-encrypted: publishing to an encrypted topic needs a customer managed key whose policy
admits the service. The handler is invoked asynchronously; an event that still fails after Lambda's retries
is kept in the `failed` queue instead of being dropped.
"""
from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_destinations import SqsDestination
from constructs import Construct

from infra.components.media import SOCIAL_MESSAGING_PRINCIPAL

HANDLER_RETRIES = 2
FAILED_RETENTION = Duration.days(14)


class WhatsAppEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str, handler: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", topic_name=f"{name_prefix}whatsapp-events", enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SOCIAL_MESSAGING_PRINCIPAL)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.failed = sqs.Queue(
            self,
            "Failed",
            queue_name=f"{name_prefix}whatsapp-events-failed",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILED_RETENTION,
        )
        handler.configure_async_invoke(retry_attempts=HANDLER_RETRIES, on_failure=SqsDestination(self.failed))
        self.topic.add_subscription(subscriptions.LambdaSubscription(handler))
