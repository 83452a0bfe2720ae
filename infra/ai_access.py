"""What the AI functions may call in Bedrock, and their settings.

ai-query-kb and ai-generate-response retrieve from the stage's knowledge base (`bedrock:Retrieve` on that
knowledge base only) and converse with the stage's model (`bedrock:InvokeModel` on that foundation model
only), through the guardrail when one is set (`bedrock:ApplyGuardrail` on it). Without a knowledge base id in context the functions get no Bedrock access
and answer 503 "no knowledge base configured" (see backend/services/ai/answers.py).
"""
from __future__ import annotations

from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from infra.stage_config import StageConfig

AI_FUNCTIONS = ("ai-query-kb", "ai-generate-response")
NO_KNOWLEDGE_BASE_WARNING = "wecare:no-knowledge-base"


def grant_ai_access(stack: Stack, functions: dict[str, lambda_.Function], config: StageConfig) -> None:
    present = {name: functions[name] for name in AI_FUNCTIONS if name in functions}
    if not present:
        return
    for function in present.values():
        for key, value in config.ai_environment.items():
            function.add_environment(key, value)
    if not config.ai_knowledge_base_id:
        Annotations.of(stack).add_warning_v2(
            NO_KNOWLEDGE_BASE_WARNING,
            "No ai_knowledge_base_id in context: the AI functions are deployed without Bedrock access and answer "
            "that no knowledge base is configured (-c ai_knowledge_base_id=...).",
        )
        return
    region, account = stack.region, stack.account
    statements = [
        iam.PolicyStatement(actions=["bedrock:Retrieve"],
                            resources=[f"arn:aws:bedrock:{region}:{account}:knowledge-base/{config.ai_knowledge_base_id}"]),
        iam.PolicyStatement(actions=["bedrock:InvokeModel"],
                            resources=[f"arn:aws:bedrock:{region}::foundation-model/{config.ai_model_id}"]),
    ]
    if config.ai_guardrail_id:
        statements.append(iam.PolicyStatement(
            actions=["bedrock:ApplyGuardrail"],
            resources=[f"arn:aws:bedrock:{region}:{account}:guardrail/{config.ai_guardrail_id}"]))
    for function in present.values():
        for statement in statements:
            function.add_to_role_policy(statement)
