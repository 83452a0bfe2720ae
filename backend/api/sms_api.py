"""SMS door: `POST /sms/send` (the provider's SNS events go through the channel door's one SNS loop)."""
from __future__ import annotations


from backend.api.http import ApiRequest, ApiResponse
from backend.services.channels.sms import send as sms_send
from backend.services.platform.access import Actor


def send_sms(actor: Actor, request: ApiRequest) -> ApiResponse:
    message = sms_send.send_sms(actor, request.json(), via="api")
    return ApiResponse(202, message.to_api())
