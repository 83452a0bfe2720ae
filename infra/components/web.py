"""The web tier: the Reflex app (its pages, the app's own REST door under `/api`, the live feed over websockets)
as a container on ECS Fargate behind an Application Load Balancer, deployed when `-c web_image=<image URI>` names
the image to run (the repo's Dockerfile; docs/deploy.md). Without it the stack says, in a warning, that the web
tier is not deployed and how to deploy it.

- Network: its own VPC, two availability zones, public subnets (the load balancer, the one NAT gateway) and
  private subnets with egress (the tasks, Redis). DynamoDB and S3 are reached through gateway endpoints, so the
  tables' and media's traffic neither leaves the VPC nor pays for the NAT gateway.
- Redis (ElastiCache, a primary and one replica in two zones, automatic failover, encrypted in transit and at
  rest) holds each browser tab's Reflex state and which task its websocket is on, so any task can serve any
  event and a tab survives a task's replacement (Reflex's Redis state manager: `REFLEX_REDIS_URL`). Only the
  service's security group reaches it, on 6379. Reflex asks Redis for keyspace notifications with CONFIG SET,
  which ElastiCache refuses: its parameter group sets them instead (`NOTIFY_KEYSPACE_EVENTS`, Reflex's own
  flags) and `REFLEX_IGNORE_REDIS_CONFIG_ERROR` lets the refusal pass.
- The load balancer: HTTPS with the stage's certificate (`-c web_certificate_arn`; HTTP redirects to it), or,
  without one, HTTP only and a warning (Cognito's hosted UI returns only to https, so sign-in needs the
  certificate). A browser's websocket stays on one task (a load-balancer cookie, one day), idles up to an hour
  (`IDLE_TIMEOUT`), and a task is healthy when Reflex's `/ping` answers. A task being replaced is drained for
  `DEREGISTRATION_DELAY` only: an open websocket never finishes on its own, and the page reconnects to another
  task, its state in Redis.
- The service runs `-c web_tasks` tasks (default 2) and CPU auto scaling adds up to `-c web_max_tasks`
  (default 6). A deployment whose tasks do not become healthy is stopped and rolled back (the ECS deployment
  circuit breaker with rollback). One Granian worker per task: each worker process reads the Message table's
  stream for the live pages (and the message counters), and DynamoDB Streams throttles more than two readers of a
  shard, so the tier scales out by tasks, not by processes inside one.
- Its logs go to CloudWatch (`LOG_RETENTION`, as the functions').

What it may do (the task role; the execution role only pulls the image, writes the log and reads the session
secret): every table of the stage, item reads and writes on the tables and reads on their indexes (the app
serves every page, so every service), DescribeTable and DescribeTimeToLive (the start-up's `init_db` finds the
tables the stack made; no CreateTable, UpdateTable or DeleteTable); the Message table's stream (the live feed,
`backend/runtime/change_feed.py`); SendMessage on the send queues (the Lambdas send); the media bucket's objects;
the WhatsApp actions a page calls itself (mark a conversation read, list and create templates), by resource type
in this account and region; and, with a knowledge base in context, Bedrock on exactly that knowledge base, model
and guardrail, including the document ingestion the knowledge-base page does. No `*` resource except where AWS
has no other: `ecr:GetAuthorizationToken` (the execution role, to pull from ECR).

The session secret (`WECARE_SESSION_SECRET`, which signs the app's own session tokens and must be the same in
every task) is generated into Secrets Manager and handed to the container as an ECS secret, never as plain
environment.
"""
from __future__ import annotations

import re

from aws_cdk import Annotations, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from backend.settings import RuntimeEnv
from infra.components.auth import UserDirectory
from infra.components.functions import LOG_RETENTION
from infra.components.message_stream import STREAM_READ_ACTIONS
from infra.components.queues import SendQueues
from infra.messaging_access import (
    CREATE_TEMPLATE,
    LIST_TEMPLATES,
    MEDIA_LIST_ACTIONS,
    MEDIA_READ_ACTIONS,
    MEDIA_WRITE_ACTIONS,
    SEND_MESSAGE,
)
from infra.stage_config import StageConfig
from infra.table_access import APPEND_ACTIONS, READ_ACTIONS, WRITE_ACTIONS

WEB_TIER_WARNING = "wecare:web-tier-not-deployed"
WEB_HTTP_ONLY_WARNING = "wecare:web-tier-http-only"

CONTAINER_NAME = "web"
CONTAINER_PORT = 8000  # the Dockerfile's EXPOSE and CMD (--frontend-port 8000, one port for pages and backend)
HEALTH_CHECK_PATH = "/ping"  # Reflex's own health route; it answers once the app has started
CPU = 1024  # one vCPU: one Granian worker (see the module's docstring)
MEMORY_MIB = 3072  # `reflex run --env prod` builds the frontend again at start (the Dockerfile says why)
START_GRACE = Duration.minutes(6)  # that build, then the start-up (tables, the live feed), before /ping counts
IDLE_TIMEOUT = Duration.hours(1)  # a quiet websocket (a page left open) is not cut by the load balancer
STICKINESS = Duration.days(1)
DEREGISTRATION_DELAY = Duration.seconds(30)
TARGET_CPU_PERCENT = 60
SCALE_OUT_COOLDOWN = Duration.minutes(1)
SCALE_IN_COOLDOWN = Duration.minutes(5)
GRANIAN_WORKERS = 1

REDIS_PORT = 6379
REDIS_ENGINE_VERSION = "7.1"
REDIS_PARAMETER_FAMILY = "redis7"
REDIS_NODE_TYPE = "cache.t4g.small"
# reflex/istate/manager/redis.py NOTIFY_KEYSPACE_EVENTS: the lock releases and contention its state manager waits on.
NOTIFY_KEYSPACE_EVENTS = "K$sgxe"

DESCRIBE_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive")
WHATSAPP_ACTIONS = {"phone-number-id": (SEND_MESSAGE,), "waba": (LIST_TEMPLATES, CREATE_TEMPLATE)}
KNOWLEDGE_BASE_DOCUMENT_ACTIONS = (
    "bedrock:IngestKnowledgeBaseDocuments",
    "bedrock:GetKnowledgeBaseDocuments",
    "bedrock:DeleteKnowledgeBaseDocuments",
)
MESSAGE_TABLE = "Message"  # the table whose stream the live feed reads

_ECR_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[^:@]+)"
    r"(?::(?P<tag>[^@]+)|@(?P<digest>sha256:[a-f0-9]{64}))$"
)


class WebTier(Construct):
    """`service` is the load-balanced Fargate service, `redis` the replication group, `task_role` what the app
    may do, `session_secret` the secret behind `WECARE_SESSION_SECRET`, `url` the app's public URL."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        tables: dict[str, dynamodb.ITable],
        auth: UserDirectory,
        send_queues: SendQueues,
        media_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        if config.web_image is None:
            raise ValueError("the web tier needs an image: -c web_image=<image URI>")
        stack = Stack.of(self)
        prefix = config.name_prefix

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
            ],
            # Nothing uses the default security group; restricting it would add a custom-resource function.
            restrict_default_security_group=False,
        )
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        private = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        self.redis_security_group = ec2.SecurityGroup(
            self, "RedisSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Reflex state (ElastiCache Redis): reachable from the web tier tasks only",
        )
        self.redis = self._redis(prefix, private.subnet_ids)
        redis_url = f"rediss://{self.redis.attr_primary_end_point_address}:{REDIS_PORT}"

        self.session_secret = secretsmanager.Secret(
            self,
            "SessionSecret",
            secret_name=f"{prefix}web-session-secret",
            description="WECARE_SESSION_SECRET: signs the web app's session tokens (the same in every task)",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        self.task_role = iam.Role(
            self, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"{prefix}web: what the Reflex app may call",
        )
        log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.web_certificate_arn)
            if config.web_certificate_arn else None
        )
        if certificate is None:
            Annotations.of(self).add_warning_v2(
                WEB_HTTP_ONLY_WARNING,
                "No web_certificate_arn in context: the web tier listens on HTTP only, and Cognito sign-in (which "
                "returns only to https) cannot work; deploy with -c web_certificate_arn=<ACM certificate ARN>.",
            )

        cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, cluster_name=f"{prefix}web")
        self.service = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            cluster=cluster,
            service_name=f"{prefix}web",
            cpu=CPU,
            memory_limit_mib=MEMORY_MIB,
            desired_count=config.web_tasks,
            min_healthy_percent=100,  # a deployment starts new tasks before it stops old ones
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=START_GRACE,
            public_load_balancer=True,
            task_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            idle_timeout=IDLE_TIMEOUT,
            protocol=elbv2.ApplicationProtocol.HTTPS if certificate else elbv2.ApplicationProtocol.HTTP,
            certificate=certificate,
            redirect_http=certificate is not None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if certificate else None,
            task_image_options=ecs_patterns.ApplicationLoadBalancedTaskImageOptions(
                image=container_image(self, config.web_image),
                container_name=CONTAINER_NAME,
                container_port=CONTAINER_PORT,
                task_role=self.task_role,
                environment={
                    **self._environment(config, auth, send_queues, media_bucket),
                    "REFLEX_REDIS_URL": redis_url,
                },
                secrets={"WECARE_SESSION_SECRET": ecs.Secret.from_secrets_manager(self.session_secret)},
                log_driver=ecs.LogDrivers.aws_logs(stream_prefix="web", log_group=log_group),
            ),
        )
        self.service.load_balancer.set_attribute("routing.http.drop_invalid_header_fields.enabled", "true")
        target_group = self.service.target_group
        target_group.configure_health_check(
            path=HEALTH_CHECK_PATH,
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )
        target_group.enable_cookie_stickiness(STICKINESS)
        target_group.set_attribute("deregistration_delay.timeout_seconds", str(int(DEREGISTRATION_DELAY.to_seconds())))

        for group in self.service.service.connections.security_groups:
            self.redis_security_group.add_ingress_rule(
                group, ec2.Port.tcp(REDIS_PORT), "the web tier tasks: Reflex state"
            )

        scaling = self.service.service.auto_scale_task_count(
            min_capacity=config.web_tasks, max_capacity=config.web_max_tasks
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=TARGET_CPU_PERCENT,
            scale_out_cooldown=SCALE_OUT_COOLDOWN,
            scale_in_cooldown=SCALE_IN_COOLDOWN,
        )

        self._grant(stack, config, tables, send_queues, media_bucket)
        self.url = (
            config.web_origin if certificate else f"http://{self.service.load_balancer.load_balancer_dns_name}"
        )

    def _redis(self, prefix: str, subnet_ids: list[str]) -> elasticache.CfnReplicationGroup:
        subnets = elasticache.CfnSubnetGroup(
            self, "RedisSubnets", description="The web tier private subnets",
            subnet_ids=subnet_ids, cache_subnet_group_name=f"{prefix}web-redis",
        )
        parameters = elasticache.CfnParameterGroup(
            self, "RedisParameters", cache_parameter_group_family=REDIS_PARAMETER_FAMILY,
            description="Reflex's keyspace notifications (its state locks)",
            properties={"notify-keyspace-events": NOTIFY_KEYSPACE_EVENTS},
        )
        return elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="Reflex state of the web tier",
            engine="redis",
            engine_version=REDIS_ENGINE_VERSION,
            cache_node_type=REDIS_NODE_TYPE,
            num_cache_clusters=2,  # a primary and one replica
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            port=REDIS_PORT,
            cache_subnet_group_name=subnets.ref,
            cache_parameter_group_name=parameters.ref,
            security_group_ids=[self.redis_security_group.security_group_id],
            auto_minor_version_upgrade=True,
        )

    def _environment(
        self, config: StageConfig, auth: UserDirectory, send_queues: SendQueues, media_bucket: s3.IBucket
    ) -> dict[str, str]:
        return {
            "WECARE_ENV": RuntimeEnv.AWS.value,
            "WECARE_TABLE_PREFIX": config.table_prefix,
            "WECARE_AWS_REGION": Stack.of(self).region,
            "WECARE_SEND_MODE": config.send_mode.value,
            "WECARE_AUTH": "cognito",
            "WECARE_COGNITO_ISSUER": auth.issuer_url,
            "WECARE_COGNITO_CLIENT_ID": auth.web_client.user_pool_client_id,
            "WECARE_COGNITO_DOMAIN": auth.domain.base_url(),
            "WECARE_COGNITO_REDIRECT_URI": config.callback_url,
            "WECARE_COGNITO_LOGOUT_URI": config.sign_out_url,
            "WECARE_SEND_QUEUE_URLS": send_queues.urls_json(list(send_queues.by_channel)),
            "WECARE_MEDIA_BUCKET": media_bucket.bucket_name,
            **config.whatsapp_environment,
            **config.ai_environment,
            # The frontend's backend URL: the start's build bakes it in (the build arg is only the image's default).
            "REFLEX_API_URL": config.web_origin,
            "REFLEX_IGNORE_REDIS_CONFIG_ERROR": "true",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "GRANIAN_WORKERS": str(GRANIAN_WORKERS),
        }

    def _grant(
        self,
        stack: Stack,
        config: StageConfig,
        tables: dict[str, dynamodb.ITable],
        send_queues: SendQueues,
        media_bucket: s3.IBucket,
    ) -> None:
        role = self.task_role
        table_arns = [table.table_arn for table in tables.values()]
        role.add_to_policy(iam.PolicyStatement(
            actions=list(READ_ACTIONS), resources=[*table_arns, *(f"{arn}/index/*" for arn in table_arns)]
        ))
        # every table's items, but the audit log's only appended (it reads it for /admin/audit)
        role.add_to_policy(iam.PolicyStatement(
            actions=list(WRITE_ACTIONS), resources=[table.table_arn for name, table in tables.items() if name != "AuditLog"]
        ))
        role.add_to_policy(iam.PolicyStatement(actions=list(APPEND_ACTIONS), resources=[tables["AuditLog"].table_arn]))
        role.add_to_policy(iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=table_arns))
        messages = tables[MESSAGE_TABLE]
        if messages.table_stream_arn is None:
            raise ValueError("the Message table has no stream: the live feed reads it")
        role.add_to_policy(iam.PolicyStatement(actions=list(STREAM_READ_ACTIONS), resources=[messages.table_stream_arn]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=[f"{messages.table_arn}/stream/*"])
        )
        for queue in send_queues.by_channel.values():
            queue.grant_send_messages(role)
        role.add_to_policy(iam.PolicyStatement(
            actions=[*MEDIA_READ_ACTIONS, *MEDIA_WRITE_ACTIONS], resources=[media_bucket.arn_for_objects("*")]
        ))
        role.add_to_policy(iam.PolicyStatement(actions=list(MEDIA_LIST_ACTIONS), resources=[media_bucket.bucket_arn]))
        for resource_type, actions in WHATSAPP_ACTIONS.items():
            arn = stack.format_arn(service="social-messaging", resource=resource_type, resource_name="*")
            role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=[arn]))
        for statement in bedrock_statements(stack, config):
            role.add_to_policy(statement)


def bedrock_statements(stack: Stack, config: StageConfig) -> list[iam.PolicyStatement]:
    """Retrieve and the document ingestion on the stage's knowledge base, InvokeModel on its model, ApplyGuardrail
    on its guardrail; nothing without a knowledge base id (the app then answers from its local index)."""
    if not config.ai_knowledge_base_id:
        return []
    region, account = stack.region, stack.account
    knowledge_base = f"arn:{stack.partition}:bedrock:{region}:{account}:knowledge-base/{config.ai_knowledge_base_id}"
    statements = [
        iam.PolicyStatement(actions=["bedrock:Retrieve", *KNOWLEDGE_BASE_DOCUMENT_ACTIONS], resources=[knowledge_base]),
        iam.PolicyStatement(
            actions=["bedrock:InvokeModel"],
            resources=[f"arn:{stack.partition}:bedrock:{region}::foundation-model/{config.ai_model_id}"],
        ),
    ]
    if config.ai_guardrail_id:
        statements.append(iam.PolicyStatement(
            actions=["bedrock:ApplyGuardrail"],
            resources=[f"arn:{stack.partition}:bedrock:{region}:{account}:guardrail/{config.ai_guardrail_id}"],
        ))
    return statements


def container_image(scope: Construct, uri: str) -> ecs.ContainerImage:
    """An ECR image as an ECR repository's (the execution role is granted the pull), any other as a registry's."""
    match = _ECR_IMAGE.match(uri)
    if match is None:
        return ecs.ContainerImage.from_registry(uri)
    partition = "aws-cn" if ".amazonaws.com.cn/" in uri else "aws"
    repository = ecr.Repository.from_repository_attributes(
        scope,
        "ImageRepository",
        repository_arn=f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}",
        repository_name=match["repository"],
    )
    return ecs.ContainerImage.from_ecr_repository(repository, match["tag"] or match["digest"])


def deploy_web_tier(
    stack: Stack,
    config: StageConfig,
    *,
    tables: dict[str, dynamodb.ITable],
    auth: UserDirectory,
    send_queues: SendQueues,
    media_bucket: s3.IBucket,
) -> WebTier | None:
    """The web tier and its `WebUrl` output when the stage names an image; otherwise a warning saying how."""
    if config.web_image is None:
        Annotations.of(stack).add_warning_v2(
            WEB_TIER_WARNING,
            "No web_image in context: the web app is not deployed (only the functions and the API are). Build and "
            "push the Dockerfile's image, then deploy with -c web_image=<ECR repository URI>:<tag> "
            "-c web_certificate_arn=<ACM certificate ARN> (docs/deploy.md).",
        )
        return None
    web = WebTier(
        stack, "Web", config=config, tables=tables, auth=auth, send_queues=send_queues, media_bucket=media_bucket
    )
    CfnOutput(stack, "WebUrl", value=web.url, description="The web app (point the callback URL's domain at "
              "the load balancer's DNS name when it is served on a domain)")
    return web
