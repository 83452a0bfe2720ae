"""The WECARE.DIGITAL stack: wires the data, auth, functions, API and messaging constructs (send queues, the
WhatsApp, SMS/voice and email events topics with their configuration sets, the media bucket, the schedule, the
Message stream's counters), grants least privilege, alarms on what fails (infra/components/alarms.py) and, with
`-c web_image`, the web tier (infra/components/web.py: the Reflex app on ECS Fargate with Redis)."""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from backend.api.routes import LAMBDA_ROUTES, Route
from backend.settings import RuntimeEnv
from backend.services.rules.channels import CHANNEL_NAMES, channel_info
from infra import asset_staging
from infra.ai_access import grant_ai_access
from infra.components.alarms import Alarms
from infra.components.api import PlatformApi
from infra.components.auth import UserDirectory
from infra.components.channel_events import EmailEvents, SmsVoiceEvents
from infra.components.data import DataTables
from infra.components.functions import ServiceFunctions
from infra.components.graphql import GraphqlApi
from infra.components.media import MediaBucket
from infra.components.message_stream import MessageStream
from infra.components.queues import CONSUMER_TIMEOUT, SendQueues
from infra.components.schedule import Schedule
from infra.components.whatsapp_events import WhatsAppEvents
from infra.components.web import deploy_web_tier
from infra.messaging_access import channel_senders, grant_messaging_access
from infra.stage_config import StageConfig
from infra.table_access import grant_table_access
from infra.table_specs import table_specs_for

MISSING_FUNCTION_WARNING = "wecare:missing-function"
LAYER_EMPTY_WARNING = "wecare:layer-without-dependencies"
WHATSAPP_IDS_WARNING = "wecare:whatsapp-ids-missing"
# A LIVE stage without a channel's sending identity: one warning id per channel, so each can be acknowledged.
IDENTITY_WARNINGS = {
    "whatsapp": WHATSAPP_IDS_WARNING,
    "sms": "wecare:sms-identity-missing",
    "voice": "wecare:voice-identity-missing",
    "email": "wecare:email-from-missing",
}

# The triggers that are not routes. Every channel of the catalog gets a send queue consumed by its function
# (`outbound-<channel>`), which also takes the channel's provider events (SMS/voice and email topics).
SEND_CHANNELS: tuple[str, ...] = CHANNEL_NAMES
SMS_VOICE_CHANNELS: tuple[str, ...] = ("sms", "voice")
WHATSAPP_EVENTS_FUNCTION = "inbound-whatsapp-handler"
SCHEDULED_FUNCTION = "dlq-replay"
CAMPAIGN_FUNCTION = "bulk-job-control"  # also on the schedule: the campaign runner's passes
STREAM_READER = "messages-read"  # also the Message table's stream: it keeps the message counters


def send_consumer(channel: str) -> str:
    return channel_info(channel).function


def triggered_functions() -> list[str]:
    """The functions a queue, the events topic or the schedule invokes (some also serve routes)."""
    return [*(send_consumer(channel) for channel in SEND_CHANNELS), WHATSAPP_EVENTS_FUNCTION, SCHEDULED_FUNCTION, CAMPAIGN_FUNCTION]


class WecareStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, routes: Iterable[Route] = LAMBDA_ROUTES, **kwargs
    ) -> None:
        # No version-reporting resource: it would add a condition listing every region to the template.
        super().__init__(scope, construct_id, analytics_reporting=False, **kwargs)
        routes, missing = deployable_routes(routes)
        triggered = [name for name in triggered_functions() if asset_staging.has_handler(name)]
        missing += [name for name in triggered_functions() if name not in triggered and name not in missing]
        for function in missing:
            Annotations.of(self).add_warning_v2(
                MISSING_FUNCTION_WARNING,
                f"lambdas/{function}/handler.py does not exist; its routes and triggers are not deployed.",
            )
        for channel, keys in config.identities_missing.items():
            Annotations.of(self).add_warning_v2(
                IDENTITY_WARNINGS[channel],
                f"send_mode is LIVE but {' and '.join(f'-c {key}' for key in keys)} "
                f"{'are not both' if len(keys) > 1 else 'is not'} set, so {_CHANNEL_NAMES[channel]} sends will "
                f"fail; set {'them' if len(keys) > 1 else 'it'}, or deploy with -c send_mode=sandbox.",
            )

        data = DataTables(self, "Data", specs=table_specs_for(config.table_prefix))
        auth = UserDirectory(
            self,
            "Auth",
            name_prefix=config.name_prefix,
            callback_url=config.callback_url,
            sign_out_url=config.sign_out_url,
            domain_prefix=config.auth_domain_prefix,
            mfa_required=config.mfa_required,
        )

        function_names = list(dict.fromkeys([*(route.function for route in routes), *triggered]))
        layer = asset_staging.stage_layer(config.build_dir, install_deps=config.install_deps)
        if not layer.has_dependencies:
            Annotations.of(self).add_warning_v2(
                LAYER_EMPTY_WARNING,
                "The dependencies layer is empty, so the functions cannot run: deploy with -c install_deps=true.",
            )
        functions = ServiceFunctions(
            self,
            "Functions",
            code_dirs={name: asset_staging.stage_function(name, config.build_dir) for name in function_names},
            layer_dir=layer.path,
            name_prefix=config.name_prefix,
            environment={
                "WECARE_ENV": RuntimeEnv.AWS.value,
                "WECARE_TABLE_PREFIX": config.table_prefix,
                "WECARE_AWS_REGION": self.region,
                "WECARE_SEND_MODE": config.send_mode.value,
                "WECARE_COGNITO_ISSUER": auth.issuer_url,
                "WECARE_COGNITO_CLIENT_ID": auth.web_client.user_pool_client_id,
            },
            timeouts={send_consumer(c): CONSUMER_TIMEOUT for c in SEND_CHANNELS},
        )
        deployed = functions.by_name
        grant_table_access(deployed, data.tables)

        media = MediaBucket(self, "Media")
        send_queues = SendQueues(
            self,
            "SendQueues",
            name_prefix=config.name_prefix,
            consumers={c: deployed[send_consumer(c)] for c in SEND_CHANNELS if send_consumer(c) in deployed},
        )
        events = None
        if WHATSAPP_EVENTS_FUNCTION in deployed:
            events = WhatsAppEvents(
                self, "WhatsAppEvents", name_prefix=config.name_prefix, handler=deployed[WHATSAPP_EVENTS_FUNCTION]
            )
        sms_voice_handlers = {
            channel: deployed[send_consumer(channel)]
            for channel in SMS_VOICE_CHANNELS
            if send_consumer(channel) in deployed
        }
        sms_voice = None
        if sms_voice_handlers:
            sms_voice = SmsVoiceEvents(
                self, "SmsVoiceEvents", name_prefix=config.name_prefix, handlers=sms_voice_handlers
            )
        email = None
        if send_consumer("email") in deployed:
            email = EmailEvents(
                self, "EmailEvents", name_prefix=config.name_prefix, handler=deployed[send_consumer("email")]
            )
        if SCHEDULED_FUNCTION in deployed:
            Schedule(self, "Schedule", name_prefix=config.name_prefix, target=deployed[SCHEDULED_FUNCTION])
        if CAMPAIGN_FUNCTION in deployed:
            Schedule(self, "CampaignSchedule", name_prefix=config.name_prefix, target=deployed[CAMPAIGN_FUNCTION],
                     name="campaign-runner", description="Campaigns: expand, start when due, send at the channel's rate")
        grant_messaging_access(
            deployed,
            send_queues=send_queues,
            media_bucket=media.bucket,
            whatsapp_environment=config.whatsapp_environment,
            senders=channel_senders(self, config, sms_voice=sms_voice, email=email),
        )

        grant_ai_access(self, deployed, config)
        # The web tier (the Reflex app on ECS Fargate, and its WebUrl output) when -c web_image names its image;
        # otherwise a warning saying how to deploy it.
        deploy_web_tier(self, config, tables=data.tables, auth=auth, send_queues=send_queues, media_bucket=media.bucket)

        api = PlatformApi(
            self,
            "Api",
            api_name=f"{config.name_prefix}api",
            routes=routes,
            functions=deployed,
            user_pool=auth.user_pool,
            user_pool_client=auth.web_client,
            allowed_origin=config.web_origin,
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
        )
        # AppSync over the tables (read queries) and a subscription to message changes fed from the Message stream
        graphql = GraphqlApi(
            self, "Graphql", name_prefix=config.name_prefix, tables=data.tables,
            user_pool=auth.user_pool, user_pool_client=auth.web_client,
        )
        message_stream = None
        if STREAM_READER in deployed:
            message_stream = MessageStream(
                self, "MessageStream", name_prefix=config.name_prefix, table=data.tables["Message"],
                reader=deployed[STREAM_READER],
            )

        failed_queues = {f"{channel}-send-dlq": queue for channel, queue in send_queues.dead_letters.items()}
        if events is not None:
            failed_queues["whatsapp-events-failed"] = events.failed
        if sms_voice is not None:
            failed_queues["sms-voice-events-failed"] = sms_voice.events.failed
        if email is not None:
            failed_queues["email-events-failed"] = email.events.failed
        if message_stream is not None:
            failed_queues["message-stream-failed"] = message_stream.failed
        alarms = Alarms(
            self,
            "Alarms",
            name_prefix=config.name_prefix,
            functions=deployed,
            send_consumers={c: deployed[send_consumer(c)] for c in send_queues.by_channel},
            send_queues=send_queues.by_channel,
            failed_queues=failed_queues,
            http_api=api.http_api,
            stream_readers={STREAM_READER: deployed[STREAM_READER]} if message_stream is not None else None,
        )

        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "GraphqlUrl", value=graphql.url)
        CfnOutput(self, "CognitoIssuer", value=auth.issuer_url)
        CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=auth.web_client.user_pool_client_id)
        CfnOutput(self, "HostedUiUrl", value=auth.domain.base_url())
        CfnOutput(self, "MediaBucketName", value=media.bucket.bucket_name)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=alarms.topic.topic_arn,
            description="Subscribe the people on call (email, chat) to it: every alarm of the stage publishes here.",
        )
        if events is not None:
            CfnOutput(self, "WhatsAppEventsTopicArn", value=events.topic.topic_arn)
        if sms_voice is not None:
            CfnOutput(
                self,
                "SmsVoiceEventsTopicArn",
                value=sms_voice.topic.topic_arn,
                description="Set it as the two-way channel of the SMS origination number (inbound texts); the "
                "configuration set already publishes delivery and call events to it.",
            )
            CfnOutput(self, "SmsVoiceConfigurationSetName", value=sms_voice.configuration_set_name)
        if email is not None:
            CfnOutput(self, "EmailEventsTopicArn", value=email.topic.topic_arn)
            CfnOutput(self, "EmailConfigurationSetName", value=email.configuration_set_name)


_CHANNEL_NAMES = {"whatsapp": "WhatsApp", "sms": "SMS", "voice": "voice", "email": "email"}


def deployable_routes(routes: Iterable[Route]) -> tuple[tuple[Route, ...], list[str]]:
    """The routes whose function has a `lambdas/<function>/handler.py`, and the functions that do not."""
    routes = tuple(routes)
    missing = list(dict.fromkeys(r.function for r in routes if not asset_staging.has_handler(r.function)))
    return tuple(r for r in routes if r.function not in missing), missing
