"""dlq-replay: `GET /dlq`, `POST /dlq/replay` (API Gateway) and the schedule (EventBridge)."""
from backend.api.lambda_door import handle_http, is_scheduled_event
from backend.services.channels.maintenance import run_dlq_schedule


def handler(event, context):
    if is_scheduled_event(event):
        return run_dlq_schedule()
    return handle_http("dlq-replay", event)
