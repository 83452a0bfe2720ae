"""outbound-voice: `POST /voice/call`, the voice send queue (SQS) and voice call events (SNS)."""
from backend.api.channel_door import handle_channel_event
from backend.api.voice_api import handle_voice_sns_event


def handler(event, context):
    return handle_channel_event("voice", "outbound-voice", event, handle_voice_sns_event)
