"""The route table: every REST route, the Lambda function that serves it in AWS, and its endpoint."""
from __future__ import annotations

from dataclasses import dataclass

from backend.api import contacts_api, email_api, messaging_api, sms_api, voice_api
from backend.api.http import Endpoint
from backend.services.platform.access import Operation as Op


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway style: "/contacts/{contactId}"
    function: str  # the Lambda function (folder under lambdas/) that serves it in AWS
    endpoint: Endpoint
    requires: Op  # checked by both doors before the body is read or the query parsed (the service checks again)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    Route("POST", "/contacts", "contacts-create", contacts_api.create, Op.CONTACTS_WRITE),
    Route("GET", "/contacts/{contactId}", "contacts-read", contacts_api.read, Op.CONTACTS_READ),
    Route("PUT", "/contacts/{contactId}", "contacts-update", contacts_api.update, Op.CONTACTS_WRITE),
    Route("DELETE", "/contacts/{contactId}", "contacts-delete", contacts_api.delete, Op.CONTACTS_DELETE),
    Route("GET", "/contacts", "contacts-search", contacts_api.search, Op.CONTACTS_READ),
    Route("POST", "/whatsapp/send", "outbound-whatsapp", messaging_api.send_whatsapp, Op.MESSAGES_SEND),
    Route("POST", "/sms/send", "outbound-sms", sms_api.send_sms, Op.MESSAGES_SEND),
    Route("POST", "/email/send", "outbound-email", email_api.send_email, Op.MESSAGES_SEND),
    Route("POST", "/voice/call", "outbound-voice", voice_api.place_call, Op.MESSAGES_SEND),
    Route("GET", "/voice/calls", "voice-calls-read", voice_api.list_calls, Op.VOICE_READ),
    Route("GET", "/voice/calls/{callId}", "voice-calls-read", voice_api.get_call, Op.VOICE_READ),
    Route("GET", "/messages", "messages-read", messaging_api.list_messages, Op.MESSAGES_READ),
    Route("GET", "/messages/{messageId}", "messages-read", messaging_api.read_message, Op.MESSAGES_READ),
    Route("DELETE", "/messages/{messageId}", "messages-delete", messaging_api.delete_message, Op.MESSAGES_DELETE),
    Route("GET", "/dlq", "dlq-replay", messaging_api.list_dlq, Op.DLQ_MANAGE),
    Route("POST", "/dlq/replay", "dlq-replay", messaging_api.replay_dlq, Op.DLQ_MANAGE),
)


def routes_of(function: str) -> dict[str, Route]:
    return {route.route_key: route for route in ROUTES if route.function == function}
