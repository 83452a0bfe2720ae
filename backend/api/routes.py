"""The route table: every REST route, the Lambda function that serves it in AWS, and its endpoint."""
from __future__ import annotations

from dataclasses import dataclass

from backend.api import contacts_api, email_api, messaging_api, sms_api, voice_api
from backend.api.http import Endpoint


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway style: "/contacts/{contactId}"
    function: str  # the Lambda function (folder under lambdas/) that serves it in AWS
    endpoint: Endpoint

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    Route("POST", "/contacts", "contacts-create", contacts_api.create),
    Route("GET", "/contacts/{contactId}", "contacts-read", contacts_api.read),
    Route("PUT", "/contacts/{contactId}", "contacts-update", contacts_api.update),
    Route("DELETE", "/contacts/{contactId}", "contacts-delete", contacts_api.delete),
    Route("GET", "/contacts", "contacts-search", contacts_api.search),
    Route("POST", "/whatsapp/send", "outbound-whatsapp", messaging_api.send_whatsapp),
    Route("POST", "/sms/send", "outbound-sms", sms_api.send_sms),
    Route("POST", "/email/send", "outbound-email", email_api.send_email),
    Route("POST", "/voice/call", "outbound-voice", voice_api.place_call),
    Route("GET", "/voice/calls", "voice-calls-read", voice_api.list_calls),
    Route("GET", "/voice/calls/{callId}", "voice-calls-read", voice_api.get_call),
    Route("GET", "/messages", "messages-read", messaging_api.list_messages),
    Route("GET", "/messages/{messageId}", "messages-read", messaging_api.read_message),
    Route("DELETE", "/messages/{messageId}", "messages-delete", messaging_api.delete_message),
    Route("GET", "/dlq", "dlq-replay", messaging_api.list_dlq),
    Route("POST", "/dlq/replay", "dlq-replay", messaging_api.replay_dlq),
)


def routes_of(function: str) -> dict[str, Route]:
    return {route.route_key: route for route in ROUTES if route.function == function}
