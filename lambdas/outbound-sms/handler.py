"""outbound-sms: `POST /sms/send`, the SMS send queue (SQS) and SMS events (SNS: delivery reports, two-way inbound)."""
from backend.api.channel_door import handle_channel_event
from backend.api.sms_api import handle_sms_sns_event


def handler(event, context):
    return handle_channel_event("sms", "outbound-sms", event, handle_sms_sns_event)
