"""Email door: `POST /email/send` (SES sending events go through the channel door's one SNS loop)."""
from __future__ import annotations


from backend.api.http import ApiRequest, ApiResponse
from backend.services.channels.email import send as email_send
from backend.services.platform.access import Actor


def send_email(actor: Actor, request: ApiRequest) -> ApiResponse:
    message = email_send.send_email(actor, request.json(), via="api")
    return ApiResponse(202, message.to_api())
