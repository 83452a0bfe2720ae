"""outbound-email: `POST /email/send`, the email send queue (SQS) and SES events (SNS: delivery, bounce, complaint)."""
from backend.api.channel_door import handle_channel_event
from backend.api.email_api import handle_email_sns_event


def handler(event, context):
    return handle_channel_event("email", "outbound-email", event, handle_email_sns_event)
