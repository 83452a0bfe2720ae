"""Least privilege beyond the tables: End User Messaging Social, the send queues and the media bucket.

A function gets the actions its code calls and, with them, the settings that name those resources; a
function not listed gets neither. As with `table_access.py`, when a service starts calling one of these,
its functions' entry here must change with it.

End User Messaging Social authorises sends and media on a phone-number-id resource and templates on a waba
resource; the grants cover those resource types in this account and region, never `*`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from backend.services.dlq import QUEUES as ALL_CHANNELS
from infra.components.queues import SendQueues

SEND_MESSAGE = "social-messaging:SendWhatsAppMessage"
GET_MEDIA = "social-messaging:GetWhatsAppMessageMedia"
POST_MEDIA = "social-messaging:PostWhatsAppMessageMedia"
LIST_TEMPLATES = "social-messaging:ListWhatsAppMessageTemplates"
CREATE_TEMPLATE = "social-messaging:CreateWhatsAppMessageTemplate"
_RESOURCE_TYPES = {
    "phone-number-id": (SEND_MESSAGE, GET_MEDIA, POST_MEDIA),
    "waba": (LIST_TEMPLATES, CREATE_TEMPLATE),
}

# ListBucket lets a missing key read as missing (404) rather than forbidden (403).
MEDIA_READ_ACTIONS = ("s3:GetObject",)
MEDIA_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject")
MEDIA_LIST_ACTIONS = ("s3:ListBucket",)


class MediaAccess(Enum):
    READ = "read"
    READ_WRITE = "read_write"  # media fetched from WhatsApp is found by prefix, then moved (copy + delete)


@dataclass(frozen=True)
class MessagingAccess:
    whatsapp: tuple[str, ...] = ()  # social-messaging actions
    media: MediaAccess | None = None
    enqueue: tuple[str, ...] = ()  # channels whose send queue it puts message ids on


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
    # Replays and the outbox sweep re-enqueue on every channel; the schedule retries media fetches.
    "dlq-replay": MessagingAccess(whatsapp=(GET_MEDIA,), media=MediaAccess.READ_WRITE, enqueue=ALL_CHANNELS),
}


def grant_messaging_access(
    functions: dict[str, lambda_.Function],
    *,
    send_queues: SendQueues,
    media_bucket: s3.IBucket,
    whatsapp_environment: dict[str, str],
) -> None:
    """Grants, and the matching `WECARE_` settings (queue URLs, bucket, the WhatsApp ids in `whatsapp_environment`)."""
    for name, function in functions.items():
        access = FUNCTION_MESSAGING_ACCESS.get(name)
        if access is None:
            continue
        if access.whatsapp:
            _grant_whatsapp(function, access.whatsapp)
            for key, value in whatsapp_environment.items():
                function.add_environment(key, value)
        if access.media is not None:
            _grant_media(function, media_bucket, access.media)
            function.add_environment("WECARE_MEDIA_BUCKET", media_bucket.bucket_name)
        channels = [channel for channel in access.enqueue if channel in send_queues.by_channel]
        if channels:
            for channel in channels:
                send_queues.by_channel[channel].grant_send_messages(function)
            function.add_environment("WECARE_SEND_QUEUE_URLS", send_queues.urls_json(channels))


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
