"""ai-generate-response: API Gateway HTTP API (payload v2) entry point; the route table says which route it serves."""
from backend.api.lambda_door import handle_http


def handler(event, context):
    return handle_http("ai-generate-response", event)
