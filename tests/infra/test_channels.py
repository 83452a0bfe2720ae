"""SMS, voice and email in the synthesized stack: their routes, the events topics AWS publishes to (End User
Messaging SMS and voice, SES) with the configuration sets that make it publish, the subscriptions and their
filters, the provider grants (least privilege) and the settings each function is given.

Send queues, dead-letter queues and their consumers are checked for every channel in test_stack.py."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from backend.adapters.channels.sms import SandboxSmsProvider, text_message_request
from backend.adapters.channels.voice import voice_event
from backend.settings import Settings
from infra.messaging_access import SEND_EMAIL, SEND_TEXT, SEND_VOICE, ses_resources, sms_voice_resources
from infra.table_access import READ_ACTIONS, WRITE_ACTIONS
from tests.infra.stack_template import (
    EMAIL_FROM,
    EMAIL_REPLY_TO,
    PREFIX,
    SMS_IDENTITY,
    THIS_ACCOUNT,
    UNSUBSCRIBE_URL,
    VOICE_IDENTITY,
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

ARN = "arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:{resource}"
CHANNEL_ROUTES = {
    "POST /sms/send": "outbound-sms",
    "POST /email/send": "outbound-email",
    "POST /voice/call": "outbound-voice",
    "GET /voice/calls": "voice-calls-read",
    "GET /voice/calls/{callId}": "voice-calls-read",
}
# Function -> the channel settings it is given (values checked below); no other function gets any of them.
CHANNEL_SETTINGS = {
    "outbound-sms": {"WECARE_SMS_ORIGINATION_IDENTITY", "WECARE_SMS_MESSAGE_TYPE", "WECARE_SMS_CONFIGURATION_SET"},
    "outbound-voice": {
        "WECARE_VOICE_ORIGINATION_IDENTITY",
        "WECARE_VOICE_CONFIGURATION_SET",
        "WECARE_VOICE_DEFAULT_VOICE_ID",
    },
    "outbound-email": {
        "WECARE_EMAIL_FROM",
        "WECARE_EMAIL_CONFIGURATION_SET",
        "WECARE_EMAIL_REPLY_TO",
        "WECARE_EMAIL_UNSUBSCRIBE_URL",
    },
}


def _arn(service: str, resource: str) -> str:
    return ARN.replace("{service}", service).replace("{resource}", resource)


def _topic(synthesized: Synthesized, name: str) -> str:
    topic_id, _ = named(synthesized, "AWS::SNS::Topic", "TopicName", f"{PREFIX}{name}")
    return topic_id


def _topic_policy(synthesized: Synthesized, topic_id: str) -> list[dict]:
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    return policy["Statement"]


def _subscriptions(synthesized: Synthesized, topic_id: str) -> dict[str, dict]:
    """Subscribed function logical id -> subscription properties."""
    found = {}
    for subscription in synthesized.resources("AWS::SNS::Subscription").values():
        props = subscription["Properties"]
        if props["TopicArn"] == {"Ref": topic_id}:
            assert props["Protocol"] == "lambda"
            (function_id,) = get_att_targets(props["Endpoint"])
            found[function_id] = props
    return found


def _failure_destination(synthesized: Synthesized, function_id: str) -> tuple[int, object]:
    (config,) = [
        c["Properties"]
        for c in synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    return config["MaximumRetryAttempts"], config["DestinationConfig"]["OnFailure"]["Destination"]


# ---------------------------------------------------------------- routes


def test_the_channel_routes_reach_their_functions(synthesized):
    deployed = synthesized.resources("AWS::ApiGatewayV2::Route").values()
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in deployed}
    integrations = synthesized.resources("AWS::ApiGatewayV2::Integration")
    function_ids = {name: logical_id for name, (logical_id, _) in functions_by_name(synthesized).items()}
    for route_key, function in CHANNEL_ROUTES.items():
        assert route_key in routes, f"{route_key} is not deployed (is lambdas/{function}/handler.py there?)"
        assert routes[route_key]["AuthorizationType"] == "JWT", route_key
        integration_id = routes[route_key]["Target"]["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        assert get_att_targets(uri) == {function_ids[function]}, route_key


# ---------------------------------------------------------------- SMS and voice events


def test_the_sms_voice_topic_admits_end_user_messaging_sms_of_this_account_only(synthesized):
    topic_id = _topic(synthesized, "sms-voice-events")
    statements = _topic_policy(synthesized, topic_id)
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"], s["Resource"], s["Condition"]) for s in allows] == [
        ({"Service": "sms-voice.amazonaws.com"}, "sns:Publish", {"Ref": topic_id}, THIS_ACCOUNT)
    ]
    assert denies_insecure_transport(statements)


def test_the_sms_voice_configuration_set_publishes_text_and_voice_events_to_the_topic(synthesized):
    topic_id = _topic(synthesized, "sms-voice-events")
    (policy_id,) = [
        logical_id
        for logical_id, p in synthesized.resources("AWS::SNS::TopicPolicy").items()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    ((set_id, configuration_set),) = synthesized.resources("AWS::SMSVOICE::ConfigurationSet").items()
    props = configuration_set["Properties"]
    assert props["ConfigurationSetName"] == f"{PREFIX}sms-voice"
    (destination,) = props["EventDestinations"]
    assert destination["Enabled"] is True
    assert sorted(destination["MatchingEventTypes"]) == ["TEXT_ALL", "VOICE_ALL"]
    assert destination["SnsDestination"] == {"TopicArn": {"Ref": topic_id}}
    assert policy_id in configuration_set["DependsOn"], "the topic must let the service publish before the set exists"


def test_sms_and_voice_events_reach_their_own_function_through_body_filters(synthesized):
    topic_id = _topic(synthesized, "sms-voice-events")
    functions = functions_by_name(synthesized)
    sms_id, voice_id = functions["outbound-sms"][0], functions["outbound-voice"][0]
    subscriptions = _subscriptions(synthesized, topic_id)
    assert set(subscriptions) == {sms_id, voice_id}
    for function_id in (sms_id, voice_id):
        assert subscriptions[function_id]["FilterPolicyScope"] == "MessageBody"
        assert invoke_permission(synthesized, function_id, "sns.amazonaws.com") == {"Ref": topic_id}
    sms_filter, voice_filter = subscriptions[sms_id]["FilterPolicy"], subscriptions[voice_id]["FilterPolicy"]

    provider = SandboxSmsProvider(Settings())
    params = text_message_request(
        "+15555550123", "hi", origination="+15555550100", message_type="TRANSACTIONAL",
        configuration_set="set", message_id="0" * 32,
    )
    delivery = json.loads(
        provider.delivery_event("TEXT_DELIVERED", params, "p-1", "GSM-7", 1, requested_at_ms=1, final=True)
    )
    inbound = json.loads(provider.inbound_message("+15555550123", "STOP"))
    call = json.loads(
        voice_event("COMPLETED", provider_message_id="p-2", to="+15555550123", origination="+15555550100",
                    requested_ms=1, context={"wecareMessageId": "0" * 32}, duration_seconds=12)
    )
    assert "eventType" not in inbound  # two-way texts carry none: the filter must admit them another way
    assert [_matches(sms_filter, body) for body in (delivery, inbound, call)] == [True, True, False]
    assert [_matches(voice_filter, body) for body in (delivery, inbound, call)] == [False, False, True]
    assert not _matches(sms_filter, {"eventType": "MEDIA_DELIVERED", "messageId": "p-3"})


def _matches(policy: dict, body: dict) -> bool:
    """SNS message-body filtering, for the operators these policies use ($or, prefix, exists, exact strings)."""
    for key, conditions in policy.items():
        if key == "$or":
            if not any(_matches(alternative, body) for alternative in conditions):
                return False
        elif not any(_condition(condition, key, body) for condition in conditions):
            return False
    return True


def _condition(condition, key: str, body: dict) -> bool:
    if isinstance(condition, dict):
        if set(condition) == {"exists"}:
            return (key in body) is condition["exists"]
        if set(condition) == {"prefix"}:
            return isinstance(body.get(key), str) and body[key].startswith(condition["prefix"])
        raise AssertionError(f"the test does not model the filter operator {condition}")
    return body.get(key) == condition


def test_sms_and_voice_events_a_handler_keeps_failing_are_kept(synthesized):
    failed_id, failed = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}sms-voice-events-failed")
    assert failed["SqsManagedSseEnabled"] is True and failed["MessageRetentionPeriod"] == 14 * 24 * 3600
    functions = functions_by_name(synthesized)
    for name in ("outbound-sms", "outbound-voice"):
        assert _failure_destination(synthesized, functions[name][0]) == (2, {"Fn::GetAtt": [failed_id, "Arn"]}), name


# ---------------------------------------------------------------- SES events


def test_the_email_configuration_set_publishes_sending_events_to_the_email_topic(synthesized):
    topic_id = _topic(synthesized, "email-events")
    ((set_id, configuration_set),) = synthesized.resources("AWS::SES::ConfigurationSet").items()
    assert configuration_set["Properties"]["Name"] == f"{PREFIX}email"
    (destination,) = synthesized.resources("AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]
    assert props["ConfigurationSetName"] == {"Ref": set_id}
    assert props["EventDestination"]["Enabled"] is True
    assert sorted(props["EventDestination"]["MatchingEventTypes"]) == [
        "bounce", "complaint", "delivery", "reject", "send"
    ]
    assert props["EventDestination"]["SnsDestination"] == {"TopicARN": {"Ref": topic_id}}


def test_the_email_topic_admits_ses_from_this_account_and_configuration_set_only(synthesized):
    topic_id = _topic(synthesized, "email-events")
    (set_id,) = synthesized.resources("AWS::SES::ConfigurationSet")
    statements = _topic_policy(synthesized, topic_id)
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert (allow["Principal"], allow["Action"], allow["Resource"]) == (
        {"Service": "ses.amazonaws.com"}, "sns:Publish", {"Ref": topic_id}
    )
    conditions = {key.lower(): value for key, value in allow["Condition"]["StringEquals"].items()}
    assert conditions["aws:sourceaccount"] == {"Ref": "AWS::AccountId"}
    assert render(conditions["aws:sourcearn"]) == _arn("ses", f"configuration-set/${{{set_id}}}")
    assert denies_insecure_transport(statements)


def test_ses_events_reach_outbound_email_unfiltered(synthesized):
    topic_id = _topic(synthesized, "email-events")
    email_id = functions_by_name(synthesized)["outbound-email"][0]
    subscriptions = _subscriptions(synthesized, topic_id)
    assert set(subscriptions) == {email_id}
    assert "FilterPolicy" not in subscriptions[email_id]  # the configuration set publishes only what it handles
    assert invoke_permission(synthesized, email_id, "sns.amazonaws.com") == {"Ref": topic_id}
    failed_id, _ = named(synthesized, "AWS::SQS::Queue", "QueueName", f"{PREFIX}email-events-failed")
    assert _failure_destination(synthesized, email_id) == (2, {"Fn::GetAtt": [failed_id, "Arn"]})


def test_the_outputs_name_the_topics_and_the_configuration_sets(synthesized):
    outputs = synthesized.template.to_json()["Outputs"]
    (sms_voice_set,) = synthesized.resources("AWS::SMSVOICE::ConfigurationSet")
    (email_set,) = synthesized.resources("AWS::SES::ConfigurationSet")
    assert outputs["SmsVoiceEventsTopicArn"]["Value"] == {"Ref": _topic(synthesized, "sms-voice-events")}
    assert "two-way" in outputs["SmsVoiceEventsTopicArn"]["Description"]
    assert outputs["SmsVoiceConfigurationSetName"]["Value"] == {"Ref": sms_voice_set}
    assert outputs["EmailEventsTopicArn"]["Value"] == {"Ref": _topic(synthesized, "email-events")}
    assert outputs["EmailConfigurationSetName"]["Value"] == {"Ref": email_set}


# ---------------------------------------------------------------- least privilege


def test_provider_actions_only_where_the_code_calls_them(synthesized):
    statements = role_statements(synthesized)
    for service, expected in (
        ("sms-voice", {"outbound-sms": {SEND_TEXT}, "outbound-voice": {SEND_VOICE}}),
        ("ses", {"outbound-email": {SEND_EMAIL}}),
    ):
        granted = {name: service_actions(s, service) for name, s in statements.items()}
        assert {name: actions for name, actions in granted.items() if actions} == expected, service


def _provider_resources(synthesized: Synthesized, function: str, action: str) -> list[str]:
    (statement,) = [s for s in role_statements(synthesized)[function] if action in as_list(s["Action"])]
    assert as_list(statement["Action"]) == [action] and statement["Effect"] == "Allow"
    assert "Condition" not in statement
    return [render(resource) for resource in as_list(statement["Resource"])]


def test_sms_sends_are_granted_on_the_stage_number_and_the_stack_configuration_set(synthesized):
    (set_id,) = synthesized.resources("AWS::SMSVOICE::ConfigurationSet")
    assert _provider_resources(synthesized, "outbound-sms", SEND_TEXT) == [
        _arn("sms-voice", f"phone-number/{SMS_IDENTITY}"),
        f"${{{set_id}.Arn}}",
        _arn("sms-voice", "opt-out-list/*"),
        _arn("sms-voice", "protect-configuration/*"),
    ]


def test_voice_calls_from_a_dialled_number_are_granted_on_the_account_numbers_by_type(synthesized):
    (set_id,) = synthesized.resources("AWS::SMSVOICE::ConfigurationSet")
    assert _provider_resources(synthesized, "outbound-voice", SEND_VOICE) == [
        _arn("sms-voice", "phone-number/*"),  # VOICE_IDENTITY is a number: its ARN names an id the stack lacks
        f"${{{set_id}.Arn}}",
        _arn("sms-voice", "opt-out-list/*"),
        _arn("sms-voice", "protect-configuration/*"),
    ]


def test_email_sends_are_granted_on_the_from_identity_and_the_stack_configuration_set(synthesized):
    (set_id,) = synthesized.resources("AWS::SES::ConfigurationSet")
    assert _provider_resources(synthesized, "outbound-email", SEND_EMAIL) == [
        _arn("ses", "identity/no-reply@mail.example.test"),
        _arn("ses", "identity/mail.example.test"),
        _arn("ses", f"configuration-set/${{{set_id}}}"),
    ]


@pytest.mark.parametrize(
    ("identity", "sender_ids", "origination"),
    [
        (None, True, ["phone-number/*", "pool/*", "sender-id/*"]),
        (None, False, ["phone-number/*", "pool/*"]),
        ("pool-0123abcd", True, ["pool/pool-0123abcd"]),
        ("phone-0123abcd", False, ["phone-number/phone-0123abcd"]),
        ("WECARE", True, ["sender-id/WECARE/*"]),  # registered per country
        ("+447700900123", True, ["phone-number/*"]),
        ("40404", True, ["phone-number/*"]),  # a short code is a phone number too
        ("WECARE", False, ["phone-number/*"]),  # calls have no sender ids
    ],
)
def test_sms_voice_grants_follow_the_form_of_the_origination_identity(identity, sender_ids, origination):
    stack = cdk.Stack(cdk.App(), "grants")
    resources = [
        render(stack.resolve(arn))
        for arn in sms_voice_resources(stack, identity, "arn:set", sender_ids=sender_ids)
    ]
    assert resources == [
        *(_arn("sms-voice", resource) for resource in origination),
        "arn:set",
        _arn("sms-voice", "opt-out-list/*"),
        _arn("sms-voice", "protect-configuration/*"),
    ]


def test_an_origination_identity_given_as_an_arn_is_granted_as_is():
    stack = cdk.Stack(cdk.App(), "grants")
    shared = "arn:aws:sms-voice:eu-west-2:111122223333:pool/pool-0123abcd"
    assert sms_voice_resources(stack, shared, "arn:set")[0] == shared


def test_without_a_from_address_email_is_granted_on_the_account_identities_by_type():
    stack = cdk.Stack(cdk.App(), "grants")
    resources = [render(stack.resolve(arn)) for arn in ses_resources(stack, None, "arn:set")]
    assert resources == [_arn("ses", "identity/*"), "arn:set"]


def test_voice_calls_are_written_by_the_caller_and_only_read_by_the_call_log(synthesized):
    grants = table_statements(synthesized)
    (voice_table,) = [
        logical_id
        for logical_id, table in synthesized.resources("AWS::DynamoDB::Table").items()
        if table["Properties"]["TableName"] == f"{PREFIX}VoiceCall"
    ]

    def actions_on(function: str, table: str) -> set[str]:
        return {a for s in grants[function] if table in s["Tables"] for a in as_list(s["Action"])}

    assert actions_on("outbound-voice", "VoiceCall") == set(WRITE_ACTIONS)  # put, then conditional updates
    assert actions_on("voice-calls-read", "VoiceCall") == set(READ_ACTIONS)
    assert {t for s in grants["voice-calls-read"] for t in s["Tables"]} == {"VoiceCall", "Contact"}
    assert not {a for s in grants["voice-calls-read"] for a in as_list(s["Action"])} & set(WRITE_ACTIONS)
    (read,) = [s for s in grants["voice-calls-read"] if "VoiceCall" in s["Tables"]]
    assert f"${{{voice_table}.Arn}}/index/*" in [render(r) for r in as_list(read["Resource"])]  # byDay, byContact
    statements = role_statements(synthesized)["voice-calls-read"]
    services = ("s3", "sqs", "sns", "social-messaging", "sms-voice", "ses")
    assert not any(service_actions(statements, service) for service in services)


# ---------------------------------------------------------------- settings


def test_each_sending_function_is_given_its_channel_settings_and_no_other(synthesized):
    functions = functions_by_name(synthesized)
    (sms_voice_set,) = synthesized.resources("AWS::SMSVOICE::ConfigurationSet")
    (email_set,) = synthesized.resources("AWS::SES::ConfigurationSet")
    channel_keys = set().union(*CHANNEL_SETTINGS.values())
    for name, (_, props) in functions.items():
        env = props["Environment"]["Variables"]
        assert channel_keys & set(env) == CHANNEL_SETTINGS.get(name, set()), name
    sms = functions["outbound-sms"][1]["Environment"]["Variables"]
    assert sms["WECARE_SMS_ORIGINATION_IDENTITY"] == SMS_IDENTITY
    assert sms["WECARE_SMS_MESSAGE_TYPE"] == "TRANSACTIONAL"
    assert sms["WECARE_SMS_CONFIGURATION_SET"] == {"Ref": sms_voice_set}
    voice = functions["outbound-voice"][1]["Environment"]["Variables"]
    assert voice["WECARE_VOICE_ORIGINATION_IDENTITY"] == VOICE_IDENTITY
    assert voice["WECARE_VOICE_CONFIGURATION_SET"] == {"Ref": sms_voice_set}
    assert voice["WECARE_VOICE_DEFAULT_VOICE_ID"] == "JOANNA"
    email = functions["outbound-email"][1]["Environment"]["Variables"]
    assert email["WECARE_EMAIL_FROM"] == EMAIL_FROM
    assert email["WECARE_EMAIL_CONFIGURATION_SET"] == {"Ref": email_set}
    assert email["WECARE_EMAIL_REPLY_TO"] == EMAIL_REPLY_TO
    assert email["WECARE_EMAIL_UNSUBSCRIBE_URL"] == UNSUBSCRIBE_URL


def test_every_setting_a_function_is_given_is_one_the_backend_reads(synthesized):
    for name, (_, props) in functions_by_name(synthesized).items():
        for key in props["Environment"]["Variables"]:
            assert key.startswith("WECARE_") and key.removeprefix("WECARE_").lower() in Settings.model_fields, (
                name,
                key,
            )
