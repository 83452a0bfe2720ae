"""dlq-replay: `GET /dlq`, `POST /dlq/replay` (API Gateway) and the schedule (EventBridge), which also drains
the send queues' SQS dead-letter queues into the dead-letter table (services/messaging/dlq_drain.py)."""
from backend.api.lambda_door import handle_http, is_scheduled_event
from backend.services.channels.maintenance import run_dlq_schedule
from backend.services.messaging.dlq_drain import drain_summary


def handler(event, context):
    if is_scheduled_event(event):
        summary = run_dlq_schedule()  # first: the sweep settles the lapsed sends the drain leaves to it
        return {**summary, **drain_summary()}
    return handle_http("dlq-replay", event)
