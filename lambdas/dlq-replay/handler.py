"""dlq-replay: `GET /dlq`, `POST /dlq/replay` (API Gateway) and the schedule (EventBridge)."""
from backend.api.lambda_door import handle_http
from backend.runtime.schedules import is_scheduled_event, run_dlq_schedule


def handler(event, context):
    if is_scheduled_event(event):
        return run_dlq_schedule()
    return handle_http("dlq-replay", event)
