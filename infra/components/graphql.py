"""The GraphQL read API (AppSync) over the tables, and the live feed of the Message table's changes.

Queries (infra/graphql/schema.graphql) read contacts, the inbox's conversations, a contact's timeline and the
campaigns with APPSYNC_JS resolvers (infra/graphql/resolvers/) on DynamoDB data sources, each with a role of its
own that may only read its table: GetItem and Query on the table and its indexes (and BatchGetItem on Contact,
whose list indexes are keys only). Never a Scan, never a write. People sign in with the Cognito user pool (the
default mode; the three role groups may query); there are no user mutations in this first version.

The subscription `onMessageChanged` is fed from the Message table's stream without a function: an EventBridge
pipe reads the stream (INSERT and MODIFY records of rows with a contact), keeps only the row's keys, kind and
times (an event stays far below EventBridge's 256 KB whatever the message), and puts it on the message-changes
bus; a rule there runs the mutation `publishMessageChange` (a NONE data source: it stores nothing) as its own
role, which may call that one field (IAM is the API's second mode, for it alone). A change is news only for a
moment: the pipe starts at the stream's newest record and the rule and the pipe give up on one within
`CHANGE_MAX_AGE`; a lost change costs a browser a refresh, never data. The pipe is the stream's second reader
(messages-read is the first): DynamoDB advises at most two per shard, so a third must share one of them.

Requests are logged at ERROR (field errors only) without verbose content (no request or response bodies) to a
log group kept `LOG_RETENTION`; X-Ray is off. There is no API key.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from constructs import Construct

GRAPHQL_DIR = Path(__file__).resolve().parent.parent / "graphql"
SCHEMA_FILE = GRAPHQL_DIR / "schema.graphql"
RESOLVER_DIR = GRAPHQL_DIR / "resolvers"
PIPELINE_FILE = "pipeline.js"  # the before/after steps of every pipeline resolver

TABLES = ("Contact", "Message", "BulkJob")  # the tables the API reads
NONE_SOURCE = "None"  # the data source of publishMessageChange
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
BATCH_READ_TABLES = ("Contact",)  # a page of contacts is read by key from a keys-only index (BatchGetItem)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
CHANGE_MAX_AGE = Duration.minutes(5)
CHANGE_SOURCE = "wecare.messages"
CHANGE_DETAIL_TYPE = "MessageChanged"
PUBLISH_MUTATION = "publishMessageChange"
# The fields of a change, from the stream record (the pipe) to the mutation (the rule). Each is in every row the
# pipe lets through (its filter asks for them), so no template ever names a missing attribute.
CHANGE_FIELDS = {
    "change": "$.eventName",
    "messageId": "$.dynamodb.Keys.messageId.S",
    "contactId": "$.dynamodb.NewImage.contactId.S",
    "kind": "$.dynamodb.NewImage.kind.S",
    "createdAt": "$.dynamodb.NewImage.createdAt.S",
    "updatedAt": "$.dynamodb.NewImage.updatedAt.S",
}
PUBLISH_OPERATION = (
    "mutation PublishMessageChange($change: MessageChangeInput!) { "
    f"{PUBLISH_MUTATION}(change: $change) {{ {' '.join(CHANGE_FIELDS)} }} }}"
)


@dataclass(frozen=True)
class Step:
    source: str  # a table's short name, or NONE_SOURCE
    file: str  # under RESOLVER_DIR


@dataclass(frozen=True)
class ResolverSpec:
    type_name: str
    field_name: str
    steps: tuple[Step, ...]  # one: a unit resolver; more: a pipeline of functions

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(step.file for step in self.steps) + ((PIPELINE_FILE,) if len(self.steps) > 1 else ())


RESOLVERS: tuple[ResolverSpec, ...] = (
    ResolverSpec("Query", "contact", (Step("Contact", "Query.contact.js"),)),
    ResolverSpec("Query", "contacts", (Step("Contact", "Contact.keys.js"), Step("Contact", "Contact.rows.js"))),
    ResolverSpec("Query", "conversations", (Step("Contact", "Query.conversations.js"),)),
    ResolverSpec("Query", "messages", (Step("Contact", "Contact.live.js"), Step("Message", "Message.byContact.js"))),
    ResolverSpec("Query", "campaign", (Step("BulkJob", "Query.campaign.js"),)),
    ResolverSpec("Query", "campaigns", (Step("BulkJob", "Query.campaigns.js"),)),
    ResolverSpec("Mutation", PUBLISH_MUTATION, (Step(NONE_SOURCE, "Mutation.publishMessageChange.js"),)),
)


class GraphqlApi(Construct):
    """`api` is the AppSync API (`api.graphql_url`); `bus` the message-changes bus, `pipe` the stream's pipe to
    it and `rule` the rule that publishes each change."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        tables: Mapping[str, dynamodb.ITable],
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        message_table = tables["Message"]
        if message_table.table_stream_arn is None:
            raise ValueError("the Message table has no stream: its spec must name a stream view type")
        log_role = iam.Role(self, "LogRole", assumed_by=_service("appsync.amazonaws.com"))
        self.api = appsync.GraphqlApi(
            self,
            "Api",
            name=f"{name_prefix}graphql",
            definition=appsync.Definition.from_file(str(SCHEMA_FILE)),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.USER_POOL,
                    user_pool_config=appsync.UserPoolConfig(
                        user_pool=user_pool,
                        default_action=appsync.UserPoolDefaultAction.ALLOW,  # the groups are checked per field
                        app_id_client_regex=f"^{user_pool_client.user_pool_client_id}$" if user_pool_client else None,
                    ),
                ),
                additional_authorization_modes=[appsync.AuthorizationMode(authorization_type=appsync.AuthorizationType.IAM)],
            ),
            xray_enabled=False,
            environment_variables={"CONTACT_TABLE": tables["Contact"].table_name},  # BatchGetItem names its table
        )
        # Logging is set on the CloudFormation resource: the construct's `log_config` would add a log-retention
        # function (a Lambda) to the stack. AppSync writes to /aws/appsync/apis/<api id>; made here, the group is
        # kept LOG_RETENTION (not forever), and the log role may write there only.
        cfn_api: appsync.CfnGraphQLApi = self.api.node.default_child
        cfn_api.log_config = appsync.CfnGraphQLApi.LogConfigProperty(
            cloud_watch_logs_role_arn=log_role.role_arn,
            field_log_level=appsync.FieldLogLevel.ERROR.value,
            exclude_verbose_content=True,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/appsync/apis/{self.api.api_id}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn, f"{self.log_group.log_group_arn}:log-stream:*"],
            )
        )

        self.data_sources: dict[str, appsync.BaseDataSource] = {
            name: self._table_source(name, tables[name]) for name in TABLES
        }
        self.data_sources[NONE_SOURCE] = appsync.NoneDataSource(
            self, "NoneSource", api=self.api, name="None", description="Publishes a Message change to subscribers"
        )
        self.resolvers = {(spec.type_name, spec.field_name): self._resolver(spec) for spec in RESOLVERS}

        self.bus = events.EventBus(self, "MessageChanges", event_bus_name=f"{name_prefix}message-changes")
        self.pipe = self._stream_pipe(name_prefix, message_table, self.bus)
        publisher = iam.Role(self, "PublishRole", assumed_by=_service("events.amazonaws.com"))
        self.api.grant_mutation(publisher, PUBLISH_MUTATION)
        self.rule = events.Rule(
            self,
            "PublishRule",
            rule_name=f"{name_prefix}message-changes-publish",
            description="Each Message change from the stream's pipe runs publishMessageChange (the subscription)",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=[CHANGE_SOURCE], detail_type=[CHANGE_DETAIL_TYPE]),
            targets=[
                targets.AppSync(
                    self.api,
                    graph_ql_operation=PUBLISH_OPERATION,
                    variables=events.RuleTargetInput.from_object(
                        {"change": {field: events.EventField.from_path(f"$.detail.{field}") for field in CHANGE_FIELDS}}
                    ),
                    event_role=publisher,
                    retry_attempts=2,
                    max_event_age=CHANGE_MAX_AGE,
                )
            ],
        )

    def _table_source(self, name: str, table: dynamodb.ITable) -> appsync.DynamoDbDataSource:
        role = iam.Role(self, f"{name}ReadRole", assumed_by=_service("appsync.amazonaws.com"))
        actions = [*READ_ACTIONS, *(("dynamodb:BatchGetItem",) if name in BATCH_READ_TABLES else ())]
        role.add_to_policy(iam.PolicyStatement(actions=actions, resources=[table.table_arn, f"{table.table_arn}/index/*"]))
        # The CDK would grant its own read set (Scan and the stream's actions among them) to the source's role;
        # given the role without policy updates, it grants nothing and the statement above is all there is.
        return appsync.DynamoDbDataSource(
            self,
            f"{name}Source",
            api=self.api,
            table=table,
            name=name,
            read_only_access=True,
            service_role=role.without_policy_updates(),
            description=f"The {name} table, read only",
        )

    def _resolver(self, spec: ResolverSpec) -> appsync.Resolver:
        resolver_id = f"{spec.type_name}{spec.field_name[0].upper()}{spec.field_name[1:]}"
        runtime = appsync.FunctionRuntime.JS_1_0_0
        if len(spec.steps) == 1:
            (step,) = spec.steps
            return appsync.Resolver(
                self,
                resolver_id,
                api=self.api,
                type_name=spec.type_name,
                field_name=spec.field_name,
                data_source=self.data_sources[step.source],
                runtime=runtime,
                code=_code(step.file),
            )
        functions = [
            appsync.AppsyncFunction(
                self,
                f"{resolver_id}Step{number}",
                api=self.api,
                name=f"{resolver_id}Step{number}",
                data_source=self.data_sources[step.source],
                runtime=runtime,
                code=_code(step.file),
            )
            for number, step in enumerate(spec.steps, start=1)
        ]
        return appsync.Resolver(
            self,
            resolver_id,
            api=self.api,
            type_name=spec.type_name,
            field_name=spec.field_name,
            pipeline_config=functions,
            runtime=runtime,
            code=_code(PIPELINE_FILE),
        )

    def _stream_pipe(self, name_prefix: str, table: dynamodb.ITable, bus: events.IEventBus) -> pipes.CfnPipe:
        role = iam.Role(self, "PipeRole", assumed_by=_service("pipes.amazonaws.com"))
        policy = iam.Policy(
            self,
            "PipePolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    resources=[table.table_stream_arn],
                ),
                iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=[f"{table.table_arn}/stream/*"]),
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus.event_bus_arn]),
            ],
        )
        present = [{"exists": True}]
        pattern = {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {name: {"S": present} for name in ("contactId", "kind", "createdAt", "updatedAt")}},
        }
        template = "{" + ", ".join(f'"{field}": "<{path}>"' for field, path in CHANGE_FIELDS.items()) + "}"
        pipe = pipes.CfnPipe(
            self,
            "StreamPipe",
            name=f"{name_prefix}message-changes",
            description="Message table stream (INSERT, MODIFY) to the message-changes bus: the GraphQL subscription",
            role_arn=role.role_arn,
            source=table.table_stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="LATEST",  # a change is news only now: no replay of the last 24 hours
                    batch_size=10,
                    maximum_batching_window_in_seconds=0,
                    maximum_retry_attempts=2,
                    maximum_record_age_in_seconds=int(CHANGE_MAX_AGE.to_seconds()),
                    on_partial_batch_item_failure="AUTOMATIC_BISECT",
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=_json(pattern))]
                ),
            ),
            target=bus.event_bus_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    source=CHANGE_SOURCE, detail_type=CHANGE_DETAIL_TYPE
                ),
                input_template=template,
            ),
        )
        # The pipe checks what its role may do when it is created: the policy first.
        pipe.node.add_dependency(policy)
        return pipe

    @property
    def url(self) -> str:
        return self.api.graphql_url


def _service(principal: str) -> iam.ServicePrincipal:
    """A service principal that may act for this account only (the confused-deputy guard)."""
    return iam.ServicePrincipal(principal, conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}})


def _code(file: str) -> appsync.Code:
    """The resolver's code in the template itself (no asset to upload)."""
    return appsync.Code.from_inline((RESOLVER_DIR / file).read_text())


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))
