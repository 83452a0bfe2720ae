"""The provider events of SMS, voice and email: the topics AWS publishes them to, the configuration sets that
make it publish, and the functions subscribed.

AWS End User Messaging SMS and voice publishes the delivery events of texts (TEXT_*) and calls (VOICE_*) through
the `sms-voice` configuration set's event destination, and two-way SMS publishes customers' texts (no
`eventType`, an `inboundMessageId`) to the topic set as the origination number's two-way channel: set the
`SmsVoiceEventsTopicArn` output there (the number is the account's, not the stack's). Both go to one topic;
filter policies on the message body hand outbound-sms the texts and their events and outbound-voice the call
events, so neither is invoked for the other's. (Unfiltered, the code would cope: `sms_events` maps VOICE_* to
no status, and `voice_events` skips other event types but logs and counts an inbound text, which has no
`eventType`, as a rejected record.) SES publishes Send, Delivery, Bounce, Complaint and Reject through the
`email` configuration set to a second topic, for outbound-email.

As for the WhatsApp events topic, the topics are not KMS-encrypted (publishing to an encrypted topic needs a
customer managed key whose policy admits the service), and an event a handler still fails after Lambda's
retries is kept in the topic's `failed` queue instead of being dropped.
"""
from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_destinations import SqsDestination
from constructs import Construct

from infra.components.whatsapp_events import FAILED_RETENTION, HANDLER_RETRIES

SMS_VOICE_PRINCIPAL = "sms-voice.amazonaws.com"
SMS_VOICE_EVENT_TYPES = ("TEXT_ALL", "VOICE_ALL")
SES_EVENTS = (
    ses.EmailSendingEvent.SEND,
    ses.EmailSendingEvent.DELIVERY,
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.REJECT,
)
# Message-body filter policies of the SMS/voice topic's subscribers.
SMS_VOICE_FILTERS: dict[str, dict] = {
    "sms": {"$or": [{"eventType": [{"prefix": "TEXT_"}]}, {"inboundMessageId": [{"exists": True}]}]},
    "voice": {"eventType": [{"prefix": "VOICE_"}]},
}


class EventTopic(Construct):
    """A topic a service publishes to, the functions subscribed to it and the queue of events they failed.

    `publisher` is the service principal allowed to publish, from this account only; leave it out when the
    service's construct writes its own statement (SES's is also scoped to its configuration set)."""

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, publisher: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, enforce_ssl=True)
        if publisher is not None:
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(publisher)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                )
            )
        self.failed = sqs.Queue(
            self,
            "Failed",
            queue_name=f"{topic_name}-failed",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=FAILED_RETENTION,
        )

    def subscribe(self, handler: lambda_.Function, body_filter: dict | None = None) -> sns.Subscription:
        """Invoke `handler` for each event (those matching `body_filter`, a filter policy on the message body)."""
        handler.configure_async_invoke(retry_attempts=HANDLER_RETRIES, on_failure=SqsDestination(self.failed))
        subscription = self.topic.add_subscription(subscriptions.LambdaSubscription(handler))
        if body_filter is not None:
            # The L2 filter builders cannot say "$or" (TEXT_* events or inbound texts); the policy is plain JSON.
            resource = subscription.node.default_child
            resource.filter_policy = body_filter
            resource.filter_policy_scope = "MessageBody"
        return subscription


class SmsVoiceEvents(Construct):
    """The SMS/voice events topic, the configuration set publishing TEXT_ALL and VOICE_ALL to it, and the
    handlers: `handlers` maps "sms" and/or "voice" to the function taking that channel's events."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name_prefix: str, handlers: dict[str, lambda_.Function]
    ) -> None:
        super().__init__(scope, construct_id)
        self.events = EventTopic(
            self, "Events", topic_name=f"{name_prefix}sms-voice-events", publisher=SMS_VOICE_PRINCIPAL
        )
        self.configuration_set = smsvoice.CfnConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=f"{name_prefix}sms-voice",
            event_destinations=[
                smsvoice.CfnConfigurationSet.EventDestinationProperty(
                    enabled=True,
                    event_destination_name="sns",
                    matching_event_types=list(SMS_VOICE_EVENT_TYPES),
                    sns_destination=smsvoice.CfnConfigurationSet.SnsDestinationProperty(
                        topic_arn=self.events.topic.topic_arn
                    ),
                )
            ],
        )
        # The topic policy first: the set's event destination is only usable once the service may publish.
        self.configuration_set.node.add_dependency(self.events.topic.node.find_child("Policy"))
        for channel, handler in handlers.items():
            self.events.subscribe(handler, SMS_VOICE_FILTERS[channel])

    @property
    def topic(self) -> sns.Topic:
        return self.events.topic

    @property
    def configuration_set_name(self) -> str:
        return self.configuration_set.ref  # Ref is the name

    @property
    def configuration_set_arn(self) -> str:
        return self.configuration_set.attr_arn


class EmailEvents(Construct):
    """The SES events topic, the configuration set publishing SES_EVENTS to it, and outbound-email subscribed.
    The event destination adds the topic policy: ses.amazonaws.com, from this account and this set only."""

    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str, handler: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        self.events = EventTopic(self, "Events", topic_name=f"{name_prefix}email-events")
        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet", configuration_set_name=f"{name_prefix}email"
        )
        self.configuration_set.add_event_destination(
            "Sns", destination=ses.EventDestination.sns_topic(self.events.topic), events=list(SES_EVENTS)
        )
        self.events.subscribe(handler)

    @property
    def topic(self) -> sns.Topic:
        return self.events.topic

    @property
    def configuration_set_name(self) -> str:
        return self.configuration_set.configuration_set_name

    @property
    def configuration_set_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="ses", resource="configuration-set", resource_name=self.configuration_set_name
        )
