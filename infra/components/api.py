"""The HTTP API: one route per entry of the backend route table, each behind the user pool's JWT authorizer.

Its `$default` stage (the one HttpApi creates, configured in place so an existing stage is updated, not
replaced) throttles every route to the stage's rate and burst (`-c api_rate_limit`, `-c api_burst_limit`)
and writes one JSON access-log line per request to its own log group: `ACCESS_LOG_FORMAT` names the request,
the caller's address, the route, the status and the latencies, and no header, so neither a bearer token nor
anything a client sends is logged.
"""
from __future__ import annotations

import json
from typing import Iterable

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpUserPoolAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from backend.api.routes import Route
from infra.components.functions import LOG_RETENTION

_CORS_HEADERS = ["authorization", "content-type"]
# $context variables of HTTP APIs; a header would be $context.request.header.* (never here: Authorization).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}
ACCESS_LOG_FORMAT = json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


class PlatformApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        routes: Iterable[Route],
        functions: dict[str, lambda_.IFunction],
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        allowed_origin: str,
        rate_limit: float,
        burst_limit: int,
    ) -> None:
        super().__init__(scope, construct_id)
        routes = tuple(routes)
        authorizer = HttpUserPoolAuthorizer("CognitoJwt", user_pool, user_pool_clients=[user_pool_client])
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=api_name,
            default_authorizer=authorizer,  # every route, including any added later, needs a valid token
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=[allowed_origin],
                allow_methods=_cors_methods(routes),
                allow_headers=_CORS_HEADERS,
                max_age=Duration.hours(1),
            ),
        )
        integrations: dict[str, HttpLambdaIntegration] = {}
        for route in routes:
            if route.function not in integrations:
                integrations[route.function] = HttpLambdaIntegration(
                    f"{route.function}-integration", functions[route.function]
                )
            self.http_api.add_routes(
                path=route.path, methods=[apigw.HttpMethod(route.method)], integration=integrations[route.function]
            )

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        stage = self.http_api.default_stage.node.default_child  # the L2 stage sets neither of these
        stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        stage.default_route_settings = apigw.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=rate_limit, throttling_burst_limit=burst_limit
        )

    @property
    def url(self) -> str:
        return self.http_api.api_endpoint


def _cors_methods(routes: tuple[Route, ...]) -> list[apigw.CorsHttpMethod]:
    methods = sorted({route.method for route in routes} | {"OPTIONS"})
    return [apigw.CorsHttpMethod(method) for method in methods]
