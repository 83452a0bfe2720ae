"""outbound-voice: `POST /voice/call`, the voice send queue (SQS) and voice call events (SNS); one door for every channel (backend/api/channel_door.py)."""
from backend.api.channel_door import handle_channel_event


def handler(event, context):
    return handle_channel_event("voice", event)
