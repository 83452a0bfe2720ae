"""The Lambda functions: one per staged function folder, Python 3.12, sharing one dependencies layer.

Each function logs JSON to its own log group with a fixed retention, so logs neither pile up forever nor
need a log-retention custom resource.
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64  # the layer's wheels are manylinux x86_64
TIMEOUT = Duration.seconds(30)  # unless `timeouts` names the function (a send queue's consumer)
MEMORY_MB = 512  # pydantic and pynamodb import faster with the CPU share that comes with more memory
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class ServiceFunctions(Construct):
    """`by_name` maps a function name (its folder under `lambdas/`) to the deployed function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dirs: dict[str, Path],
        layer_dir: Path,
        name_prefix: str,
        environment: dict[str, str],
        timeouts: dict[str, Duration] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._timeouts = timeouts or {}
        self.dependencies_layer = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Python dependencies of the backend package (infra/lambda-requirements.txt)",
        )
        self.by_name: dict[str, lambda_.Function] = {
            name: self._function(name, code_dir, name_prefix, environment) for name, code_dir in code_dirs.items()
        }

    def _function(self, name: str, code_dir: Path, name_prefix: str, environment: dict[str, str]) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, f"{name}-logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        return lambda_.Function(
            self,
            name,
            function_name=f"{name_prefix}{name}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(code_dir)),
            layers=[self.dependencies_layer],
            environment=environment,
            timeout=self._timeouts.get(name, TIMEOUT),
            memory_size=MEMORY_MB,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
        )
