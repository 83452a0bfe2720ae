"""voice-calls-read: `GET /voice/calls` and `GET /voice/calls/{callId}` (API Gateway HTTP API payload v2)."""
from backend.api.lambda_door import handle_http


def handler(event, context):
    return handle_http("voice-calls-read", event)
