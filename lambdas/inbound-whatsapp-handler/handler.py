"""inbound-whatsapp-handler: the SNS topic End User Messaging Social publishes WhatsApp events to, through the
same SNS loop as every channel's provider events (backend/api/channel_door.py)."""
from backend.api.channel_door import handle_sns


def handler(event, context):
    return handle_sns("whatsapp", event)
