"""bulk-job-control: `GET/POST /bulk/jobs`, `GET/PUT/DELETE /bulk/jobs/{jobId}` (API Gateway), and the
campaign runner's passes on a schedule (EventBridge)."""
from backend.api.lambda_door import handle_http, is_scheduled_event
from backend.services.campaigns.runner import run_for


def handler(event, context):
    if is_scheduled_event(event):
        return run_for(context.get_remaining_time_in_millis() / 1000 if context else 60)
    return handle_http("bulk-job-control", event)
