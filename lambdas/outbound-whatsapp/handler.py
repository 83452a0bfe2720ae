"""outbound-whatsapp: `POST /whatsapp/send`, the WhatsApp send queue (SQS); one door for every channel (backend/api/channel_door.py)."""
from backend.api.channel_door import handle_channel_event


def handler(event, context):
    return handle_channel_event("whatsapp", event)
