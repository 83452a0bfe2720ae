"""Least privilege beyond the tables: the providers (End User Messaging Social, End User Messaging SMS and
voice, SES), the send queues and the media bucket.

A function gets the actions its code calls and, with them, the settings that name those resources; a
function not listed gets neither. As with `table_access.py`, when a service starts calling one of these,
its functions' entry here must change with it.

End User Messaging Social authorises sends and media on a phone-number-id resource and templates on a waba
resource; the grants cover those resource types in this account and region, never `*`.

SMS and voice sends (`sms-voice:SendTextMessage`, `sms-voice:SendVoiceMessage`) are authorised on the
origination identity, the configuration set and the opt-out list and protect configuration that apply to
the send. The grant names the stack's configuration set and the stage's origination identity when its form
gives the ARN (an ARN, a phone-number or pool id, a sender id); a bare phone number (the ARN holds the
number's id) or no identity at all is covered by resource type, as are the opt-out lists and protect
configurations, which the request does not name: always in this account and region, never `*`.

SES (`ses:SendEmail`) authorises a send on the from identity (the address, or its domain when only the
domain is verified) and on the configuration set; without a configured from address, on the account's
identities in this region.

Each send queue's SQS dead-letter queue is read and emptied only by the function that drains it into the
dead-letter table (services/messaging/dlq_drain.py): `DRAIN_ACTIONS` on exactly those queues, with their URLs
(`WECARE_SEND_DLQ_URLS`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from backend.services.rules.channels import CHANNEL_NAMES as ALL_CHANNELS
from infra.components.queues import SendQueues
from infra.stage_config import StageConfig

SEND_MESSAGE = "social-messaging:SendWhatsAppMessage"
GET_MEDIA = "social-messaging:GetWhatsAppMessageMedia"
POST_MEDIA = "social-messaging:PostWhatsAppMessageMedia"
LIST_TEMPLATES = "social-messaging:ListWhatsAppMessageTemplates"
CREATE_TEMPLATE = "social-messaging:CreateWhatsAppMessageTemplate"
_RESOURCE_TYPES = {
    "phone-number-id": (SEND_MESSAGE, GET_MEDIA, POST_MEDIA),
    "waba": (LIST_TEMPLATES, CREATE_TEMPLATE),
}

SEND_TEXT = "sms-voice:SendTextMessage"
SEND_VOICE = "sms-voice:SendVoiceMessage"
SEND_EMAIL = "ses:SendEmail"
_PHONE_NUMBER_ID = re.compile(r"^phone-[0-9a-z]+$")
_POOL_ID = re.compile(r"^pool-[0-9a-z]+$")
_NUMBER = re.compile(r"^\+?[0-9]+$")  # a long code as dialled, or a short code

# ListBucket lets a missing key read as missing (404) rather than forbidden (403).
MEDIA_READ_ACTIONS = ("s3:GetObject",)
MEDIA_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject")
MEDIA_LIST_ACTIONS = ("s3:ListBucket",)

# Count, receive and delete: the drain never sends to a dead-letter queue, nor changes a record's visibility.
DRAIN_ACTIONS = ("sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage")


class MediaAccess(Enum):
    READ = "read"
    READ_WRITE = "read_write"  # media fetched from WhatsApp is found by prefix, then moved (copy + delete)


@dataclass(frozen=True)
class MessagingAccess:
    whatsapp: tuple[str, ...] = ()  # social-messaging actions
    sends: tuple[str, ...] = ()  # channels ("sms", "voice", "email") whose provider it hands messages to
    media: MediaAccess | None = None
    enqueue: tuple[str, ...] = ()  # channels whose send queue it puts message ids on
    drain: tuple[str, ...] = ()  # channels whose send queue's SQS dead-letter queue it drains into the DLQ table


@dataclass(frozen=True)
class ChannelSender:
    """How one channel's sends are authorised and configured: the provider action, the resources it is granted
    on, and the `WECARE_` settings naming them (identity, configuration set)."""

    action: str
    resources: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)


class ConfigurationSet(Protocol):
    """A configuration set the stack creates (infra.components.channel_events)."""

    @property
    def configuration_set_name(self) -> str: ...

    @property
    def configuration_set_arn(self) -> str: ...


FUNCTION_MESSAGING_ACCESS: dict[str, MessagingAccess] = {
    # The send route (mark-as-read, template catalogue sync) and the queue consumer (media upload, send); retries
    # and rate-limit waits go back on the queue. The sandbox provider checks the file it uploads is there.
    "outbound-whatsapp": MessagingAccess(
        whatsapp=(SEND_MESSAGE, POST_MEDIA, LIST_TEMPLATES), media=MediaAccess.READ, enqueue=("whatsapp",)
    ),
    # Fetches the media customers send; consent confirmations are queued for outbound-whatsapp to send.
    "inbound-whatsapp-handler": MessagingAccess(
        whatsapp=(GET_MEDIA,), media=MediaAccess.READ_WRITE, enqueue=("whatsapp",)
    ),
    # Replays and the outbox sweep re-enqueue on every channel; the schedule retries media fetches and drains
    # every send queue's SQS dead-letter queue into the DLQ table.
    "dlq-replay": MessagingAccess(
        whatsapp=(GET_MEDIA,), media=MediaAccess.READ_WRITE, enqueue=ALL_CHANNELS, drain=ALL_CHANNELS
    ),
    # The campaign runner queues each recipient's message on its channel's queue (the send itself is the consumer's).
    "bulk-job-control": MessagingAccess(enqueue=ALL_CHANNELS),
    # Each serves its send route, consumes its queue (the send; retries and rate-limit waits go back on it) and
    # takes its provider's events. outbound-sms also queues the STOP/START/HELP replies to inbound texts.
    "outbound-sms": MessagingAccess(sends=("sms",), enqueue=("sms",)),
    "outbound-voice": MessagingAccess(sends=("voice",), enqueue=("voice",)),
    "outbound-email": MessagingAccess(sends=("email",), enqueue=("email",)),
}


def channel_senders(
    scope: Construct,
    config: StageConfig,
    *,
    sms_voice: ConfigurationSet | None,
    email: ConfigurationSet | None,
) -> dict[str, ChannelSender]:
    """The senders of the channels whose configuration set the stack has: the stage's identities, the sets."""
    senders: dict[str, ChannelSender] = {}
    if sms_voice is not None:
        senders["sms"] = ChannelSender(
            SEND_TEXT,
            sms_voice_resources(scope, config.sms_origination_identity, sms_voice.configuration_set_arn),
            {**config.sms_environment, "WECARE_SMS_CONFIGURATION_SET": sms_voice.configuration_set_name},
        )
        senders["voice"] = ChannelSender(
            SEND_VOICE,
            sms_voice_resources(
                scope, config.voice_origination_identity, sms_voice.configuration_set_arn, sender_ids=False
            ),
            {**config.voice_environment, "WECARE_VOICE_CONFIGURATION_SET": sms_voice.configuration_set_name},
        )
    if email is not None:
        senders["email"] = ChannelSender(
            SEND_EMAIL,
            ses_resources(scope, config.email_from_address, email.configuration_set_arn),
            {**config.email_environment, "WECARE_EMAIL_CONFIGURATION_SET": email.configuration_set_name},
        )
    return senders


def sms_voice_resources(
    scope: Construct, identity: str | None, configuration_set_arn: str, *, sender_ids: bool = True
) -> tuple[str, ...]:
    """What an SMS (or, without `sender_ids`, a voice) send from `identity` through the set is authorised on."""

    def arn(resource_type: str, name: str = "*") -> str:
        return Stack.of(scope).format_arn(service="sms-voice", resource=resource_type, resource_name=name)

    if identity is None:
        origination = [arn("phone-number"), arn("pool"), *([arn("sender-id")] if sender_ids else [])]
    elif identity.startswith("arn:"):
        origination = [identity]
    elif _PHONE_NUMBER_ID.match(identity):
        origination = [arn("phone-number", identity)]
    elif _POOL_ID.match(identity):
        origination = [arn("pool", identity)]
    elif sender_ids and not _NUMBER.match(identity):
        origination = [arn("sender-id", f"{identity}/*")]  # a sender id is registered per country
    else:
        origination = [arn("phone-number")]  # a number as dialled: its ARN holds an id the number does not give
    return (*origination, configuration_set_arn, arn("opt-out-list"), arn("protect-configuration"))


def ses_resources(scope: Construct, from_address: str | None, configuration_set_arn: str) -> tuple[str, ...]:
    """What an SES send from `from_address` through the set is authorised on."""

    def arn(name: str) -> str:
        return Stack.of(scope).format_arn(service="ses", resource="identity", resource_name=name)

    identities = [arn(from_address), arn(from_address.rsplit("@", 1)[1])] if from_address else [arn("*")]
    return (*identities, configuration_set_arn)


def grant_messaging_access(
    functions: dict[str, lambda_.Function],
    *,
    send_queues: SendQueues,
    media_bucket: s3.IBucket,
    whatsapp_environment: dict[str, str],
    senders: dict[str, ChannelSender] | None = None,
) -> None:
    """Grants, and the matching `WECARE_` settings (queue and dead-letter queue URLs, bucket, the WhatsApp ids in
    `whatsapp_environment`, each sender's identity and configuration set)."""
    senders = senders or {}
    for name, function in functions.items():
        access = FUNCTION_MESSAGING_ACCESS.get(name)
        if access is None:
            continue
        if access.whatsapp:
            _grant_whatsapp(function, access.whatsapp)
            for key, value in whatsapp_environment.items():
                function.add_environment(key, value)
        for sender in (senders[channel] for channel in access.sends if channel in senders):
            function.add_to_role_policy(iam.PolicyStatement(actions=[sender.action], resources=list(sender.resources)))
            for key, value in sender.environment.items():
                function.add_environment(key, value)
        if access.media is not None:
            _grant_media(function, media_bucket, access.media)
            function.add_environment("WECARE_MEDIA_BUCKET", media_bucket.bucket_name)
        channels = [channel for channel in access.enqueue if channel in send_queues.by_channel]
        if channels:
            for channel in channels:
                send_queues.by_channel[channel].grant_send_messages(function)
            function.add_environment("WECARE_SEND_QUEUE_URLS", send_queues.urls_json(channels))
        drained = [channel for channel in access.drain if channel in send_queues.dead_letters]
        if drained:
            _grant_drain(function, send_queues, drained)


def _grant_drain(function: lambda_.Function, send_queues: SendQueues, channels: list[str]) -> None:
    dead_letters = [send_queues.dead_letters[channel] for channel in channels]
    function.add_to_role_policy(
        iam.PolicyStatement(actions=list(DRAIN_ACTIONS), resources=[queue.queue_arn for queue in dead_letters])
    )
    urls = {channel: queue.queue_url for channel, queue in zip(channels, dead_letters)}
    function.add_environment("WECARE_SEND_DLQ_URLS", Stack.of(function).to_json_string(urls))


def _grant_whatsapp(function: lambda_.Function, actions: tuple[str, ...]) -> None:
    stack = Stack.of(function)
    for resource_type, allowed in _RESOURCE_TYPES.items():
        granted = [action for action in actions if action in allowed]
        if granted:
            arn = stack.format_arn(service="social-messaging", resource=resource_type, resource_name="*")
            function.add_to_role_policy(iam.PolicyStatement(actions=granted, resources=[arn]))


def _grant_media(function: lambda_.Function, bucket: s3.IBucket, level: MediaAccess) -> None:
    objects = list(MEDIA_READ_ACTIONS) + (list(MEDIA_WRITE_ACTIONS) if level is MediaAccess.READ_WRITE else [])
    function.add_to_role_policy(iam.PolicyStatement(actions=objects, resources=[bucket.arn_for_objects("*")]))
    function.add_to_role_policy(iam.PolicyStatement(actions=list(MEDIA_LIST_ACTIONS), resources=[bucket.bucket_arn]))
