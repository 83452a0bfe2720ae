"""The synthesized stack: tables from the backend specs, one function per routed or triggered function and one
JWT-protected route per route-table entry, the role groups, the messaging resources (send queues, the WhatsApp
events topic, the media bucket, the schedule), least-privilege grants, and a template cfn-lint accepts.
The SMS, voice and email resources (their events topics and configuration sets) are in test_channels.py."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from backend.api.routes import LAMBDA_ROUTES as ROUTES  # the app serves the rest (routes.APP)
from infra.messaging_access import FUNCTION_MESSAGING_ACCESS
from infra.stage_config import StageConfig
from infra.table_access import FUNCTION_TABLE_ACCESS, NO_TABLE_ACCESS_WARNING, READ_ACTIONS, WRITE_ACTIONS, TableAccess
from infra.table_specs import table_specs_for
from infra.components.queues import CONSUMER_TIMEOUT
from infra.wecare_stack import (
    IDENTITY_WARNINGS,
    LAYER_EMPTY_WARNING,
    SEND_CHANNELS,
    WHATSAPP_IDS_WARNING,
    WecareStack,
)
from tests.infra.stack_template import (
    CALLBACK_URL,
    CONTEXT,
    PHONE_NUMBER_ID,
    PREFIX,
    STAGE,
    THIS_ACCOUNT,
    WABA_ID,
    Synthesized,
    as_list,
    denies_insecure_transport,
    functions_by_name,
    get_att_targets,
    invoke_permission,
    named,
    render,
    role_statements,
    service_actions,
    table_statements,
)

EXPIRING_TABLES = {"Message", "DLQMessage", "AuditLog", "RateLimitTracker", "VoiceCall"}  # conventions §3
TRIGGERED_ONLY = {"inbound-whatsapp-handler"}  # conventions §4: its trigger is the SNS topic, it has no route
DEPLOYED_FUNCTIONS = sorted({route.function for route in ROUTES} | TRIGGERED_ONLY)
# Function -> the channels whose send queue it puts message ids on (WECARE_SEND_QUEUE_URLS, sqs:SendMessage).
ENQUEUES = {
    "outbound-whatsapp": {"whatsapp"},
    "inbound-whatsapp-handler": {"whatsapp"},
    "dlq-replay": {"whatsapp", "sms", "email", "voice"},  # replays and the outbox sweep, on every channel
    "outbound-sms": {"sms"},  # retries, and the STOP/START/HELP replies to inbound texts
    "outbound-email": {"email"},
    "outbound-voice": {"voice"},
    "bulk-job-control": {"whatsapp", "sms", "email", "voice"},  # each campaign recipient's message
}
WHATSAPP_USERS = {"outbound-whatsapp", "inbound-whatsapp-handler", "dlq-replay"}
MEDIA_USERS = {"outbound-whatsapp": "read", "inbound-whatsapp-handler": "read_write", "dlq-replay": "read_write"}
SOCIAL_MESSAGING = "social-messaging.amazonaws.com"


@pytest.fixture(scope="module")
def specs():
    return {spec.short_name: spec for spec in table_specs_for(PREFIX)}


def _tables_by_name(synthesized: Synthesized) -> dict[str, dict]:
    return {r["Properties"]["TableName"]: r for r in synthesized.resources("AWS::DynamoDB::Table").values()}


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


def test_one_python312_function_per_routed_or_triggered_function(synthesized):
    functions = functions_by_name(synthesized)
    assert sorted(functions) == DEPLOYED_FUNCTIONS
    (layer_id,) = synthesized.resources("AWS::Lambda::LayerVersion")
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (client_id,) = synthesized.resources("AWS::Cognito::UserPoolClient")
    for name, (_, props) in functions.items():
        assert props["Runtime"] == "python3.12", name
        assert props["Handler"] == "handler.handler", name
        consumer = name in {f"outbound-{channel}" for channel in SEND_CHANNELS}
        assert props["Timeout"] == (CONSUMER_TIMEOUT.to_seconds() if consumer else 30), name
        assert props["Layers"] == [{"Ref": layer_id}], name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        env = props["Environment"]["Variables"]
        assert env["WECARE_ENV"] == "aws" and env["WECARE_TABLE_PREFIX"] == PREFIX, name
        assert env["WECARE_AWS_REGION"] == {"Ref": "AWS::Region"}, name
        assert env["WECARE_SEND_MODE"] == "LIVE", name
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
    function_ids = {name: logical_id for name, (logical_id, _) in functions_by_name(synthesized).items()}
    for route in ROUTES:
        deployed = routes[route.route_key]
        assert deployed["AuthorizationType"] == "JWT" and deployed["AuthorizerId"] == {"Ref": authorizer_id}
        integration_id = deployed["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["PayloadFormatVersion"] == "2.0"
        assert get_att_targets(integration["IntegrationUri"]) == {function_ids[route.function]}, route.route_key


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


def test_no_dynamodb_statement_is_a_wildcard(synthesized):
    statements = [
        s
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamodb_statements = [
        s for s in statements if any(str(a).startswith("dynamodb:") or a == "*" for a in as_list(s["Action"]))
    ]
    assert dynamodb_statements, "the contacts functions must have table grants"
    for statement in dynamodb_statements:
        actions = as_list(statement["Action"])
        assert "*" not in actions and "dynamodb:*" not in actions, statement
        assert "dynamodb:Scan" not in actions, statement
        assert "*" not in as_list(statement["Resource"]), statement


def test_contact_readers_only_read_and_writers_also_audit(synthesized):
    grants = table_statements(synthesized)
    for reader in ("contacts-read", "contacts-search"):
        assert {t for s in grants[reader] for t in s["Tables"]} == {"Contact"}, reader
        assert not {a for s in grants[reader] for a in as_list(s["Action"])} & set(WRITE_ACTIONS), reader
    for writer in ("contacts-create", "contacts-update", "contacts-delete"):
        actions_on = {
            table: {a for s in grants[writer] if table in s["Tables"] for a in as_list(s["Action"])}
            for table in ("Contact", "AuditLog")
        }
        assert actions_on["Contact"] >= set(READ_ACTIONS) | set(WRITE_ACTIONS), writer
        assert "dynamodb:PutItem" in actions_on["AuditLog"], writer
        assert {t for s in grants[writer] for t in s["Tables"]} == {"Contact", "AuditLog"}, writer


def test_every_deployed_function_has_table_grants(synthesized):
    annotations = Annotations.from_stack(synthesized.stack)
    warnings = annotations.find_warning("*", Match.string_like_regexp(NO_TABLE_ACCESS_WARNING))
    assert warnings == [], [w.entry.data for w in warnings]


def test_table_grants_are_exactly_the_table_access_map(synthesized):
    grants = table_statements(synthesized)
    readers = (TableAccess.READ, TableAccess.READ_WRITE)
    writers = (TableAccess.WRITE, TableAccess.READ_WRITE, TableAccess.APPEND)
    for name in DEPLOYED_FUNCTIONS:
        access = FUNCTION_TABLE_ACCESS[name]
        read = {t for s in grants[name] if set(as_list(s["Action"])) & set(READ_ACTIONS) for t in s["Tables"]}
        written = {t for s in grants[name] if set(as_list(s["Action"])) & set(WRITE_ACTIONS) for t in s["Tables"]}
        assert read == {t for t, level in access.items() if level in readers}, name
        assert written == {t for t, level in access.items() if level in writers}, name


def test_the_audit_log_is_append_only_for_every_function(synthesized):
    grants = table_statements(synthesized)
    appenders = [name for name in DEPLOYED_FUNCTIONS if "AuditLog" in FUNCTION_TABLE_ACCESS[name]]
    assert len(appenders) >= 10
    for name in appenders:
        actions = {a for s in grants[name] if "AuditLog" in s["Tables"] for a in as_list(s["Action"])}
        assert actions == {"dynamodb:PutItem"}, name  # added, never updated or deleted (nor read, by a function)


def test_message_readers_only_read_and_writers_touch_only_messages_conversations_and_the_audit_log(synthesized):
    grants, statements = table_statements(synthesized), role_statements(synthesized)
    assert {t for s in grants["messages-read"] for t in s["Tables"]} == {"Message", "Contact", "User", "SystemConfig"}
    # it writes only the message counters (SystemConfig rows) it keeps from the Message stream
    written = {t for s in grants["messages-read"] if set(as_list(s["Action"])) & set(WRITE_ACTIONS) for t in s["Tables"]}
    assert written == {"SystemConfig"}
    # messages-delete also writes the team inbox's changes: the conversation summary, its event, the settings
    assert {t for s in grants["messages-delete"] for t in s["Tables"]} == {"Message", "AuditLog", "Contact", "User", "SystemConfig"}
    user_actions = {a for s in grants["messages-delete"] if "User" in s["Tables"] for a in as_list(s["Action"])}
    assert user_actions and not user_actions & set(WRITE_ACTIONS)  # the team is read, never written
    for name in ("messages-read", "messages-delete"):
        # messages-read also sends the stream batches it failed to their queue (test_observability.py)
        services = ("s3", "social-messaging", "sms-voice", "ses") + (() if name == "messages-read" else ("sqs",))
        assert not any(service_actions(statements[name], service) for service in services), name


def test_no_policy_statement_grants_a_wildcard(synthesized):
    for name, statements in role_statements(synthesized).items():
        for statement in statements:
            assert not [a for a in as_list(statement["Action"]) if "*" in a], (name, statement)
            assert "*" not in as_list(statement["Resource"]), (name, statement)


def test_social_messaging_actions_only_where_the_code_calls_them(synthesized):
    statements = role_statements(synthesized)
    granted = {name: service_actions(s, "social-messaging") for name, s in statements.items()}
    assert {name: actions for name, actions in granted.items() if actions} == {
        "outbound-whatsapp": {
            "social-messaging:SendWhatsAppMessage",
            "social-messaging:PostWhatsAppMessageMedia",
            "social-messaging:ListWhatsAppMessageTemplates",
        },
        "inbound-whatsapp-handler": {"social-messaging:GetWhatsAppMessageMedia"},
        "dlq-replay": {"social-messaging:GetWhatsAppMessageMedia"},
    }
    assert all(set(access.whatsapp) == granted[name] for name, access in FUNCTION_MESSAGING_ACCESS.items())
    templates = {"social-messaging:ListWhatsAppMessageTemplates", "social-messaging:CreateWhatsAppMessageTemplate"}
    for statement in (s for group in statements.values() for s in group if service_actions([s], "social-messaging")):
        resource_type = "waba" if set(as_list(statement["Action"])) <= templates else "phone-number-id"
        arn = "arn:${AWS::Partition}:social-messaging:${AWS::Region}:${AWS::AccountId}:" + f"{resource_type}/*"
        assert render(statement["Resource"]) == arn, statement


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_only_the_functions_that_enqueue_may_send_to_the_send_queue(synthesized, channel):
    queue_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send")
    queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}

    def allowed(action: str) -> set[str]:
        return {
            name
            for name, statements in role_statements(synthesized).items()
            if any(action in as_list(s["Action"]) and s["Resource"] == queue_arn for s in statements)
        }

    assert allowed("sqs:SendMessage") == {name for name, channels in ENQUEUES.items() if channel in channels}
    assert allowed("sqs:ReceiveMessage") == allowed("sqs:DeleteMessage") == {f"outbound-{channel}"}


def test_media_access_is_read_to_send_and_read_write_to_fetch(synthesized):
    (bucket_id,) = synthesized.resources("AWS::S3::Bucket")
    expected = {
        "read": {"s3:GetObject", "s3:ListBucket"},
        "read_write": {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject"},
    }
    for name, statements in role_statements(synthesized).items():
        assert service_actions(statements, "s3") == expected.get(MEDIA_USERS.get(name), set()), name
        for statement in (s for s in statements if service_actions([s], "s3")):
            assert get_att_targets(statement["Resource"]) == {bucket_id}, (name, statement)


def test_message_table_streams_old_and_new_images_and_has_the_messaging_indexes(synthesized, specs):
    tables = _tables_by_name(synthesized)
    streams = {
        name.removeprefix(PREFIX): table["Properties"]["StreamSpecification"]
        for name, table in tables.items()
        if "StreamSpecification" in table["Properties"]
    }
    wanted = {s.short_name: {"StreamViewType": s.stream_view_type} for s in specs.values() if s.stream_view_type}
    assert streams == wanted
    assert streams["Message"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}

    def indexes(short_name: str) -> set[str]:
        return {i["IndexName"] for i in tables[f"{PREFIX}{short_name}"]["Properties"]["GlobalSecondaryIndexes"]}

    assert "byConversationStatus" in indexes("Contact") and "byActivity" not in indexes("Contact")
    assert "byTeam" in indexes("User")
    assert {"byDay", "byPendingWork", "byProviderId", "byContact"} <= indexes("Message")
    assert {"byContact", "byDay"} <= indexes("VoiceCall")


def test_there_is_one_send_queue_and_one_dead_letter_queue_per_channel(synthesized):
    names = {q["Properties"]["QueueName"] for q in synthesized.resources("AWS::SQS::Queue").values()}
    sends = {name.removeprefix(PREFIX) for name in names if name.endswith(("-send", "-send-dlq"))}
    assert sends == {f"{c}-send" for c in SEND_CHANNELS} | {f"{c}-send-dlq" for c in SEND_CHANNELS}
    assert set(SEND_CHANNELS) == {"whatsapp", "sms", "email", "voice"}


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_each_send_queue_redrives_to_an_encrypted_tls_only_dead_letter_queue(synthesized, channel):
    queue_id, queue = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send")
    dlq_id, dlq = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send-dlq")
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 5}
    _, consumer = functions_by_name(synthesized)[f"outbound-{channel}"]
    assert queue["VisibilityTimeout"] >= 6 * consumer["Timeout"]
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    for logical_id, props in ((queue_id, queue), (dlq_id, dlq)):
        assert props["SqsManagedSseEnabled"] is True
        (policy,) = [
            p["Properties"]["PolicyDocument"]
            for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
            if {"Ref": logical_id} in p["Properties"]["Queues"]
        ]
        assert denies_insecure_transport(policy["Statement"])


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_each_outbound_function_consumes_its_queue_in_batches_reporting_failed_records(synthesized, channel):
    queue_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send")
    function_id, _ = functions_by_name(synthesized)[f"outbound-{channel}"]
    (mapping,) = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": function_id}
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_whatsapp_events_reach_the_inbound_handler_from_end_user_messaging_social_only(synthesized):
    topic_id, _ = named(synthesized, "AWS::SNS::Topic", "TopicName", f"{PREFIX}whatsapp-events")
    handler_id, _ = functions_by_name(synthesized)["inbound-whatsapp-handler"]
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"], s["Resource"], s["Condition"]) for s in allows] == [
        ({"Service": SOCIAL_MESSAGING}, "sns:Publish", {"Ref": topic_id}, THIS_ACCOUNT)
    ]
    assert denies_insecure_transport(policy["Statement"])
    subscriptions = [
        s["Properties"]
        for s in synthesized.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    assert subscriptions == [
        {"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": [handler_id, "Arn"]}, "TopicArn": {"Ref": topic_id}}
    ]
    assert invoke_permission(synthesized, handler_id, "sns.amazonaws.com") == {"Ref": topic_id}
    (invoke_config,) = [
        c
        for c in synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": handler_id}
    ]
    assert invoke_config["Properties"]["FunctionName"] == {"Ref": handler_id}
    failed_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}whatsapp-events-failed")
    assert invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [failed_id, "Arn"]
    }


def test_the_media_bucket_is_private_encrypted_tls_only_and_open_to_the_service_of_this_account(synthesized):
    ((bucket_id, bucket),) = synthesized.resources("AWS::S3::Bucket").items()
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["DeletionPolicy"] == "Retain"
    (policy,) = synthesized.resources("AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert denies_insecure_transport(statements)
    allows = {as_list(s["Action"])[0]: s for s in statements if s["Effect"] == "Allow"}
    assert set(allows) == {"s3:PutObject", "s3:GetObject"}
    for statement in allows.values():
        assert statement["Principal"] == {"Service": SOCIAL_MESSAGING} and statement["Condition"] == THIS_ACCOUNT
    assert render(allows["s3:PutObject"]["Resource"]) == f"${{{bucket_id}.Arn}}/whatsapp-incoming/*"
    assert render(allows["s3:GetObject"]["Resource"]) == f"${{{bucket_id}.Arn}}/*"


def test_one_minute_schedules_invoke_dlq_replay_and_the_campaign_runner(synthesized):
    rules = {i: r for i, r in synthesized.resources("AWS::Events::Rule").items() if "ScheduleExpression" in r["Properties"]}
    assert len(rules) == 2  # (the third rule, on the message-changes bus, is the GraphQL API's: test_graphql.py)
    for name in ("dlq-replay", "bulk-job-control"):
        function_id, _ = functions_by_name(synthesized)[name]
        ((rule_id, rule),) = [(i, r) for i, r in rules.items()
                              if [t["Arn"] for t in r["Properties"]["Targets"]] == [{"Fn::GetAtt": [function_id, "Arn"]}]]
        assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
        assert invoke_permission(synthesized, function_id, "events.amazonaws.com") == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_enqueuing_functions_are_given_the_urls_of_exactly_their_queues(synthesized):
    queue_ids = {
        channel: named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send")[0]
        for channel in SEND_CHANNELS
    }
    for name, (_, props) in functions_by_name(synthesized).items():
        env = props["Environment"]["Variables"]
        if name not in ENQUEUES:
            assert "WECARE_SEND_QUEUE_URLS" not in env, name
            continue
        urls = json.loads(render(env["WECARE_SEND_QUEUE_URLS"]))
        assert urls == {channel: f"${{{queue_ids[channel]}}}" for channel in ENQUEUES[name]}, name


def test_whatsapp_functions_are_given_the_bucket_and_the_whatsapp_ids(synthesized):
    (bucket_id,) = synthesized.resources("AWS::S3::Bucket")
    whatsapp_keys = {"WECARE_MEDIA_BUCKET", "WECARE_WHATSAPP_PHONE_NUMBER_ID", "WECARE_WHATSAPP_WABA_ID"}
    for name, (_, props) in functions_by_name(synthesized).items():
        env = props["Environment"]["Variables"]
        if name not in WHATSAPP_USERS:
            assert not whatsapp_keys & set(env), name
            continue
        assert env["WECARE_MEDIA_BUCKET"] == {"Ref": bucket_id}, name
        assert env["WECARE_WHATSAPP_PHONE_NUMBER_ID"] == PHONE_NUMBER_ID, name
        assert env["WECARE_WHATSAPP_WABA_ID"] == WABA_ID, name
        assert not {"WECARE_WHATSAPP_WEBHOOK_SECRET", "WECARE_META_APP_SECRET"} & set(env), name


def test_the_outputs_name_the_events_topic_and_the_media_bucket(synthesized):
    outputs = synthesized.template.to_json()["Outputs"]
    topic_id, _ = named(synthesized, "AWS::SNS::Topic", "TopicName", f"{PREFIX}whatsapp-events")
    (bucket_id,) = synthesized.resources("AWS::S3::Bucket")
    assert outputs["WhatsAppEventsTopicArn"]["Value"] == {"Ref": topic_id}
    assert outputs["MediaBucketName"]["Value"] == {"Ref": bucket_id}


def test_a_live_stage_without_whatsapp_ids_is_warned(synthesized, tmp_path):
    quiet = Annotations.from_stack(synthesized.stack)
    assert quiet.find_warning("*", Match.string_like_regexp(WHATSAPP_IDS_WARNING)) == []
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context={"stage": STAGE, "callback_url": CALLBACK_URL})
    stack = WecareStack(app, "wecare-citest", config=StageConfig.from_context(app.node, build_dir=tmp_path / "build"))
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp(WHATSAPP_IDS_WARNING))


def test_a_live_stage_is_warned_of_each_channel_without_its_sending_identity(synthesized, tmp_path):
    quiet = Annotations.from_stack(synthesized.stack)
    for warning in IDENTITY_WARNINGS.values():
        assert quiet.find_warning("*", Match.string_like_regexp(warning)) == [], warning
    context = {key: value for key, value in CONTEXT.items() if key not in ("sms_origination_identity", "email_from")}
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=context)
    stack = WecareStack(app, "wecare-citest", config=StageConfig.from_context(app.node, build_dir=tmp_path / "build"))
    annotations = Annotations.from_stack(stack)
    warned = {
        channel
        for channel, warning in IDENTITY_WARNINGS.items()
        if annotations.find_warning("*", Match.string_like_regexp(warning))
    }
    assert warned == {"sms", "email"}
    (sms,) = annotations.find_warning("*", Match.string_like_regexp(IDENTITY_WARNINGS["sms"]))
    assert "-c sms_origination_identity" in sms.entry.data


def test_a_stage_that_does_not_send_live_is_not_warned_of_identities(tmp_path):
    context = {"stage": STAGE, "callback_url": CALLBACK_URL, "send_mode": "sandbox"}
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=context)
    stack = WecareStack(app, "wecare-citest", config=StageConfig.from_context(app.node, build_dir=tmp_path / "build"))
    annotations = Annotations.from_stack(stack)
    for warning in IDENTITY_WARNINGS.values():
        assert annotations.find_warning("*", Match.string_like_regexp(warning)) == [], warning


def test_a_plain_synth_warns_that_the_layer_has_no_dependencies(synthesized):
    warnings = Annotations.from_stack(synthesized.stack).find_warning("*", Match.string_like_regexp(LAYER_EMPTY_WARNING))
    assert len(warnings) == 1


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
