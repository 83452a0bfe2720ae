"""The synthesized stack: tables from the backend specs, one function and one JWT-protected route per
route-table entry, the role groups, least-privilege table grants, and a template cfn-lint accepts."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from backend.api.routes import ROUTES
from backend.models import ContactModel
from infra.stage_config import StageConfig
from infra.table_access import NO_TABLE_ACCESS_WARNING, READ_ACTIONS, WRITE_ACTIONS
from infra.table_specs import table_specs_for
from infra.wecare_stack import LAYER_EMPTY_WARNING, WecareStack

STAGE = "citest"
PREFIX = f"wecare-{STAGE}-"
CALLBACK_URL = "https://app.example.test/auth/callback"
EXPIRING_TABLES = {"Message", "DLQMessage", "AuditLog", "RateLimitTracker", "VoiceCall"}  # conventions §3
ROUTED_FUNCTIONS = sorted({route.function for route in ROUTES})


@dataclass
class Synthesized:
    stack: cdk.Stack
    template: Template
    template_path: Path
    contact_table_name_before: str
    contact_table_name_after: str

    def resources(self, resource_type: str) -> dict[str, dict]:
        return self.template.find_resources(resource_type)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory) -> Synthesized:
    root = tmp_path_factory.mktemp("infra")
    app = cdk.App(outdir=str(root / "cdk.out"), context={"stage": STAGE, "callback_url": CALLBACK_URL})
    config = StageConfig.from_context(app.node, build_dir=root / "build")
    before = ContactModel.Meta.table_name
    stack = WecareStack(app, "wecare-citest", config=config)
    assembly = app.synth()
    template_path = Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path)
    template = Template.from_json(json.loads(template_path.read_text()))
    return Synthesized(stack, template, template_path, before, ContactModel.Meta.table_name)


@pytest.fixture(scope="module")
def specs():
    return {spec.short_name: spec for spec in table_specs_for(PREFIX)}


def _tables_by_name(synthesized: Synthesized) -> dict[str, dict]:
    return {r["Properties"]["TableName"]: r for r in synthesized.resources("AWS::DynamoDB::Table").values()}


def _functions_by_name(synthesized: Synthesized) -> dict[str, tuple[str, dict]]:
    """Deployed function name without the prefix -> (logical id, properties)."""
    return {
        props["Properties"]["FunctionName"].removeprefix(PREFIX): (logical_id, props["Properties"])
        for logical_id, props in synthesized.resources("AWS::Lambda::Function").items()
    }


def _get_att_targets(value) -> set[str]:
    """Logical ids named by any Fn::GetAtt inside a (possibly nested) CloudFormation value."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_get_att_targets(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_get_att_targets(v) for v in value)) if value else set()
    return set()


def test_the_twelve_spec_tables_are_on_demand_recoverable_and_retained(synthesized, specs):
    synthesized.template.resource_count_is("AWS::DynamoDB::Table", 12)
    tables = _tables_by_name(synthesized)
    assert set(tables) == {spec.table_name for spec in specs.values()}
    assert all(name.startswith(PREFIX) for name in tables)
    for name, table in tables.items():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST", name
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain", name


def test_ttl_is_expires_at_on_exactly_the_expiring_tables(synthesized):
    ttl = {
        name.removeprefix(PREFIX): table["Properties"]["TimeToLiveSpecification"]
        for name, table in _tables_by_name(synthesized).items()
        if "TimeToLiveSpecification" in table["Properties"]
    }
    assert ttl == {short: {"AttributeName": "expiresAt", "Enabled": True} for short in EXPIRING_TABLES}


def test_keys_and_indexes_match_the_backend_specs(synthesized, specs):
    tables = _tables_by_name(synthesized)
    for spec in specs.values():
        request, deployed = spec.create_request(), tables[spec.table_name]["Properties"]
        assert deployed["KeySchema"] == request["KeySchema"], spec.short_name
        assert _sorted_by(deployed["AttributeDefinitions"], "AttributeName") == _sorted_by(
            request["AttributeDefinitions"], "AttributeName"
        ), spec.short_name
        assert _sorted_by(deployed.get("GlobalSecondaryIndexes", []), "IndexName") == _sorted_by(
            request.get("GlobalSecondaryIndexes", []), "IndexName"
        ), spec.short_name
    contact_indexes = tables[specs["Contact"].table_name]["Properties"]["GlobalSecondaryIndexes"]
    assert {index["IndexName"] for index in contact_indexes} == {index.name for index in specs["Contact"].indexes}
    assert contact_indexes, "the Contact table serves list and name search from its indexes"


def _sorted_by(items: list[dict], key: str) -> list[dict]:
    return sorted(items, key=lambda item: item[key])


def test_synth_leaves_the_backend_model_configuration_alone(synthesized):
    assert synthesized.contact_table_name_after == synthesized.contact_table_name_before
    assert not synthesized.contact_table_name_after.startswith(PREFIX)


def test_one_python312_function_per_routed_function(synthesized):
    functions = _functions_by_name(synthesized)
    assert sorted(functions) == ROUTED_FUNCTIONS
    (layer_id,) = synthesized.resources("AWS::Lambda::LayerVersion")
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (client_id,) = synthesized.resources("AWS::Cognito::UserPoolClient")
    for name, (_, props) in functions.items():
        assert props["Runtime"] == "python3.12", name
        assert props["Handler"] == "handler.handler", name
        assert props["Timeout"] == 30, name
        assert props["Layers"] == [{"Ref": layer_id}], name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        env = props["Environment"]["Variables"]
        assert env["WECARE_ENV"] == "aws" and env["WECARE_TABLE_PREFIX"] == PREFIX, name
        assert env["WECARE_AWS_REGION"] == {"Ref": "AWS::Region"}, name
        assert env["WECARE_SEND_MODE"] == "SANDBOX", name
        assert env["WECARE_COGNITO_CLIENT_ID"] == {"Ref": client_id}, name
        assert pool_id in json.dumps(env["WECARE_COGNITO_ISSUER"]), name
    for log_group in synthesized.resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == 30


def test_each_route_reaches_its_function_through_the_jwt_authorizer(synthesized):
    deployed_routes = synthesized.resources("AWS::ApiGatewayV2::Route").values()
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in deployed_routes}
    assert set(routes) == {route.route_key for route in ROUTES}
    (authorizer_id, authorizer), = synthesized.resources("AWS::ApiGatewayV2::Authorizer").items()
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    assert pool_id in json.dumps(authorizer["Properties"]["JwtConfiguration"]["Issuer"])
    integrations = synthesized.resources("AWS::ApiGatewayV2::Integration")
    function_ids = {name: logical_id for name, (logical_id, _) in _functions_by_name(synthesized).items()}
    for route in ROUTES:
        deployed = routes[route.route_key]
        assert deployed["AuthorizationType"] == "JWT" and deployed["AuthorizerId"] == {"Ref": authorizer_id}
        integration_id = deployed["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["PayloadFormatVersion"] == "2.0"
        assert _get_att_targets(integration["IntegrationUri"]) == {function_ids[route.function]}, route.route_key


def test_cors_allows_only_the_web_app_origin(synthesized):
    (api,) = synthesized.resources("AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://app.example.test"]
    assert {route.method for route in ROUTES} <= set(cors["AllowMethods"])
    assert "authorization" in cors["AllowHeaders"]


def test_user_pool_has_the_role_groups_and_a_public_pkce_web_client(synthesized):
    (pool_id, pool), = synthesized.resources("AWS::Cognito::UserPool").items()
    assert pool["Properties"]["UsernameAttributes"] == ["email"]
    groups = synthesized.resources("AWS::Cognito::UserPoolGroup").values()
    assert sorted(g["Properties"]["GroupName"] for g in groups) == ["Admin", "Operator", "Viewer"]
    assert all(g["Properties"]["UserPoolId"] == {"Ref": pool_id} for g in groups)
    (client,) = synthesized.resources("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props["AllowedOAuthFlows"] == ["code"] and props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props["CallbackURLs"] == [CALLBACK_URL]
    assert props.get("GenerateSecret", False) is False


def _table_statements(synthesized: Synthesized) -> dict[str, list[dict]]:
    """Function name -> the DynamoDB statements of its role's policies."""
    tables = {
        logical_id: table["Properties"]["TableName"].removeprefix(PREFIX)
        for logical_id, table in synthesized.resources("AWS::DynamoDB::Table").items()
    }
    role_of = {name: props["Role"]["Fn::GetAtt"][0] for name, (_, props) in _functions_by_name(synthesized).items()}
    policies = synthesized.resources("AWS::IAM::Policy").values()
    result: dict[str, list[dict]] = {}
    for name, role in role_of.items():
        statements = [
            s
            for policy in policies
            if {"Ref": role} in policy["Properties"]["Roles"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if any(str(a).startswith("dynamodb:") for a in _as_list(s["Action"]))
        ]
        result[name] = [
            {**s, "Tables": {tables[t] for t in _get_att_targets(s["Resource"]) if t in tables}} for s in statements
        ]
    return result


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_no_dynamodb_statement_is_a_wildcard(synthesized):
    statements = [
        s
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamodb_statements = [
        s for s in statements if any(str(a).startswith("dynamodb:") or a == "*" for a in _as_list(s["Action"]))
    ]
    assert dynamodb_statements, "the contacts functions must have table grants"
    for statement in dynamodb_statements:
        actions = _as_list(statement["Action"])
        assert "*" not in actions and "dynamodb:*" not in actions, statement
        assert "dynamodb:Scan" not in actions, statement
        assert "*" not in _as_list(statement["Resource"]), statement


def test_contact_readers_only_read_and_writers_also_audit(synthesized):
    grants = _table_statements(synthesized)
    for reader in ("contacts-read", "contacts-search"):
        assert {t for s in grants[reader] for t in s["Tables"]} == {"Contact"}, reader
        assert not {a for s in grants[reader] for a in _as_list(s["Action"])} & set(WRITE_ACTIONS), reader
    for writer in ("contacts-create", "contacts-update", "contacts-delete"):
        actions_on = {
            table: {a for s in grants[writer] if table in s["Tables"] for a in _as_list(s["Action"])}
            for table in ("Contact", "AuditLog")
        }
        assert actions_on["Contact"] >= set(READ_ACTIONS) | set(WRITE_ACTIONS), writer
        assert "dynamodb:PutItem" in actions_on["AuditLog"], writer
        assert {t for s in grants[writer] for t in s["Tables"]} == {"Contact", "AuditLog"}, writer


def test_every_deployed_function_has_table_grants(synthesized):
    annotations = Annotations.from_stack(synthesized.stack)
    warnings = annotations.find_warning("*", Match.string_like_regexp(NO_TABLE_ACCESS_WARNING))
    assert warnings == [], [w.entry.data for w in warnings]


def test_a_plain_synth_warns_that_the_layer_has_no_dependencies(synthesized):
    Annotations.from_stack(synthesized.stack).has_warning("*", Match.string_like_regexp(LAYER_EMPTY_WARNING))


def test_template_names_no_account_or_region(synthesized):
    text = synthesized.template_path.read_text()
    assert not re.search(r"\b\d{12}\b", text), "an account id is written into the template"
    region = re.search(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?[a-z]+-\d\b", text)
    assert not region, f"a region is written into the template: {region and region.group()}"


def test_cfn_lint_reports_no_errors(synthesized):
    beside_python = Path(sys.executable).with_name("cfn-lint")
    cfn_lint = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is not installed (it is in requirements.txt)"
    completed = subprocess.run(
        [cfn_lint, "--format", "json", str(synthesized.template_path)], capture_output=True, text=True, timeout=120
    )
    findings = json.loads(completed.stdout)  # "[]" when clean; no output at all means cfn-lint broke
    errors = [f"{f['Rule']['Id']} {f['Message']}" for f in findings if f["Level"] == "Error"]
    assert errors == [], errors
    assert completed.returncode & 0b11 == 0, completed.stderr  # 2: errors found, 1: cfn-lint itself failed
