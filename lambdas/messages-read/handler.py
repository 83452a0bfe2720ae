"""messages-read: API Gateway HTTP API (payload v2) entry point (the route table says which routes it serves),
and the Message table's stream, which keeps the message counters the dashboard and analytics read."""
from backend.api.lambda_door import handle_http, is_stream_event
from backend.services.analytics.counters import count_stream_event


def handler(event, context):
    if is_stream_event(event):
        return count_stream_event(event)
    return handle_http("messages-read", event)
