"""inbound-whatsapp-handler: the SNS topic End User Messaging Social publishes WhatsApp events to."""
from backend.api.whatsapp_webhook import handle_sns_event


def handler(event, context):
    return handle_sns_event(event)
