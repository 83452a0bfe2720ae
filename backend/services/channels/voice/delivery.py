"""Voice's part of the outbox: place the call a PENDING message describes, and keep the call row in step.

The outbox owns the message (claim, retries, dead letters); this also marks the call failed when the outbox
will not try again (a permanent error, or the last attempt), and reopens it when a replay sends it again.
"""
from __future__ import annotations

from backend.adapters.channels.errors import classify_exception
from backend.adapters.channels import providers
from backend.models.base import utcnow
from backend.models.messaging import MessageModel
from backend.services.channels.voice.events import note_provider_id, record_call_status, reopen_call
from backend.settings import get_settings


class VoiceDelivery:
    def sender_id(self, row: MessageModel) -> str:
        return row.sender

    def deliver(self, row: MessageModel) -> str:
        call_id = row.payload["callId"]
        if any(step.status in ("DEAD", "FAILED") for step in row.statusHistory or []):
            reopen_call(call_id, "sent again from the dead-letter queue")
        settings = get_settings()
        try:
            provider_id = providers.VOICE.get().send_voice(
                row.address, row.payload["text"], text_type=row.payload["textType"], voice_id=row.payload["voiceId"],
                origination=row.sender, configuration_set=settings.voice_configuration_set, message_id=row.messageId,
            )
        except Exception as exc:
            error = classify_exception(exc)
            if not error.retryable or int(row.attempts or 0) >= settings.send_attempts:  # as outbox decides
                record_call_status(call_id, "failed", utcnow(), f"{error.code}: not placed",
                                   error_code=error.code, error_message=error.message)
            raise
        note_provider_id(call_id, provider_id)
        return provider_id

