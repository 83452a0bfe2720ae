"""The HTTP API: one route per entry of the backend route table, each behind the user pool's JWT authorizer."""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_apigatewayv2_authorizers import HttpUserPoolAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from backend.api.routes import Route

_CORS_HEADERS = ["authorization", "content-type"]


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

    @property
    def url(self) -> str:
        return self.http_api.api_endpoint


def _cors_methods(routes: tuple[Route, ...]) -> list[apigw.CorsHttpMethod]:
    methods = sorted({route.method for route in routes} | {"OPTIONS"})
    return [apigw.CorsHttpMethod(method) for method in methods]
