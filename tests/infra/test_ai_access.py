"""The AI functions: Bedrock on the stage's knowledge base, model and guardrail only, their settings, and no
Bedrock for any other function; a stage without a knowledge base gets no Bedrock access and a warning."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match

from backend.settings import Settings
from infra.ai_access import AI_FUNCTIONS, NO_KNOWLEDGE_BASE_WARNING
from infra.stage_config import StageConfig
from infra.wecare_stack import WecareStack
from tests.infra.stack_template import (
    CONTEXT, GUARDRAIL_ID, KNOWLEDGE_BASE_ID, as_list, functions_by_name, render, role_statements, service_actions,
)

MODEL = Settings.model_fields["ai_model_id"].default
ARN = "arn:aws:bedrock:${AWS::Region}:${AWS::AccountId}:"


def _resources(statements: list[dict], action: str) -> list[str]:
    (statement,) = [s for s in statements if action in as_list(s["Action"])]
    assert as_list(statement["Action"]) == [action] and statement["Effect"] == "Allow"
    return [render(resource) for resource in as_list(statement["Resource"])]


def test_the_ai_functions_may_call_bedrock_on_the_stage_knowledge_base_model_and_guardrail_only(synthesized):
    statements = role_statements(synthesized)
    granted = {name: service_actions(s, "bedrock") for name, s in statements.items()}
    assert {name for name, actions in granted.items() if actions} == set(AI_FUNCTIONS)
    for name in AI_FUNCTIONS:
        assert granted[name] == {"bedrock:Retrieve", "bedrock:InvokeModel", "bedrock:ApplyGuardrail"}
        assert _resources(statements[name], "bedrock:Retrieve") == [f"{ARN}knowledge-base/{KNOWLEDGE_BASE_ID}"]
        assert _resources(statements[name], "bedrock:InvokeModel") == [
            f"arn:aws:bedrock:${{AWS::Region}}::foundation-model/{MODEL}"]
        assert _resources(statements[name], "bedrock:ApplyGuardrail") == [f"{ARN}guardrail/{GUARDRAIL_ID}"]


def test_the_ai_functions_carry_the_knowledge_base_model_and_guardrail_settings(synthesized):
    functions = functions_by_name(synthesized)
    for name in AI_FUNCTIONS:
        variables = functions[name][1]["Environment"]["Variables"]
        assert variables["WECARE_AI_KNOWLEDGE_BASE_ID"] == KNOWLEDGE_BASE_ID
        assert variables["WECARE_AI_MODEL_ID"] == MODEL
        assert variables["WECARE_AI_GUARDRAIL_ID"] == GUARDRAIL_ID
    others = [props for name, (_, props) in functions.items() if name not in AI_FUNCTIONS]
    assert all("WECARE_AI_KNOWLEDGE_BASE_ID" not in props["Environment"]["Variables"] for props in others)


def test_without_a_knowledge_base_the_ai_functions_get_no_bedrock_and_the_synth_warns(tmp_path):
    context = {key: value for key, value in CONTEXT.items() if not key.startswith("ai_")}
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=context)
    stack = WecareStack(app, "wecare-noai", config=StageConfig.from_context(app.node, build_dir=tmp_path / "build"))
    app.synth()
    template = cdk.assertions.Template.from_stack(stack)
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any(str(action).startswith("bedrock:") for action in as_list(statement["Action"]))
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp(f".*{NO_KNOWLEDGE_BASE_WARNING}.*|.*ai_knowledge_base_id.*"))
