"""User administration endpoints (Admins): list and search the accounts, invite one (its one-time password in the
answer, this once), change a role or disable/enable, reset a password (the new one-time password in the answer)."""
from __future__ import annotations

from backend.api.http import ApiRequest, ApiResponse
from backend.services.platform import user_admin
from backend.services.platform.access import Actor
from backend.services.platform.validation import parse_input


def list_users(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, user_admin.list_users(actor, q=request.query.get("q") or None).to_api())


def invite(actor: Actor, request: ApiRequest) -> ApiResponse:
    body = parse_input(user_admin.UserInvite, request.json())
    issued = user_admin.invite_user(actor, body.email, body.role, body.display_name, body.delivery)
    return ApiResponse(201, issued.to_api())


def change(actor: Actor, request: ApiRequest) -> ApiResponse:
    body = request.json()  # a body of another type is a 415 before anything else
    return ApiResponse(200, user_admin.update_user(actor, _user_id(request), body).to_api())


def reset_password(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, user_admin.reset_password(actor, _user_id(request)).to_api())


def _user_id(request: ApiRequest) -> str:
    return request.path_params.get("userId", "")  # none: the service's 404
