"""The stack the infra tests look at: synthesized once per test session with a full stage context, and helpers
that read its template (logical ids, rendered ARNs, role statements)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

from backend.models import ContactModel
from infra.stage_config import StageConfig
from infra.wecare_stack import WecareStack

STAGE = "citest"
PREFIX = f"wecare-{STAGE}-"
CALLBACK_URL = "https://app.example.test/auth/callback"
PHONE_NUMBER_ID = "phone-number-id-0123456789abcdef"
WABA_ID = "waba-citest"
SMS_IDENTITY = "phone-0123456789abcdef0123456789abcdef"  # a phone-number id: its ARN is known
VOICE_IDENTITY = "+15555550100"  # a number as dialled: its ARN (by id) is not
EMAIL_FROM = "WECARE.DIGITAL <no-reply@mail.example.test>"
EMAIL_REPLY_TO = "support@example.test"
UNSUBSCRIBE_URL = "https://app.example.test/unsubscribe"
KNOWLEDGE_BASE_ID = "KBCITEST01"
GUARDRAIL_ID = "gr-citest"
CONTEXT = {
    "stage": STAGE,
    "callback_url": CALLBACK_URL,
    "whatsapp_phone_number_id": PHONE_NUMBER_ID,
    "whatsapp_waba_id": WABA_ID,
    "sms_origination_identity": SMS_IDENTITY,
    "voice_origination_identity": VOICE_IDENTITY,
    "email_from": EMAIL_FROM,
    "email_reply_to": EMAIL_REPLY_TO,
    "email_unsubscribe_url": UNSUBSCRIBE_URL,
    "ai_knowledge_base_id": KNOWLEDGE_BASE_ID,
    "ai_guardrail_id": GUARDRAIL_ID,
}
THIS_ACCOUNT = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


@dataclass
class Synthesized:
    stack: cdk.Stack
    template: Template
    template_path: Path
    contact_table_name_before: str
    contact_table_name_after: str

    def resources(self, resource_type: str) -> dict[str, dict]:
        return self.template.find_resources(resource_type)


def synthesize(root: Path) -> Synthesized:
    app = cdk.App(outdir=str(root / "cdk.out"), context=CONTEXT)
    config = StageConfig.from_context(app.node, build_dir=root / "build")
    before = ContactModel.Meta.table_name
    stack = WecareStack(app, "wecare-citest", config=config)
    assembly = app.synth()
    template_path = Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path)
    template = Template.from_json(json.loads(template_path.read_text()))
    return Synthesized(stack, template, template_path, before, ContactModel.Meta.table_name)


def functions_by_name(synthesized: Synthesized) -> dict[str, tuple[str, dict]]:
    """Deployed function name without the prefix -> (logical id, properties)."""
    return {
        props["Properties"]["FunctionName"].removeprefix(PREFIX): (logical_id, props["Properties"])
        for logical_id, props in synthesized.resources("AWS::Lambda::Function").items()
    }


def get_att_targets(value) -> set[str]:
    """Logical ids named by any Fn::GetAtt inside a (possibly nested) CloudFormation value."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(get_att_targets(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(get_att_targets(v) for v in value)) if value else set()
    return set()


def role_statements(synthesized: Synthesized) -> dict[str, list[dict]]:
    """Function name -> every statement of its role's policies."""
    role_of = {name: props["Role"]["Fn::GetAtt"][0] for name, (_, props) in functions_by_name(synthesized).items()}
    policies = synthesized.resources("AWS::IAM::Policy").values()
    return {
        name: [
            s
            for policy in policies
            if {"Ref": role} in policy["Properties"]["Roles"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        for name, role in role_of.items()
    }


def table_statements(synthesized: Synthesized) -> dict[str, list[dict]]:
    """Function name -> the DynamoDB statements of its role's policies."""
    tables = {
        logical_id: table["Properties"]["TableName"].removeprefix(PREFIX)
        for logical_id, table in synthesized.resources("AWS::DynamoDB::Table").items()
    }
    return {
        name: [
            {**s, "Tables": {tables[t] for t in get_att_targets(s["Resource"]) if t in tables}}
            for s in statements
            if any(str(a).startswith("dynamodb:") for a in as_list(s["Action"]))
        ]
        for name, statements in role_statements(synthesized).items()
    }


def service_actions(statements: list[dict], service: str) -> set[str]:
    return {a for s in statements for a in as_list(s["Action"]) if a.startswith(f"{service}:")}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def named(synthesized: Synthesized, resource_type: str, name_property: str, name: str) -> tuple[str, dict]:
    (found,) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synthesized.resources(resource_type).items()
        if resource["Properties"].get(name_property) == name
    ]
    return found


def render(value) -> str:
    """A CloudFormation string with its Refs and GetAtts written as `${Id}` / `${Id.Attribute}`."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    return f"${{{'.'.join(value['Fn::GetAtt'])}}}"


def denies_insecure_transport(statements: list[dict]) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def invoke_permission(synthesized: Synthesized, function_id: str, principal: str):
    """The SourceArn of the one permission that lets `principal` invoke the function."""
    (source,) = [
        p["Properties"]["SourceArn"]
        for p in synthesized.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == principal
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    return source
