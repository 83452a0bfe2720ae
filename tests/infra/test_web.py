"""The web tier (issue 15): the Dockerfile that builds the production app, and the stack's ECS Fargate service
behind a load balancer with Redis for Reflex's state, deployed only with `-c web_image` (infra/components/web.py)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from infra.components.auth import UserDirectory
from infra.components.data import DataTables
from infra.components.media import MediaBucket
from infra.components.queues import SendQueues
from infra.components.web import (
    NOTIFY_KEYSPACE_EVENTS,
    WEB_HTTP_ONLY_WARNING,
    WEB_TIER_WARNING,
    deploy_web_tier,
)
from infra.stage_config import StageConfig
from infra.table_access import READ_ACTIONS, WRITE_ACTIONS
from infra.table_specs import table_specs_for
from infra.wecare_stack import WecareStack
from tests.infra.stack_template import (
    CALLBACK_URL,
    CONTEXT,
    GUARDRAIL_ID,
    KNOWLEDGE_BASE_ID,
    PREFIX,
    Synthesized,
    as_list,
    get_att_targets,
    render,
)

REPO = Path(__file__).resolve().parents[2]
WEB_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wecare-web:2024.06.01"
CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
CMD = ["reflex", "run", "--env", "prod", "--single-port", "--frontend-port", "8000", "--backend-host", "0.0.0.0"]


# ------------------------------------------------------------------------------------------------ the image


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def env_names(arguments: str) -> list[str]:
    return re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", arguments)


def test_the_image_is_the_production_app_run_by_an_unprivileged_user():
    instructions = dockerfile()
    args = {arguments.split("=")[0]: arguments for keyword, arguments in instructions if keyword == "ARG"}
    assert args["PYTHON_IMAGE"].startswith("PYTHON_IMAGE=python:3.11-slim")
    stage = final_stage()
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "the app must not run as root"
    assert ("CMD", json.dumps(CMD)) in stage
    assert ("EXPOSE", "8000") in stage
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    assert any("pip install -r requirements.txt" in run for run in runs)
    assert any("npm install" in run and "bun@" in run for run in runs)  # bun from npm, as scripts/install.sh
    assert any("REFLEX_USE_SYSTEM_BUN=1" in arguments for keyword, arguments in stage if keyword == "ENV")
    # The frontend is built into the image, with the public URL it connects to.
    assert any("reflex export --frontend-only" in arguments for keyword, arguments in stage if keyword == "RUN")
    assert ("ARG", "API_URL") in stage and ("ENV", "REFLEX_API_URL=${API_URL}") in stage
    # The export runs as the user who runs the app (it owns .web and Reflex's own directory).
    export = next(i for i, (keyword, arguments) in enumerate(stage) if "reflex export" in arguments)
    assert any(keyword == "USER" for keyword, _ in stage[:export])


def test_the_image_holds_no_secret():
    for keyword, arguments in dockerfile():
        names = env_names(arguments) if keyword == "ENV" else [arguments.split("=")[0]] if keyword == "ARG" else []
        for name in names:
            assert not re.search(r"SECRET|PASSWORD|TOKEN", name, re.I), f"{keyword} {name}: secrets come at run time"
    assert not any(keyword in ("ADD", "COPY") and ".env" in arguments.split() for keyword, arguments in dockerfile())


def test_the_build_context_leaves_local_state_out():
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    for entry in (".venv", ".web", ".data", ".tools", ".git", ".env", ".states"):
        assert entry in ignored, entry
    assert "node_modules" in ignored or "**/node_modules" in ignored


# ------------------------------------------------------------------------------------------------ the stack


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Synthesized:
    root = tmp_path_factory.mktemp("web")
    app = cdk.App(
        outdir=str(root / "cdk.out"),
        context={**CONTEXT, "web_image": WEB_IMAGE, "web_certificate_arn": CERTIFICATE_ARN},
    )
    config = StageConfig.from_context(app.node, build_dir=root / "build")
    stack = WecareStack(app, "wecare-citest", config=config)
    assembly = app.synth()
    template_path = Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path)
    template = Template.from_json(json.loads(template_path.read_text()))
    return Synthesized(stack, template, template_path, "", "")


def light_stack(**context) -> cdk.Stack:
    """The web tier over just the constructs it needs (no functions): quick to build for the variants."""
    app = cdk.App(context={"stage": "webtest", "callback_url": CALLBACK_URL, **context})
    config = StageConfig.from_context(app.node)
    stack = cdk.Stack(app, "webtest")
    data = DataTables(stack, "Data", specs=table_specs_for(config.table_prefix))
    auth = UserDirectory(stack, "Auth", name_prefix=config.name_prefix, callback_url=config.callback_url,
                         sign_out_url=config.sign_out_url)
    queues = SendQueues(stack, "SendQueues", name_prefix=config.name_prefix, consumers={})
    media = MediaBucket(stack, "Media")
    deploy_web_tier(stack, config, tables=data.tables, auth=auth, send_queues=queues, media_bucket=media.bucket)
    return stack


def only(synthesized: Synthesized, resource_type: str) -> tuple[str, dict]:
    ((logical_id, resource),) = synthesized.resources(resource_type).items()
    return logical_id, resource["Properties"]


def container(synthesized: Synthesized) -> dict:
    _, task = only(synthesized, "AWS::ECS::TaskDefinition")
    (definition,) = task["ContainerDefinitions"]
    return definition


def environment(synthesized: Synthesized) -> dict[str, object]:
    return {entry["Name"]: entry["Value"] for entry in container(synthesized)["Environment"]}


def logical_id(synthesized: Synthesized, resource_type: str, prefix: str) -> str:
    (found,) = [i for i in synthesized.resources(resource_type) if i.startswith(prefix)]
    return found


def role_statements(synthesized: Synthesized, role_id: str) -> list[dict]:
    """Every statement of the role's inline and managed policies (CDK moves what overflows into the latter)."""
    policies = [
        *synthesized.resources("AWS::IAM::Policy").values(),
        *synthesized.resources("AWS::IAM::ManagedPolicy").values(),
    ]
    return [
        statement
        for policy in policies
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def task_role_statements(synthesized: Synthesized) -> list[dict]:
    _, task = only(synthesized, "AWS::ECS::TaskDefinition")
    return role_statements(synthesized, task["TaskRoleArn"]["Fn::GetAtt"][0])


def table_ids(synthesized: Synthesized) -> dict[str, str]:
    return {
        logical: table["Properties"]["TableName"].removeprefix(PREFIX)
        for logical, table in synthesized.resources("AWS::DynamoDB::Table").items()
    }


def test_one_fargate_service_runs_the_image_behind_the_load_balancer(web):
    _, service = only(web, "AWS::ECS::Service")
    assert service["LaunchType"] == "FARGATE" and service["DesiredCount"] == 2
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert [(lb["ContainerName"], lb["ContainerPort"]) for lb in service["LoadBalancers"]] == [("web", 8000)]
    definition = container(web)
    assert render(definition["Image"]).replace("${AWS::URLSuffix}", "amazonaws.com") == WEB_IMAGE
    assert [mapping["ContainerPort"] for mapping in definition["PortMappings"]] == [8000]
    assert definition["LogConfiguration"]["LogDriver"] == "awslogs"
    (log_group,) = [g["Properties"] for i, g in web.resources("AWS::Logs::LogGroup").items() if i.startswith("Web")]
    assert log_group["RetentionInDays"] == 30


def test_the_app_runs_in_aws_with_cognito_sign_in_and_the_stage_s_resources(web):
    env = environment(web)
    assert env["WECARE_ENV"] == "aws" and env["WECARE_TABLE_PREFIX"] == PREFIX
    assert env["WECARE_AWS_REGION"] == {"Ref": "AWS::Region"} and env["WECARE_SEND_MODE"] == "LIVE"
    assert env["WECARE_AUTH"] == "cognito"
    pool = logical_id(web, "AWS::Cognito::UserPool", "AuthUserPool")
    client = logical_id(web, "AWS::Cognito::UserPoolClient", "AuthUserPoolWebClient")
    domain = logical_id(web, "AWS::Cognito::UserPoolDomain", "AuthUserPoolHostedUi")
    assert env["WECARE_COGNITO_ISSUER"] == {"Fn::GetAtt": [pool, "ProviderURL"]}
    assert env["WECARE_COGNITO_CLIENT_ID"] == {"Ref": client}
    assert render(env["WECARE_COGNITO_DOMAIN"]) == f"https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com"
    assert env["WECARE_COGNITO_REDIRECT_URI"] == CALLBACK_URL
    assert env["WECARE_COGNITO_LOGOUT_URI"] == "https://app.example.test/login"
    # {"whatsapp": "${SendQueueswhatsapp...}", ...}: each channel's send queue (a Ref is its URL)
    urls = json.loads(re.sub(r"\$\{(\w+)\}", r"\1", render(env["WECARE_SEND_QUEUE_URLS"])))
    queues = web.resources("AWS::SQS::Queue")
    assert {channel: queues[queue]["Properties"]["QueueName"] for channel, queue in urls.items()} == {
        channel: f"{PREFIX}{channel}-send" for channel in ("whatsapp", "sms", "email", "voice")
    }
    assert env["WECARE_MEDIA_BUCKET"] == {"Ref": logical_id(web, "AWS::S3::Bucket", "MediaBucket")}
    assert env["WECARE_AI_KNOWLEDGE_BASE_ID"] == KNOWLEDGE_BASE_ID and env["WECARE_AI_GUARDRAIL_ID"] == GUARDRAIL_ID
    redis = logical_id(web, "AWS::ElastiCache::ReplicationGroup", "WebRedis")
    assert render(env["REFLEX_REDIS_URL"]) == f"rediss://${{{redis}.PrimaryEndPoint.Address}}:6379"
    assert env["REFLEX_API_URL"] == "https://app.example.test"


def test_the_session_secret_is_a_generated_secret_never_plain_environment(web):
    assert not [name for name in environment(web) if re.search(r"SECRET|PASSWORD|TOKEN", name)]
    (secret,) = container(web)["Secrets"]
    secret_id, props = only(web, "AWS::SecretsManager::Secret")
    assert secret == {"Name": "WECARE_SESSION_SECRET", "ValueFrom": {"Ref": secret_id}}
    assert props["GenerateSecretString"]["PasswordLength"] >= 32  # the backend's checked_secret minimum


def test_https_with_the_certificate_sticky_websockets_and_reflex_s_health_check(web):
    listeners = {p["Port"]: p for p in web.resources("AWS::ElasticLoadBalancingV2::Listener").values()
                 for p in [p["Properties"]]}
    assert set(listeners) == {80, 443}
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    _, balancer = only(web, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["idle_timeout.timeout_seconds"] == "3600" and balancer["Scheme"] == "internet-facing"
    _, target_group = only(web, "AWS::ElasticLoadBalancingV2::TargetGroup")
    attributes = {a["Key"]: a["Value"] for a in target_group["TargetGroupAttributes"]}
    assert attributes["stickiness.enabled"] == "true" and attributes["stickiness.type"] == "lb_cookie"
    assert attributes["stickiness.lb_cookie.duration_seconds"] == "86400"
    assert target_group["HealthCheckPath"] == "/ping"


def test_cpu_auto_scaling_between_the_stage_s_task_counts(web):
    _, target = only(web, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    _, policy = only(web, "AWS::ApplicationAutoScaling::ScalingPolicy")
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"


def test_redis_is_encrypted_highly_available_and_reached_only_by_the_service(web):
    redis_id, redis = only(web, "AWS::ElastiCache::ReplicationGroup")
    assert redis["TransitEncryptionEnabled"] and redis["AtRestEncryptionEnabled"]
    assert redis["AutomaticFailoverEnabled"] and redis["MultiAZEnabled"] and redis["NumCacheClusters"] == 2
    _, subnets = only(web, "AWS::ElastiCache::SubnetGroup")
    private = {i for i, s in web.resources("AWS::EC2::Subnet").items() if not s["Properties"].get("MapPublicIpOnLaunch")}
    assert {s["Ref"] for s in subnets["SubnetIds"]} == private and len(private) == 2
    _, parameters = only(web, "AWS::ElastiCache::ParameterGroup")
    from reflex.istate.manager.redis import NOTIFY_KEYSPACE_EVENTS as reflex_flags

    assert parameters["Properties"]["notify-keyspace-events"] == NOTIFY_KEYSPACE_EVENTS == reflex_flags
    (redis_group,) = get_att_targets(redis["SecurityGroupIds"])
    assert not web.resources("AWS::EC2::SecurityGroup")[redis_group]["Properties"].get("SecurityGroupIngress")
    rules = [r["Properties"] for r in web.resources("AWS::EC2::SecurityGroupIngress").values()
             if get_att_targets(r["Properties"]["GroupId"]) == {redis_group}]
    _, service = only(web, "AWS::ECS::Service")
    service_groups = get_att_targets(service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"])
    assert [(r["FromPort"], r["ToPort"], get_att_targets(r["SourceSecurityGroupId"])) for r in rules] == [
        (6379, 6379, service_groups)
    ]
    assert all("CidrIp" not in r for r in rules)


def test_the_task_role_may_use_the_stage_s_tables_and_nothing_more_of_dynamodb(web):
    statements = task_role_statements(web)
    assert statements and all(s["Resource"] != "*" and "*" not in as_list(s["Resource"]) for s in statements)
    tables = table_ids(web)
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    actions = {a for s in dynamodb for a in as_list(s["Action"])}
    assert not {"dynamodb:*", "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable",
                "dynamodb:Scan", "dynamodb:UpdateTimeToLive"} & actions

    def granted(action: str) -> set[str]:
        return {tables[t] for s in dynamodb if action in as_list(s["Action"])
                for t in get_att_targets(s["Resource"]) if t in tables}

    every = set(tables.values())
    for action in (*READ_ACTIONS, "dynamodb:PutItem", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive"):
        assert granted(action) == every, action
    for action in set(WRITE_ACTIONS) - {"dynamodb:PutItem"}:  # the audit log is only appended to
        assert granted(action) == every - {"AuditLog"}, action
    message = next(i for i, name in tables.items() if name == "Message")
    (stream,) = [s for s in dynamodb if "dynamodb:GetRecords" in as_list(s["Action"])]
    assert stream["Resource"] == {"Fn::GetAtt": [message, "StreamArn"]}
    (listing,) = [s for s in dynamodb if "dynamodb:ListStreams" in as_list(s["Action"])]
    assert render(listing["Resource"]) == f"${{{message}.Arn}}/stream/*"
    indexes = [render(r) for s in dynamodb if "dynamodb:Query" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert sum(r.endswith("/index/*") for r in indexes) == len(tables)


def test_the_task_role_sends_to_the_queues_and_uses_the_media_bucket_and_bedrock(web):
    statements = task_role_statements(web)
    send_queues = {i for i, q in web.resources("AWS::SQS::Queue").items()
                   if q["Properties"]["QueueName"].endswith("-send")}
    sending = {t for s in statements if "sqs:SendMessage" in as_list(s["Action"]) for t in get_att_targets(s["Resource"])}
    assert sending == send_queues and len(send_queues) == 4
    assert not {a for s in statements for a in as_list(s["Action"])
                if a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue")}
    bucket = logical_id(web, "AWS::S3::Bucket", "MediaBucket")
    objects = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    assert [render(s["Resource"]) for s in objects] == [f"${{{bucket}.Arn}}/*"]
    bedrock = {a: render(r) for s in statements for a in as_list(s["Action"]) if a.startswith("bedrock:")
               for r in as_list(s["Resource"])}
    knowledge_base = f"knowledge-base/{KNOWLEDGE_BASE_ID}"
    for action in ("Retrieve", "IngestKnowledgeBaseDocuments", "GetKnowledgeBaseDocuments",
                   "DeleteKnowledgeBaseDocuments"):
        assert bedrock[f"bedrock:{action}"].endswith(knowledge_base)
    assert "foundation-model/" in bedrock["bedrock:InvokeModel"]
    assert bedrock["bedrock:ApplyGuardrail"].endswith(f"guardrail/{GUARDRAIL_ID}")


def test_only_the_ecr_login_is_granted_on_every_resource(web):
    _, task = only(web, "AWS::ECS::TaskDefinition")
    statements = role_statements(web, task["ExecutionRoleArn"]["Fn::GetAtt"][0])
    wildcard = {a for s in statements if s["Resource"] == "*" for a in as_list(s["Action"])}
    assert wildcard == {"ecr:GetAuthorizationToken"}  # AWS authorises it on no resource but "*"
    pulls = [s for s in statements if "ecr:BatchGetImage" in as_list(s["Action"])]
    assert [s["Resource"] for s in pulls] == ["arn:aws:ecr:eu-west-1:123456789012:repository/wecare-web"]


def test_the_web_url_is_an_output(web):
    assert web.template.to_json()["Outputs"]["WebUrl"]["Value"] == "https://app.example.test"


def test_without_a_web_image_nothing_is_deployed_and_the_stack_says_how():
    stack = light_stack()
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ECS::Service", 0)
    template.resource_count_is("AWS::ElastiCache::ReplicationGroup", 0)
    assert "WebUrl" not in template.to_json().get("Outputs", {})
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("web_image"))
    assert len(warnings) == 1 and WEB_TIER_WARNING in str(warnings[0].entry.data)


def test_without_a_certificate_the_tier_listens_on_http_only_and_warns():
    stack = light_stack(web_image=WEB_IMAGE)
    template = Template.from_stack(stack)
    listeners = template.find_resources("AWS::ElasticLoadBalancingV2::Listener")
    assert [(p["Properties"]["Port"], p["Properties"]["Protocol"]) for p in listeners.values()] == [(80, "HTTP")]
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("web_certificate_arn"))
    assert len(warnings) == 1 and WEB_HTTP_ONLY_WARNING in str(warnings[0].entry.data)
    url = template.to_json()["Outputs"]["WebUrl"]["Value"]
    assert render(url).startswith("http://${")  # the load balancer's own DNS name


def test_an_image_outside_ecr_is_pulled_from_its_registry_without_ecr_grants():
    stack = light_stack(web_image="ghcr.io/example/wecare-web@sha256:" + "a" * 64)
    template = Template.from_stack(stack).to_json()
    (task,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert task["ContainerDefinitions"][0]["Image"] == "ghcr.io/example/wecare-web@sha256:" + "a" * 64
    assert "ecr:" not in json.dumps(template)


def test_cfn_lint_reports_no_errors_with_the_web_tier(web):
    beside_python = Path(sys.executable).with_name("cfn-lint")
    cfn_lint = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is not installed (it is in requirements.txt)"
    completed = subprocess.run(
        [cfn_lint, "--format", "json", str(web.template_path)], capture_output=True, text=True, timeout=120
    )
    findings = json.loads(completed.stdout)
    errors = [f"{f['Rule']['Id']} {f['Message']}" for f in findings if f["Level"] == "Error"]
    assert errors == [], errors
    assert completed.returncode & 0b11 == 0, completed.stderr
