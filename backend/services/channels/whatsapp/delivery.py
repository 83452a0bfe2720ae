"""WhatsApp's part of the outbox: turn a PENDING row into the provider request and send it."""
from __future__ import annotations

from backend.adapters.channels.factory import media_store, whatsapp_provider
from backend.models.messaging import MessageModel
from backend.services.channels.whatsapp import messages as whatsapp_messages
from backend.services.media.files import media_row
from backend.services.messaging.outbox import register_delivery


class WhatsAppDelivery:
    def sender_id(self, row: MessageModel) -> str:
        return row.sender

    def deliver(self, row: MessageModel) -> str:
        provider = whatsapp_provider()
        message = dict(row.payload["message"])
        file_id = row.payload.get("fileId")
        if file_id:
            kind = message["type"]
            stored = media_row(file_id)
            media_id = provider.upload_media(media_store(), stored.storageKey, origination=row.sender)
            message[kind] = {**message[kind], "id": media_id}
        request = whatsapp_messages.addressed(message, row.address, row.messageId)
        return provider.send(request, origination=row.sender, idempotency_key=row.messageId)


register_delivery("whatsapp", WhatsAppDelivery)
