"""The GraphQL read API (infra/components/graphql.py): its schema (infra/graphql/schema.graphql) parsed with
graphql-core, its resolvers (infra/graphql/resolvers/) against the schema and the real table specs, what they
ask DynamoDB for (run under node with a stand-in for AppSync's `util`), and a small stack holding the construct
over the real tables: Cognito by default, read-only data-source roles, the pipe from the Message stream and the
rule that publishes each change. The construct is not in WecareStack yet (see the report of issue 15)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from graphql import build_schema, parse, validate

from backend.models.campaigns import BulkJobModel
from backend.models.contact import ContactModel
from backend.models.messaging import MessageMedia, MessageModel, StatusChange, TimelineEntryModel
from backend.services.campaigns.jobs import JOB_STATUSES
from backend.services.contacts.fields import fold_name
from backend.services.messaging.conversations import STATUSES as CONVERSATION_STATUSES
from backend.services.platform.access import Role
from infra.components.auth import UserDirectory
from infra.components.data import DataTables
from infra.components.graphql import (
    BATCH_READ_TABLES,
    CHANGE_DETAIL_TYPE,
    CHANGE_FIELDS,
    CHANGE_SOURCE,
    NONE_SOURCE,
    PIPELINE_FILE,
    PUBLISH_MUTATION,
    RESOLVER_DIR,
    RESOLVERS,
    SCHEMA_FILE,
    GraphqlApi,
)
from infra.table_access import WRITE_ACTIONS
from infra.table_specs import table_specs_for
from tests.infra.stack_template import PREFIX, as_list, get_att_targets, render

GROUPS = [role.value for role in Role]  # Viewer, Operator, Admin
# AppSync's own scalars and directives, which an AppSync schema uses without declaring them.
APPSYNC_PRELUDE = """
scalar AWSJSON
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_api_key on OBJECT | FIELD_DEFINITION
directive @aws_oidc on OBJECT | FIELD_DEFINITION
directive @aws_lambda on OBJECT | FIELD_DEFINITION
"""
QUERIES = {  # field: ({argument: type}, return type)
    "contact": ({"contactId": "ID!"}, "Contact"),
    "contacts": ({"query": "String", "limit": "Int", "nextToken": "String"}, "ContactPage"),
    "conversations": ({"status": "ConversationStatus!", "limit": "Int", "nextToken": "String"}, "ConversationPage"),
    "messages": ({"contactId": "ID!", "limit": "Int", "nextToken": "String"}, "MessagePage"),
    "campaign": ({"jobId": "ID!"}, "Campaign"),
    "campaigns": ({"status": "CampaignStatus!", "limit": "Int", "nextToken": "String"}, "CampaignPage"),
}
# The object types the resolvers return as the rows are stored: each field must be an attribute of the row.
ROW_TYPES = {
    "Contact": ContactModel,
    "Conversation": ContactModel,
    "Message": (MessageModel, TimelineEntryModel),
    "Campaign": BulkJobModel,
    "MessageMedia": MessageMedia,
    "StatusChange": StatusChange,
}
TABLE_MODELS = {"Contact": ContactModel, "Message": MessageModel, "BulkJob": BulkJobModel}
SOURCE_SPEC = {spec.short_name: spec for spec in table_specs_for(PREFIX)}


# ---------------------------------------------------------------- the schema


@pytest.fixture(scope="module")
def sdl() -> str:
    return SCHEMA_FILE.read_text()


@pytest.fixture(scope="module")
def schema(sdl):
    return build_schema(APPSYNC_PRELUDE + sdl)


@pytest.fixture(scope="module")
def field_directives(sdl) -> dict[tuple[str, str], dict[str, dict]]:
    """(type, field) -> {directive name: {argument: value}}, read from the SDL's syntax tree."""
    found = {}
    for definition in parse(sdl).definitions:
        for field in getattr(definition, "fields", None) or ():
            found[(definition.name.value, field.name.value)] = {
                d.name.value: _arguments(d) for d in field.directives or ()
            }
    return found


@pytest.fixture(scope="module")
def type_directives(sdl) -> dict[str, dict[str, dict]]:
    return {
        d.name.value: {x.name.value: _arguments(x) for x in d.directives or ()}
        for d in parse(sdl).definitions
        if hasattr(d, "name") and d.name is not None
    }


def _arguments(directive) -> dict:
    return {a.name.value: _value(a.value) for a in directive.arguments or ()}


def _value(node):
    return [_value(v) for v in node.values] if hasattr(node, "values") else node.value


def test_every_query_exists_with_its_arguments_and_return_type(schema):
    query = schema.query_type
    assert set(query.fields) == set(QUERIES)
    for name, (arguments, returns) in QUERIES.items():
        field = query.fields[name]
        assert {arg: str(spec.type) for arg, spec in field.args.items()} == arguments, name
        assert str(field.type) == returns, name
    for page in ("ContactPage", "ConversationPage", "MessagePage", "CampaignPage"):
        fields = schema.type_map[page].fields
        assert str(fields["items"].type) == f"[{page.removesuffix('Page')}!]!" and str(fields["nextToken"].type) == "String"


def test_the_status_enums_are_the_backend_statuses(schema):
    assert list(schema.type_map["ConversationStatus"].values) == list(CONVERSATION_STATUSES)
    assert list(schema.type_map["CampaignStatus"].values) == list(JOB_STATUSES)


def test_queries_are_for_the_three_groups_of_the_user_pool_only(schema, field_directives):
    for name in QUERIES:
        directives = field_directives[("Query", name)]
        assert directives == {"aws_cognito_user_pools": {"cognito_groups": GROUPS}}, name


def test_the_only_mutation_publishes_a_change_and_is_iam_only(schema, field_directives, type_directives):
    assert set(schema.mutation_type.fields) == {PUBLISH_MUTATION}  # no user mutations in this version
    assert field_directives[("Mutation", PUBLISH_MUTATION)] == {"aws_iam": {}}
    assert type_directives["Mutation"] == {}
    field = schema.mutation_type.fields[PUBLISH_MUTATION]
    assert {arg: str(spec.type) for arg, spec in field.args.items()} == {"change": "MessageChangeInput!"}
    assert str(field.type) == "MessageChange"


def test_the_subscription_is_bound_to_the_mutation_and_filters_by_contact(schema, field_directives):
    assert set(schema.subscription_type.fields) == {"onMessageChanged"}
    field = schema.subscription_type.fields["onMessageChanged"]
    assert {arg: str(spec.type) for arg, spec in field.args.items()} == {"contactId": "ID"}  # none: every contact
    assert field.type == schema.mutation_type.fields[PUBLISH_MUTATION].type
    directives = field_directives[("Subscription", "onMessageChanged")]
    assert directives == {
        "aws_subscribe": {"mutations": [PUBLISH_MUTATION]},
        "aws_cognito_user_pools": {"cognito_groups": GROUPS},
    }
    change = schema.type_map["MessageChange"]
    assert "contactId" in change.fields  # AppSync filters on the argument by the returned field of that name


def test_the_change_type_is_for_the_publisher_and_the_groups_and_carries_the_pipes_fields(schema, type_directives):
    assert type_directives["MessageChange"] == {"aws_iam": {}, "aws_cognito_user_pools": {"cognito_groups": GROUPS}}
    assert list(schema.type_map["MessageChange"].fields) == list(CHANGE_FIELDS)
    assert list(schema.type_map["MessageChangeInput"].fields) == list(CHANGE_FIELDS)


def test_only_user_pool_and_iam_directives_authorise(field_directives, type_directives):
    used = {name for directives in (*field_directives.values(), *type_directives.values()) for name in directives}
    # no API key, OIDC or Lambda; and no @aws_auth, which AppSync ignores on an API with a second mode
    assert used == {"aws_cognito_user_pools", "aws_iam", "aws_subscribe"}


def test_the_header_says_there_are_no_user_mutations(sdl):
    header = sdl.split("schema {")[0]
    assert "NO user mutations in this first version" in header


def test_every_field_a_resolver_returns_is_an_attribute_of_its_row(schema):
    for type_name, model in ROW_TYPES.items():
        models = model if isinstance(model, tuple) else (model,)
        attributes = set().union(*(m.get_attributes() for m in models))
        missing = set(schema.type_map[type_name].fields) - attributes
        assert not missing, (type_name, missing)


def test_the_row_types_expose_nothing_internal(schema):
    for type_name in ("Contact", "Conversation"):
        fields = set(schema.type_map[type_name].fields)
        assert not fields & {"version", "imported", "nameBucket", "nameSort", "listPartition", "deletedAt", "consent"}
    assert not set(schema.type_map["Message"].fields) & {"payload", "sender", "pendingWork", "expiresAt", "day"}
    assert not set(schema.type_map["Campaign"].fields) & {"message", "audience", "leaseOwner", "expandCursor"}


# ---------------------------------------------------------------- the resolvers


def _source(spec_step_file: str) -> str:
    return (RESOLVER_DIR / spec_step_file).read_text()


def test_every_query_and_mutation_has_one_resolver_on_an_existing_field(schema):
    resolved = {(spec.type_name, spec.field_name) for spec in RESOLVERS}
    assert len(resolved) == len(RESOLVERS)
    expected = {("Query", name) for name in schema.query_type.fields} | {
        ("Mutation", name) for name in schema.mutation_type.fields
    }
    assert resolved == expected


def test_every_resolver_file_exists_and_every_file_is_used():
    used = {file for spec in RESOLVERS for file in spec.files}
    for file in used:
        assert (RESOLVER_DIR / file).is_file(), file
    assert {path.name for path in RESOLVER_DIR.glob("*.js")} == used


def test_resolvers_read_only_arguments_their_field_has(schema):
    for spec in RESOLVERS:
        field = schema.get_type(spec.type_name).fields[spec.field_name]
        for file in spec.files:
            read = set(re.findall(r"ctx\.args\.(\w+)", _source(file)))
            assert read <= set(field.args), (spec.field_name, file, read - set(field.args))


def test_resolvers_only_get_and_query_on_their_tables_indexes_and_attributes():
    for spec in RESOLVERS:
        for step in spec.steps:
            code = _source(step.file)
            operations = set(re.findall(r"operation: '(\w+)'", code))
            if step.source == NONE_SOURCE:
                assert operations == set(), step.file
                continue
            allowed = {"GetItem", "Query"} | ({"BatchGetItem"} if step.source in BATCH_READ_TABLES else set())
            assert operations and operations <= allowed, (step.file, operations)
            table = SOURCE_SPEC[step.source]
            for index in re.findall(r"index: '(\w+)'", code):
                assert index in {i.name for i in table.indexes}, (step.file, index)
            attributes = TABLE_MODELS[step.source].get_attributes()
            for name in re.findall(r"'#\w+': '(\w+)'", code):
                assert name in attributes, (step.file, name)


def test_the_resolvers_query_the_index_keys_of_the_specs():
    """Each Query names its index's hash key (and, for a prefix, its range key) as the spec declares them."""
    specs = {
        ("Contact.keys.js", "byCreated"): "listPartition",
        ("Contact.keys.js", "byName"): "nameBucket",
        ("Query.conversations.js", "byConversationStatus"): "conversationStatus",
        ("Message.byContact.js", "byContact"): "contactId",
        ("Query.campaigns.js", "byStatus"): "status",
    }
    tables = {"Contact.keys.js": "Contact", "Query.conversations.js": "Contact", "Message.byContact.js": "Message",
              "Query.campaigns.js": "BulkJob"}
    for (file, index_name), hash_key in specs.items():
        (index,) = [i for i in SOURCE_SPEC[tables[file]].indexes if i.name == index_name]
        assert index.hash_key == hash_key, (file, index_name)
    (by_name,) = [i for i in SOURCE_SPEC["Contact"].indexes if i.name == "byName"]
    assert by_name.range_key == "nameSort"


# Runs a resolver's handlers under node, with a stand-in for AppSync's `util` and `runtime`.
_HARNESS = r"""
const fs = require('fs');
const [file, handler, ctxJson] = process.argv.slice(1);
const source = fs.readFileSync(file, 'utf8')
  .replace(/^import .*$/mg, '')
  .replace(/export function/g, 'function');
class Stop { constructor(kind, value) { this.kind = kind; this.value = value; } }
const marshall = (v) => typeof v === 'string' ? { S: v } : typeof v === 'number' ? { N: String(v) } : { BOOL: v };
const util = {
  error: (message, type) => { throw new Stop('error', { message, type }); },
  appendError: (message, type) => { appended.push({ message, type }); },
  dynamodb: { toMapValues: (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, marshall(v)])) },
  time: { nowEpochSeconds: () => 1700000000 },
  str: { normalize: (s, form) => s.normalize(form.toUpperCase()) },
};
const runtime = { earlyReturn: (value) => { throw new Stop('early', value); } };
const appended = [];
const handlers = new Function('util', 'runtime', source + '\nreturn { request, response };')(util, runtime);
let out;
try { out = { result: handlers[handler](JSON.parse(ctxJson)), appended }; }
catch (e) { if (e instanceof Stop) out = { [e.kind]: e.value, appended }; else throw e; }
process.stdout.write(JSON.stringify(out === undefined ? null : out, (k, v) => v === undefined ? null : v));
"""


@pytest.fixture(scope="module")
def run_js():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")

    def run(file: str, handler: str, ctx: dict) -> dict:
        completed = subprocess.run(
            [node, "-e", _HARNESS, str(RESOLVER_DIR / file), handler, json.dumps(ctx)],
            capture_output=True, text=True, timeout=30,
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)

    return run


def test_contacts_without_a_query_page_the_live_partition_newest_first(run_js):
    request = run_js("Contact.keys.js", "request", {"args": {"limit": 10, "nextToken": "t"}})["result"]
    assert request["operation"] == "Query" and request["index"] == "byCreated"
    assert request["query"]["expressionValues"] == {":live": {"S": "LIVE"}}
    assert request["scanIndexForward"] is False and request["limit"] == 10 and request["nextToken"] == "t"


def test_contacts_by_name_prefix_use_the_folded_name(run_js):
    request = run_js("Contact.keys.js", "request", {"args": {"query": "  Zoë   ÅNN "}})["result"]
    assert request["index"] == "byName" and request["limit"] == 25
    assert request["query"]["expressionValues"] == {":bucket": {"S": "z"}, ":prefix": {"S": "zoe ann"}}
    assert fold_name("  Zoë   ÅNN ") == "zoe ann"  # as the backend folds the names it indexes
    assert request["scanIndexForward"] is True


def test_contacts_by_email_or_e164_read_the_addresss_row_and_then_its_owner(run_js):
    by_email = run_js("Contact.keys.js", "request", {"args": {"query": "Ann@Example.COM"}})["result"]
    assert by_email == {"operation": "GetItem", "key": {"contactId": {"S": "email#ann@example.com"}}}
    by_phone = run_js("Contact.keys.js", "request", {"args": {"query": "+447700900123"}})["result"]
    assert by_phone["key"] == {"contactId": {"S": "phone#+447700900123"}}
    owner = run_js("Contact.keys.js", "response", {"args": {}, "result": {"contactId": "email#a@b.c", "ownerId": "c1"}})
    assert owner["result"] == {"ids": ["c1"], "nextToken": None}
    page = run_js("Contact.keys.js", "response", {"args": {}, "result": {"items": [{"contactId": "c2"}], "nextToken": "n"}})
    assert page["result"] == {"ids": ["c2"], "nextToken": "n"}


@pytest.mark.parametrize("limit", [0, 101])
def test_a_page_limit_out_of_range_is_refused(run_js, limit):
    for file in ("Contact.keys.js", "Query.conversations.js", "Message.byContact.js", "Query.campaigns.js"):
        out = run_js(file, "request", {"args": {"limit": limit, "status": "open"}, "prev": {"result": "c1"}})
        assert out["error"]["type"] == "ValidationError" and "limit" in out["error"]["message"], file


def test_contact_rows_are_one_batch_get_in_order_without_the_deleted(run_js):
    env = {"CONTACT_TABLE": "wecare-citest-Contact"}
    prev = {"result": {"ids": ["c1", "c2", "c3"], "nextToken": "n"}}
    request = run_js("Contact.rows.js", "request", {"env": env, "prev": prev})["result"]
    assert request["operation"] == "BatchGetItem"
    assert request["tables"]["wecare-citest-Contact"]["keys"] == [{"contactId": {"S": c}} for c in ("c1", "c2", "c3")]
    rows = [{"contactId": "c1", "name": "A"}, None, {"contactId": "c3", "name": "C", "deletedAt": "x"}]
    out = run_js("Contact.rows.js", "response", {"env": env, "prev": prev, "result": {"data": {env["CONTACT_TABLE"]: rows}}})
    assert out["result"] == {"items": [{"contactId": "c1", "name": "A"}], "nextToken": "n"}
    empty = run_js("Contact.rows.js", "request", {"env": env, "prev": {"result": {"ids": [], "nextToken": None}}})
    assert empty["early"] == {"items": [], "nextToken": None}


def test_address_rows_and_audience_chunks_are_never_read_as_contacts_or_campaigns(run_js):
    for file, args in (("Query.contact.js", {"contactId": "phone#+447700900123"}),
                       ("Contact.live.js", {"contactId": "suppress#sms#+44"}),
                       ("Query.campaign.js", {"jobId": "j1#audience#0"})):
        assert run_js(file, "request", {"args": args})["error"]["type"] == "ValidationError", file
    deleted = {"contactId": "c1", "name": "A", "deletedAt": "2025-01-01T00:00:00.000000+0000"}
    assert run_js("Query.contact.js", "response", {"args": {}, "result": deleted})["result"] is None
    assert run_js("Contact.live.js", "response", {"args": {"contactId": "c1"}, "result": deleted})["error"]["type"] == "NotFound"


def test_conversations_are_one_status_newest_first_without_deleted_contacts(run_js):
    request = run_js("Query.conversations.js", "request", {"args": {"status": "open"}})["result"]
    assert request["index"] == "byConversationStatus" and request["scanIndexForward"] is False
    assert request["query"]["expressionValues"] == {":status": {"S": "open"}}
    assert request["filter"]["expression"] == "attribute_not_exists(#deleted)"


def test_messages_are_the_live_contacts_newest_first_without_the_expired(run_js):
    request = run_js("Message.byContact.js", "request", {"args": {"contactId": "c1"}, "prev": {"result": "c1"}})["result"]
    assert request["index"] == "byContact" and request["scanIndexForward"] is False and request["limit"] == 50
    assert request["query"]["expressionValues"] == {":contact": {"S": "c1"}}
    items = [{"messageId": "m1", "expiresAt": 1700000001}, {"messageId": "m2", "expiresAt": 1699999999}, {"messageId": "m3"}]
    out = run_js("Message.byContact.js", "response", {"args": {}, "result": {"items": items}})
    assert [m["messageId"] for m in out["result"]["items"]] == ["m1", "m3"]


def test_publishing_a_change_returns_it_unchanged(run_js):
    change = {"change": "INSERT", "messageId": "m1", "contactId": "c1", "kind": "text", "createdAt": "t", "updatedAt": "t"}
    assert run_js("Mutation.publishMessageChange.js", "request", {"args": {"change": change}})["result"] == {"payload": change}
    assert run_js("Mutation.publishMessageChange.js", "response", {"result": change})["result"] == change


# ---------------------------------------------------------------- a stack with the construct


class Built:
    def __init__(self, stack: cdk.Stack, template_path: Path):
        self.stack = stack
        self.template_path = template_path
        self.template = Template.from_json(json.loads(template_path.read_text()))

    def resources(self, resource_type: str) -> dict[str, dict]:
        return self.template.find_resources(resource_type)

    def policy_statements(self, role_id: str) -> list[dict]:
        return [
            s
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def table_ids(self) -> dict[str, str]:
        """Table short name -> logical id."""
        return {
            table["Properties"]["TableName"].removeprefix(PREFIX): logical_id
            for logical_id, table in self.resources("AWS::DynamoDB::Table").items()
        }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("graphql")
    app = cdk.App(outdir=str(root / "cdk.out"))
    stack = cdk.Stack(app, "wecare-graphql-test", analytics_reporting=False)
    data = DataTables(stack, "Data", specs=table_specs_for(PREFIX))
    auth = UserDirectory(stack, "Auth", name_prefix=PREFIX, callback_url="https://app.example.test/auth/callback",
                         sign_out_url="https://app.example.test/")
    GraphqlApi(stack, "Graphql", name_prefix=PREFIX, tables=data.tables, user_pool=auth.user_pool,
               user_pool_client=auth.web_client)
    assembly = app.synth()
    return Built(stack, Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path))


def _api(built: Built) -> tuple[str, dict]:
    ((api_id, api),) = built.resources("AWS::AppSync::GraphQLApi").items()
    return api_id, api["Properties"]


def test_the_api_signs_in_with_the_user_pool_by_default_and_iam_for_the_publisher_only(built):
    _, api = _api(built)
    (pool_id,) = built.resources("AWS::Cognito::UserPool")
    (client_id,) = built.resources("AWS::Cognito::UserPoolClient")
    assert api["AuthenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert api["UserPoolConfig"]["UserPoolId"] == {"Ref": pool_id}
    assert api["UserPoolConfig"]["DefaultAction"] == "ALLOW"  # the groups are checked field by field
    assert render(api["UserPoolConfig"]["AppIdClientRegex"]) == f"^${{{client_id}}}$"
    assert api["AdditionalAuthenticationProviders"] == [{"AuthenticationType": "AWS_IAM"}]
    assert built.resources("AWS::AppSync::ApiKey") == {}


def test_the_schema_deployed_is_the_schema_file(built):
    (schema,) = built.resources("AWS::AppSync::GraphQLSchema").values()
    assert schema["Properties"]["Definition"] == SCHEMA_FILE.read_text()


def test_logs_are_errors_only_without_verbose_content_kept_a_month_and_xray_is_off(built):
    api_id, api = _api(built)
    assert api["LogConfig"]["FieldLogLevel"] == "ERROR" and api["LogConfig"]["ExcludeVerboseContent"] is True
    assert api["XrayEnabled"] is False
    (group,) = built.resources("AWS::Logs::LogGroup").values()
    assert render(group["Properties"]["LogGroupName"]) == f"/aws/appsync/apis/${{{api_id}.ApiId}}"
    assert group["Properties"]["RetentionInDays"] == 30
    log_role = api["LogConfig"]["CloudWatchLogsRoleArn"]["Fn::GetAtt"][0]
    (statement,) = built.policy_statements(log_role)
    assert set(as_list(statement["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert get_att_targets(statement["Resource"]) == {next(iter(built.resources("AWS::Logs::LogGroup")))}


def test_the_construct_adds_no_function(built):
    assert built.resources("AWS::Lambda::Function") == {}
    assert built.resources("Custom::LogRetention") == {}


def test_each_table_source_has_a_role_of_its_own_that_only_reads_its_table(built):
    tables = built.table_ids()
    sources = {s["Properties"]["Name"]: s["Properties"] for s in built.resources("AWS::AppSync::DataSource").values()}
    assert set(sources) == {"Contact", "Message", "BulkJob", "None"}
    assert sources["None"]["Type"] == "NONE" and "ServiceRoleArn" not in sources["None"]
    roles = set()
    for name in ("Contact", "Message", "BulkJob"):
        source = sources[name]
        assert source["Type"] == "AMAZON_DYNAMODB" and source["DynamoDBConfig"]["TableName"] == {"Ref": tables[name]}
        role = source["ServiceRoleArn"]["Fn::GetAtt"][0]
        roles.add(role)
        statements = built.policy_statements(role)
        actions = {a for s in statements for a in as_list(s["Action"])}
        expected = {"dynamodb:GetItem", "dynamodb:Query"} | ({"dynamodb:BatchGetItem"} if name in BATCH_READ_TABLES else set())
        assert actions == expected, name
        assert not actions & set(WRITE_ACTIONS) and "dynamodb:Scan" not in actions, name
        for statement in statements:
            assert statement["Effect"] == "Allow"
            assert "*" not in as_list(statement["Resource"]), name
            assert get_att_targets(statement["Resource"]) == {tables[name]}, name
            rendered = {render(r) for r in as_list(statement["Resource"])}
            assert rendered == {f"${{{tables[name]}.Arn}}", f"${{{tables[name]}.Arn}}/index/*"}, name
    assert len(roles) == 3


def test_every_service_role_acts_for_this_account_only(built):
    for role in built.resources("AWS::IAM::Role").values():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_resolvers_run_the_resolver_files_on_their_sources(built):
    functions = {
        logical_id: f["Properties"] for logical_id, f in built.resources("AWS::AppSync::FunctionConfiguration").items()
    }
    resolvers = {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"]): r["Properties"]
        for r in built.resources("AWS::AppSync::Resolver").values()
    }
    assert set(resolvers) == {(spec.type_name, spec.field_name) for spec in RESOLVERS}
    js = {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
    for spec in RESOLVERS:
        resolver = resolvers[(spec.type_name, spec.field_name)]
        assert resolver["Runtime"] == js
        if len(spec.steps) == 1:
            (step,) = spec.steps
            assert resolver["Kind"] == "UNIT" and resolver["DataSourceName"] == step.source
            assert resolver["Code"] == _source(step.file)
            continue
        assert resolver["Kind"] == "PIPELINE" and resolver["Code"] == _source(PIPELINE_FILE)
        steps = [functions[f["Fn::GetAtt"][0]] for f in resolver["PipelineConfig"]["Functions"]]
        assert [(f["DataSourceName"], f["Code"]) for f in steps] == [
            (step.source, _source(step.file)) for step in spec.steps
        ]
        assert all(f["Runtime"] == js for f in steps)


def test_the_pipe_reads_the_message_stream_inserts_and_modifies_onto_the_bus(built):
    tables = built.table_ids()
    ((pipe_id, pipe),) = built.resources("AWS::Pipes::Pipe").items()
    (bus_id,) = built.resources("AWS::Events::EventBus")
    props = pipe["Properties"]
    assert props["Source"] == {"Fn::GetAtt": [tables["Message"], "StreamArn"]}
    assert props["Target"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    stream = props["SourceParameters"]["DynamoDBStreamParameters"]
    assert stream["StartingPosition"] == "LATEST" and stream["MaximumRecordAgeInSeconds"] <= 300
    (pattern,) = [json.loads(f["Pattern"]) for f in props["SourceParameters"]["FilterCriteria"]["Filters"]]
    assert pattern["eventName"] == ["INSERT", "MODIFY"]
    # every attribute the template reads is required by the filter, so no record yields a half-filled change
    required = set(pattern["dynamodb"]["NewImage"])
    for field, path in CHANGE_FIELDS.items():
        if ".NewImage." in path:
            assert path.split(".")[3] in required, field
    target = props["TargetParameters"]
    assert target["EventBridgeEventBusParameters"] == {"Source": CHANGE_SOURCE, "DetailType": CHANGE_DETAIL_TYPE}
    assert json.loads(re.sub(r'"<\$[^>]+>"', '"x"', target["InputTemplate"])).keys() == CHANGE_FIELDS.keys()
    role = props["RoleArn"]["Fn::GetAtt"][0]
    statements = built.policy_statements(role)
    actions = {a: s["Resource"] for s in statements for a in as_list(s["Action"])}
    assert set(actions) == {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                            "dynamodb:ListStreams", "events:PutEvents"}
    assert actions["dynamodb:GetRecords"] == {"Fn::GetAtt": [tables["Message"], "StreamArn"]}
    assert render(actions["dynamodb:ListStreams"]) == f"${{{tables['Message']}.Arn}}/stream/*"
    assert actions["events:PutEvents"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert len(pipe["DependsOn"]) == 1  # the role's policy, which the pipe checks when it is created


def test_the_rule_on_the_bus_runs_the_publish_mutation_with_a_role_for_that_field_only(built):
    api_id, _ = _api(built)
    (bus_id,) = built.resources("AWS::Events::EventBus")
    (rule,) = built.resources("AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["EventBusName"] == {"Ref": bus_id}
    assert props["EventPattern"] == {"source": [CHANGE_SOURCE], "detail-type": [CHANGE_DETAIL_TYPE]}
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [api_id, "GraphQLEndpointArn"]}
    operation = target["AppSyncParameters"]["GraphQLOperation"]
    assert f"{PUBLISH_MUTATION}(change: $change)" in operation
    schema = build_schema(APPSYNC_PRELUDE + SCHEMA_FILE.read_text())
    assert validate(schema, parse(operation)) == []
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {f"detail-{f}": f"$.detail.{f}" for f in CHANGE_FIELDS}
    assert set(json.loads(re.sub(r"<([\w-]+)>", r'"\1"', transformer["InputTemplate"]))["change"]) == set(CHANGE_FIELDS)
    statements = built.policy_statements(target["RoleArn"]["Fn::GetAtt"][0])
    assert [(s["Action"], render(s["Resource"])) for s in statements] == [
        ("appsync:GraphQL",
         f"arn:${{AWS::Partition}}:appsync:${{AWS::Region}}:${{AWS::AccountId}}:apis/${{{api_id}.ApiId}}"
         f"/types/Mutation/fields/{PUBLISH_MUTATION}")
    ]


def test_the_template_names_no_account_or_region(built):
    text = built.template_path.read_text()
    assert not re.search(r"\b\d{12}\b", text)
    assert not re.search(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?[a-z]+-\d\b", text)


def test_cfn_lint_reports_nothing(built):
    beside_python = Path(sys.executable).with_name("cfn-lint")
    cfn_lint = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is not installed (it is in requirements-dev.txt)"
    completed = subprocess.run(
        [cfn_lint, "--format", "json", str(built.template_path)], capture_output=True, text=True, timeout=120
    )
    findings = json.loads(completed.stdout)
    assert [f"{f['Level']} {f['Rule']['Id']} {f['Message']}" for f in findings] == []
    assert completed.returncode == 0, completed.stderr

