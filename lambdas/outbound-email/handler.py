"""outbound-email: `POST /email/send`, the email send queue (SQS) and SES events (SNS: delivery, bounce, complaint); one door for every channel (backend/api/channel_door.py)."""
from backend.api.channel_door import handle_channel_event


def handler(event, context):
    return handle_channel_event("email", event)
