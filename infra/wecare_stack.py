"""The WECARE.DIGITAL stack: wires the data, auth, functions and API constructs and grants least privilege."""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from backend.api.routes import ROUTES, Route
from backend.settings import RuntimeEnv
from infra import asset_staging
from infra.components.api import PlatformApi
from infra.components.auth import UserDirectory
from infra.components.data import DataTables
from infra.components.functions import ServiceFunctions
from infra.stage_config import StageConfig
from infra.table_access import grant_table_access
from infra.table_specs import table_specs_for

MISSING_FUNCTION_WARNING = "wecare:missing-function"
LAYER_EMPTY_WARNING = "wecare:layer-without-dependencies"


class WecareStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, routes: Iterable[Route] = ROUTES, **kwargs
    ) -> None:
        # No version-reporting resource: it would add a condition listing every region to the template.
        super().__init__(scope, construct_id, analytics_reporting=False, **kwargs)
        routes, missing = deployable_routes(routes)
        for function in missing:
            Annotations.of(self).add_warning_v2(
                MISSING_FUNCTION_WARNING, f"lambdas/{function}/handler.py does not exist; its routes are not deployed."
            )

        data = DataTables(self, "Data", specs=table_specs_for(config.table_prefix))
        auth = UserDirectory(
            self,
            "Auth",
            name_prefix=config.name_prefix,
            callback_url=config.callback_url,
            sign_out_url=config.sign_out_url,
            domain_prefix=config.auth_domain_prefix,
        )

        function_names = list(dict.fromkeys(route.function for route in routes))
        layer = asset_staging.stage_layer(config.build_dir, install_deps=config.install_deps)
        if not layer.has_dependencies:
            Annotations.of(self).add_warning_v2(
                LAYER_EMPTY_WARNING,
                "The dependencies layer is empty, so the functions cannot run: deploy with -c install_deps=true.",
            )
        functions = ServiceFunctions(
            self,
            "Functions",
            code_dirs={name: asset_staging.stage_function(name, config.build_dir) for name in function_names},
            layer_dir=layer.path,
            name_prefix=config.name_prefix,
            environment={
                "WECARE_ENV": RuntimeEnv.AWS.value,
                "WECARE_TABLE_PREFIX": config.table_prefix,
                "WECARE_AWS_REGION": self.region,
                "WECARE_SEND_MODE": config.send_mode.value,
                "WECARE_COGNITO_ISSUER": auth.issuer_url,
                "WECARE_COGNITO_CLIENT_ID": auth.web_client.user_pool_client_id,
            },
        )
        grant_table_access(functions.by_name, data.tables)

        api = PlatformApi(
            self,
            "Api",
            api_name=f"{config.name_prefix}api",
            routes=routes,
            functions=functions.by_name,
            user_pool=auth.user_pool,
            user_pool_client=auth.web_client,
            allowed_origin=config.web_origin,
        )

        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "CognitoIssuer", value=auth.issuer_url)
        CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=auth.web_client.user_pool_client_id)
        CfnOutput(self, "HostedUiUrl", value=auth.domain.base_url())


def deployable_routes(routes: Iterable[Route]) -> tuple[tuple[Route, ...], list[str]]:
    """The routes whose function has a `lambdas/<function>/handler.py`, and the functions that do not."""
    routes = tuple(routes)
    missing = list(dict.fromkeys(r.function for r in routes if not asset_staging.has_handler(r.function)))
    return tuple(r for r in routes if r.function not in missing), missing
