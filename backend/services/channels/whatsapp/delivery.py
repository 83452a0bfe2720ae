"""WhatsApp's part of the outbox: turn a PENDING row into the provider request and send it."""
from __future__ import annotations

from backend.adapters.channels import providers
from backend.models.messaging import MessageModel
from backend.services.channels.whatsapp import messages as whatsapp_messages
from backend.services.media.files import media_row


class WhatsAppDelivery:
    def sender_id(self, row: MessageModel) -> str:
        return row.sender

    def deliver(self, row: MessageModel) -> str:
        provider = providers.WHATSAPP.get()
        message = dict(row.payload["message"])
        file_id = row.payload.get("fileId")
        if file_id:
            kind = message["type"]
            stored = media_row(file_id)
            media_id = provider.upload_media(providers.media_store(), stored.storageKey, origination=row.sender)
            message[kind] = {**message[kind], "id": media_id}
        request = whatsapp_messages.addressed(message, row.address, row.messageId)
        return provider.send(request, origination=row.sender, idempotency_key=row.messageId)

