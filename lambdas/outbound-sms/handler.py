"""outbound-sms: `POST /sms/send`, the SMS send queue (SQS) and SMS events (SNS: delivery reports, two-way inbound); one door for every channel (backend/api/channel_door.py)."""
from backend.api.channel_door import handle_channel_event


def handler(event, context):
    return handle_channel_event("sms", event)
