"""Settings endpoints (Admins): the typed settings of /admin/config (list, change one, reset one to its default,
its history) and /admin/rate-limits (each channel's sender with its limit, bucket and holds today; a new limit
for the channel or one sender). The rules, the audit rows and the at-once effect are the services'
(backend/services/platform/settings_catalog.py, backend/services/channels/rate_limits.py)."""
from __future__ import annotations

from typing import Any

from backend.api.http import ApiRequest, ApiResponse
from backend.services.channels import rate_limits
from backend.services.platform import settings_catalog
from backend.services.platform.access import Actor
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.validation import parse_input


class SettingValue(ApiModel):
    """PUT /admin/config/{key}: the new value, shaped as the setting's `value` is in GET /admin/config."""

    value: Any


class SettingList(ApiView):
    items: list[settings_catalog.SettingView]


class SettingHistory(ApiView):
    items: list[settings_catalog.SettingChange]


def list_settings(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, SettingList(items=settings_catalog.list_settings(actor)).to_api())


def update_setting(actor: Actor, request: ApiRequest) -> ApiResponse:
    body = parse_input(SettingValue, request.json())
    return ApiResponse(200, settings_catalog.update_setting(actor, _key(request), body.value).to_api())


def reset_setting(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, settings_catalog.reset_setting(actor, _key(request)).to_api())


def setting_history(actor: Actor, request: ApiRequest) -> ApiResponse:
    changes = settings_catalog.setting_history(actor, _key(request), request.int_param("limit", settings_catalog.HISTORY_MAX))
    return ApiResponse(200, SettingHistory(items=changes).to_api())


def list_rate_limits(actor: Actor, request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, rate_limits.rate_limits(actor).to_api())


def change_rate_limit(actor: Actor, request: ApiRequest) -> ApiResponse:
    body = request.json()  # a body of another type is a 415 before anything else
    return ApiResponse(200, rate_limits.change_rate_limit(actor, request.path_params.get("channel", ""), body).to_api())


def reset_rate_limit(actor: Actor, request: ApiRequest) -> ApiResponse:
    """The channel's limit back to its default or, with `?sender=`, that sender back to the channel's limit."""
    view = rate_limits.reset_rate_limit(actor, request.path_params.get("channel", ""), request.query.get("sender") or None)
    return ApiResponse(200, view.to_api())


def _key(request: ApiRequest) -> str:
    return request.path_params.get("key", "")  # none: the service's 404
