"""SMS's part of the outbox: turn a PENDING row into SendTextMessage and send it."""
from __future__ import annotations

from backend.adapters.channels import providers
from backend.models.messaging import MessageModel
from backend.settings import get_settings


class SmsDelivery:
    def sender_id(self, row: MessageModel) -> str:
        return row.sender

    def deliver(self, row: MessageModel) -> str:
        settings = get_settings()
        payload = row.payload or {}
        return providers.SMS.get().send_text(
            row.address,
            payload["body"],
            origination=row.sender,
            message_type=payload.get("messageType") or settings.sms_message_type,
            configuration_set=settings.sms_configuration_set,  # where delivery events go: read at send time
            message_id=row.messageId,
        )

