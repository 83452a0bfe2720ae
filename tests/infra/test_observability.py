"""Observability and hardening in the synthesized stack: the alarm topic and its alarms (every function's errors
and throttles, every queue's depth, the API's 5xx, each channel's failed-send rate from the queue door's log
line), the API stage's access log and throttling, the user pool's password, MFA and threat protection, and the
Message table's stream feeding messages-read."""
from __future__ import annotations

import json
import logging
from fnmatch import fnmatchcase

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from backend.api import queue_door
from backend.services.messaging.outbox import Outcome
from infra.components.alarms import FAILED_SEND_PERCENT, SEND_BACKLOG
from infra.components.message_stream import BATCH_SIZE, RETRY_ATTEMPTS
from infra.stage_config import DEFAULT_API_BURST_LIMIT, DEFAULT_API_RATE_LIMIT, StageConfig
from infra.wecare_stack import SEND_CHANNELS, WecareStack
from tests.infra.stack_template import (
    CALLBACK_URL,
    PREFIX,
    STAGE,
    Synthesized,
    as_list,
    denies_insecure_transport,
    functions_by_name,
    named,
    role_statements,
)

FAILED_QUEUES = (
    *(f"{channel}-send-dlq" for channel in SEND_CHANNELS),
    "whatsapp-events-failed",
    "sms-voice-events-failed",
    "email-events-failed",
    "message-stream-failed",
)


def _topic_id(synthesized: Synthesized) -> str:
    return named(synthesized, "AWS::SNS::Topic", "TopicName", f"{PREFIX}alarms")[0]


def _alarms(synthesized: Synthesized) -> dict[str, dict]:
    """Alarm name without the stage prefix -> its properties."""
    return {
        a["Properties"]["AlarmName"].removeprefix(PREFIX): a["Properties"]
        for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
    }


def _dimensions(alarm: dict) -> dict:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def test_every_alarm_notifies_the_alarm_topic_and_missing_data_is_not_an_alarm(synthesized):
    topic_id = _topic_id(synthesized)
    alarms = _alarms(synthesized)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_the_alarm_topic_is_an_output_takes_only_tls_and_only_this_accounts_alarms_may_publish(synthesized):
    topic_id = _topic_id(synthesized)
    outputs = synthesized.template.to_json()["Outputs"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    assert denies_insecure_transport(policy["Statement"])
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_deployed_function_has_an_alarm_on_any_errors_and_any_throttles(synthesized, metric):
    watched = {
        _dimensions(a)["FunctionName"]["Ref"]: a
        for a in _alarms(synthesized).values()
        if a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric
    }
    functions = functions_by_name(synthesized)
    assert set(watched) == {logical_id for logical_id, _ in functions.values()}
    for alarm in watched.values():
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def _queue_depth_alarms(synthesized: Synthesized) -> dict[str, dict]:
    """Queue logical id -> its ApproximateNumberOfMessagesVisible alarm."""
    alarms = {}
    for alarm in _alarms(synthesized).values():
        if alarm.get("Namespace") == "AWS/SQS" and alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            queue_id = _dimensions(alarm)["QueueName"]["Fn::GetAtt"][0]
            assert queue_id not in alarms, queue_id
            alarms[queue_id] = alarm
    return alarms


def test_every_queue_has_a_depth_alarm(synthesized):
    assert set(_queue_depth_alarms(synthesized)) == set(synthesized.resources("AWS::SQS::Queue"))


@pytest.mark.parametrize("label", FAILED_QUEUES)
def test_a_message_on_any_dead_letter_or_failed_queue_is_an_alarm(synthesized, label):
    queue_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{label}")
    alarm = _queue_depth_alarms(synthesized)[queue_id]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Maximum", 1, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_a_send_queue_backlog_that_lasts_is_an_alarm(synthesized, channel):
    queue_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}{channel}-send")
    alarm = _queue_depth_alarms(synthesized)[queue_id]
    assert alarm["Threshold"] == SEND_BACKLOG and alarm["EvaluationPeriods"] > 1


def test_any_5xx_of_the_http_api_is_an_alarm(synthesized):
    (api_id,) = synthesized.resources("AWS::ApiGatewayV2::Api")
    (alarm,) = [a for a in _alarms(synthesized).values() if a.get("MetricName") == "5xx"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert _dimensions(alarm) == {"ApiId": {"Ref": api_id}}
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)


# ------------------------------------------------------------------ failed-send rate


def _send_result_filters(synthesized: Synthesized, channel: str) -> dict[str, dict]:
    """Metric name -> the metric filter on outbound-<channel>'s log group."""
    (_, function) = functions_by_name(synthesized)[f"outbound-{channel}"]
    log_group = function["LoggingConfig"]["LogGroup"]
    filters = {}
    for metric_filter in synthesized.resources("AWS::Logs::MetricFilter").values():
        props = metric_filter["Properties"]
        if props["LogGroupName"] == log_group:
            (transformation,) = props["MetricTransformations"]
            filters[transformation["MetricName"]] = props
    return filters


def _wildcards(pattern: str, field: str) -> list[str]:
    """The string values a JSON filter pattern compares `field` with (CloudWatch's `*` is a glob's)."""
    values = []
    for clause in pattern.replace("(", " ").replace(")", " ").split("&&"):
        for alternative in clause.split("||"):
            name, _, value = alternative.strip(" {}").partition(" = ")
            if name.strip() == field:
                values.append(json.loads(value))
    return values


def _queue_door_line(caplog, monkeypatch, result: str, detail: str) -> logging.LogRecord:
    """The record the queue door logs for one delivered message whose outcome is `result`."""
    monkeypatch.setattr(queue_door.outbox, "deliver", lambda channel, message_id, delivery_for: Outcome(result, detail))
    record = {"eventSource": "aws:sqs", "messageId": "sqs-1", "body": json.dumps({"messageId": "msg-0001"})}
    with caplog.at_level(logging.INFO, logger=queue_door.log.name):
        caplog.clear()
        assert queue_door.handle_queue("sms", {"Records": [record]}) == {"batchItemFailures": []}
    (logged,) = [r for r in caplog.records if r.name == queue_door.log.name]
    return logged


def _matches(pattern: str, record: logging.LogRecord) -> bool:
    """Does the JSON filter pattern match the record as Lambda's JSON log format writes it (`logger`, `message`)?"""
    (logger,) = _wildcards(pattern, "$.logger")
    return record.name == logger and any(fnmatchcase(record.getMessage(), v) for v in _wildcards(pattern, "$.message"))


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_failed_and_accepted_sends_are_counted_from_the_queue_doors_log_line(synthesized, channel, caplog, monkeypatch):
    filters = _send_result_filters(synthesized, channel)
    failed, accepted = filters[f"FailedSends-{channel}"], filters[f"AcceptedSends-{channel}"]
    namespaces = {f["MetricTransformations"][0]["MetricNamespace"] for f in (failed, accepted)}
    assert namespaces == {f"WECARE.DIGITAL/{PREFIX.rstrip('-')}"}
    lines = {result: _queue_door_line(caplog, monkeypatch, result, "SOME_CODE") for result in
             ("failed", "dead", "accepted", "retry", "waiting", "expired", "skipped")}
    assert {r for r, line in lines.items() if _matches(failed["FilterPattern"], line)} == {"failed", "dead"}
    assert {r for r, line in lines.items() if _matches(accepted["FilterPattern"], line)} == {"accepted"}


@pytest.mark.parametrize("channel", SEND_CHANNELS)
def test_a_channels_failed_send_rate_is_an_alarm(synthesized, channel):
    alarm = _alarms(synthesized)[f"{channel}-failed-sends"]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    (expression,) = [m for m in metrics.values() if m.get("ReturnData", True)]
    assert {metrics["failed"]["MetricStat"]["Metric"]["MetricName"],
            metrics["accepted"]["MetricStat"]["Metric"]["MetricName"]} == set(_send_result_filters(synthesized, channel))
    assert "100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(accepted, 0))" in expression["Expression"]
    assert alarm["Threshold"] == FAILED_SEND_PERCENT and alarm["ComparisonOperator"] == "GreaterThanThreshold"


# ------------------------------------------------------------------ the API stage


def _stage(synthesized: Synthesized) -> dict:
    (stage,) = synthesized.resources("AWS::ApiGatewayV2::Stage").values()
    return stage["Properties"]


def test_the_api_stage_writes_json_access_logs_without_headers_to_its_log_group(synthesized):
    settings = _stage(synthesized)["AccessLogSettings"]
    (log_group_id, _) = settings["DestinationArn"]["Fn::GetAtt"]
    assert synthesized.resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]["RetentionInDays"] == 30
    fields = json.loads(settings["Format"])
    assert {"requestId", "ip", "routeKey", "status", "latency"} <= set(fields)
    assert fields["ip"] == "$context.identity.sourceIp" and fields["routeKey"] == "$context.routeKey"
    assert "authorization" not in settings["Format"].lower()
    assert "header" not in settings["Format"].lower()


def test_the_api_stage_throttles_every_route_to_the_default_limits(synthesized):
    assert _stage(synthesized)["StageName"] == "$default"
    assert _stage(synthesized)["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": DEFAULT_API_RATE_LIMIT,
        "ThrottlingBurstLimit": DEFAULT_API_BURST_LIMIT,
    }


# ------------------------------------------------------------------ sign-in


def _user_pool(template: dict) -> dict:
    (pool,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Cognito::UserPool"]
    return pool


def test_passwords_are_at_least_twelve_characters_of_every_class(synthesized):
    policy = _user_pool(synthesized.template.to_json())["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 12
    assert all(policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"))


def test_mfa_is_optional_totp_only_by_default(synthesized):
    pool = _user_pool(synthesized.template.to_json())
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # no SMS
    assert "SmsConfiguration" not in pool


def test_threat_protection_is_enforced(synthesized):
    pool = _user_pool(synthesized.template.to_json())
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["UserPoolTier"] == "PLUS"  # threat protection needs the Plus plan


@pytest.fixture(scope="module")
def tightened(tmp_path_factory) -> dict:
    """A stage deployed with `-c mfa=required -c api_rate_limit=20 -c api_burst_limit=40`, as the CLI passes them."""
    root = tmp_path_factory.mktemp("tightened")
    context = {"stage": STAGE, "callback_url": CALLBACK_URL, "mfa": "required", "api_rate_limit": "20",
               "api_burst_limit": "40"}
    app = cdk.App(outdir=str(root / "cdk.out"), context=context)
    stack = WecareStack(app, "wecare-citest", config=StageConfig.from_context(app.node, build_dir=root / "build"))
    return Template.from_stack(stack).to_json()


def test_mfa_is_required_when_the_stage_says_so(tightened):
    pool = _user_pool(tightened)
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_api_throttling_comes_from_context(tightened):
    (stage,) = [r["Properties"] for r in tightened["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 20, "ThrottlingBurstLimit": 40}


def test_hardening_keeps_the_groups_the_hosted_ui_and_the_pkce_client(synthesized):
    groups = synthesized.resources("AWS::Cognito::UserPoolGroup").values()
    assert sorted(g["Properties"]["GroupName"] for g in groups) == ["Admin", "Operator", "Viewer"]
    assert len(synthesized.resources("AWS::Cognito::UserPoolDomain")) == 1
    (client,) = synthesized.resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["AllowedOAuthFlows"] == ["code"]
    assert client["Properties"].get("GenerateSecret", False) is False


# ------------------------------------------------------------------ the Message stream


def test_the_message_stream_feeds_messages_read_bisecting_failures_onto_an_encrypted_queue(synthesized):
    table_id, _ = named(synthesized, "AWS::DynamoDB::Table", "TableName", f"{PREFIX}Message")
    reader_id, _ = functions_by_name(synthesized)["messages-read"]
    (mapping,) = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": reader_id}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == BATCH_SIZE == 100
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] == RETRY_ATTEMPTS <= 10
    assert "FunctionResponseTypes" not in mapping  # count_stream_event returns counts, not batchItemFailures
    failed_id, failed = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}message-stream-failed")
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [failed_id, "Arn"]}}}
    assert failed["SqsManagedSseEnabled"] is True
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": failed_id} in p["Properties"]["Queues"]
    ]
    assert denies_insecure_transport(policy["Statement"])


def test_only_messages_read_reads_the_stream_and_only_this_tables(synthesized):
    table_id, _ = named(synthesized, "AWS::DynamoDB::Table", "TableName", f"{PREFIX}Message")
    stream_actions = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                      "dynamodb:ListStreams"}
    for name, statements in role_statements(synthesized).items():
        granted = [s for s in statements if set(as_list(s["Action"])) & stream_actions]
        if name != "messages-read":
            assert granted == [], name
            continue
        assert {a for s in granted for a in as_list(s["Action"])} == stream_actions
        for statement in granted:
            assert table_id in json.dumps(statement["Resource"]) and statement["Resource"] != "*", statement


def test_messages_read_may_only_send_its_failed_batches_to_sqs(synthesized):
    failed_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}message-stream-failed")
    sqs_statements = [
        s for s in role_statements(synthesized)["messages-read"]
        if any(a.startswith("sqs:") for a in as_list(s["Action"]))
    ]
    assert sqs_statements and all(s["Resource"] == {"Fn::GetAtt": [failed_id, "Arn"]} for s in sqs_statements)
    assert "sqs:ReceiveMessage" not in {a for s in sqs_statements for a in as_list(s["Action"])}
