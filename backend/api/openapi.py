"""The OpenAPI 3.1 document of the REST API, generated from the one route table and the pydantic models it
names, so the document cannot drift from what the doors serve. Served (no sign-in) at /api/openapi.json."""
from __future__ import annotations

import re
from functools import lru_cache

from pydantic.json_schema import models_json_schema

from backend.api.routes import ROUTES, Param, Route
from backend.services.platform.access import PERMISSIONS, Role
from backend.services.platform.idempotency import HEADER as IDEMPOTENCY_HEADER, KEY_PATTERN

TITLE = "WECARE.DIGITAL API"
VERSION = "1.0.0"
_PATH_PARAM = re.compile(r"{([A-Za-z0-9_]+)}")
_REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    400: "Bad request: the body is not JSON, is nested too deep, too large, or a header is malformed.",
    401: "No caller: sign in and send `Authorization: Bearer <token>`.",
    403: "The caller's role may not do this.",
    404: "Not found (or the link is invalid).",
    409: "Conflict: the item changed meanwhile, or a request with this Idempotency-Key is still in progress.",
    415: "The body is declared as another type than application/json.",
    422: "Validation failed: `error.field` names the input at fault; or the Idempotency-Key was used for another request.",
}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "A stable code, e.g. VALIDATION_ERROR, NOT_FOUND."},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "The input at fault, when one is."},
                "details": {"type": "array", "items": {"type": "object", "properties": {
                    "field": {"type": "string"}, "reason": {"type": "string"}}}},
            },
        }
    },
}


def roles_for(route: Route) -> list[str]:
    return [role.value for role in Role if route.requires in PERMISSIONS[role]]


def path_params(route: Route) -> list[str]:
    return _PATH_PARAM.findall(route.path)


@lru_cache(maxsize=1)
def document() -> dict:
    """The whole document (built once per process)."""
    refs, schemas = _component_schemas()
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Contacts and messaging on WhatsApp, SMS, email and voice. Every route needs a bearer token "
                                "(a session token on the Reflex backend, a Cognito JWT in AWS); the roles that may call "
                                "each route are in `x-roles`."},
        "servers": [{"url": "/api"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {**schemas, "Error": _ERROR_SCHEMA},
            "responses": {str(status): _error_response(text) for status, text in ERROR_STATUSES.items()},
        },
    }


def _component_schemas() -> tuple[dict, dict]:
    """Every request model (as validated) and response model (as serialised), with shared definitions."""
    wanted = {(r.request_model, "validation") for r in ROUTES if r.request_model}
    wanted |= {(r.response_model, "serialization") for r in ROUTES if r.response_model}
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, top = models_json_schema(ordered, by_alias=True, ref_template=_REF)
    return refs, top.get("$defs", {})


def _error_response(text: str) -> dict:
    return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _operation(route: Route, refs: dict) -> dict:
    roles = roles_for(route)
    operation: dict = {
        "operationId": f"{_tag(route)}_{route.endpoint.__name__}",
        "summary": route.summary,
        "description": f"Roles: {', '.join(roles)} (operation `{route.requires.value}`).",
        "tags": [_tag(route)],
        "x-roles": roles,
        "parameters": _parameters(route),
        "responses": _responses(route, refs),
    }
    if route.request_model is not None:
        schema = refs[(route.request_model, "validation")]
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def _tag(route: Route) -> str:
    return route.path.split("/")[1]


def _parameters(route: Route) -> list[dict]:
    found = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
             for name in path_params(route)]
    found += [_query_param(param) for param in route.query]
    if route.idempotent:
        found.append({
            "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "description": "Retry safely: the same key from the same caller within 24 hours answers the first answer "
                           "and sends nothing new (422 if used for another request, 409 while the first runs).",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{KEY_PATTERN}$"},
        })
    return found


def _query_param(param: Param) -> dict:
    schema: dict = {"type": "integer"} if param.kind == "integer" else {"type": "string"}
    if param.kind == "date":
        schema["format"] = "date"
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    if param.choices:
        schema["enum"] = list(param.choices)
    return {"name": param.name, "in": "query", "required": False, "description": param.description, "schema": schema}


def error_statuses(route: Route) -> list[int]:
    """The 4xx a route can answer: every route checks the caller; a body can be malformed, of another type or
    invalid; a named item can be missing; a write can conflict (an Idempotency-Key still in flight, a changed row)."""
    statuses = {401, 403, 422}
    if route.request_model is not None:
        statuses |= {400, 404, 415}
    if route.method in ("POST", "PUT", "DELETE"):
        statuses.add(409)
    if path_params(route) or any(p.name == "contactId" for p in route.query):
        statuses.add(404)
    return sorted(statuses)


def _responses(route: Route, refs: dict) -> dict:
    responses: dict = {}
    for status in route.success:
        if route.media_type != "application/json":
            responses[str(status)] = {"description": "A download.", "content": {route.media_type: {"schema": {"type": "string"}}}}
        elif route.response_model is None:
            responses[str(status)] = {"description": "Done; no body."}
        else:
            schema = refs[(route.response_model, "serialization")]
            responses[str(status)] = {"description": "Success.", "content": {"application/json": {"schema": schema}}}
    for status in error_statuses(route):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    return responses
