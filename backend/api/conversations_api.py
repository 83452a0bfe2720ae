"""Team inbox endpoints: the views, a conversation's reply options, assignment, status, labels, private notes,
and the Admin's label catalog and canned replies. (A reply itself goes through its channel's send route:
`POST /sms/send` etc. with `contactId`; `replyOptions` says which channels work and an email's thread.)"""
from __future__ import annotations

from backend.api.http import ApiRequest, ApiResponse
from backend.services.channels import reply
from backend.services.messaging import conversations, inbox_settings
from backend.services.platform.access import Actor


def team_inbox(actor: Actor, request: ApiRequest) -> ApiResponse:
    page = conversations.team_inbox(
        actor,
        view=request.query.get("view") or "all",
        q=request.query.get("q") or "",
        channel=request.query.get("channel") or None,
        label=request.query.get("label") or None,
        unread_only=request.query.get("unread") == "true",
        limit=request.int_param("limit", 50),
    )
    return ApiResponse(200, page.to_api())


def reply_options(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, reply.reply_options(actor, request.path_params["contactId"]).to_api())


def assign(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, conversations.assign(actor, request.path_params["contactId"], request.json()).to_api())


def set_status(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, conversations.set_status(actor, request.path_params["contactId"], request.json()).to_api())


def set_labels(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, conversations.set_labels(actor, request.path_params["contactId"], request.json()).to_api())


def add_note(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(201, conversations.add_note(actor, request.path_params["contactId"], request.json()).to_api())


def list_labels(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, {"items": [label.to_api() for label in inbox_settings.list_labels(actor)]})


def save_labels(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, {"items": [label.to_api() for label in inbox_settings.save_labels(actor, request.json())]})


def list_canned_replies(actor: Actor, request: ApiRequest) -> ApiResponse:
    items = inbox_settings.list_canned_replies(actor, request.query.get("channel") or None)
    return ApiResponse(200, {"items": [item.to_api() for item in items]})


def save_canned_replies(actor: Actor, request: ApiRequest) -> ApiResponse:
    items = inbox_settings.save_canned_replies(actor, request.json())
    return ApiResponse(200, {"items": [item.to_api() for item in items]})


def retry_message(actor: Actor, request: ApiRequest) -> ApiResponse:
    sent = reply.retry_message(actor, request.path_params["messageId"], via="api")
    return ApiResponse(202, sent.to_api())
