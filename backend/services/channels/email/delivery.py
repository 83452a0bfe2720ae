"""Email's part of the outbox: turn a PENDING row into an SES send."""
from __future__ import annotations

from backend.adapters.channels import providers
from backend.models.messaging import MessageModel
from backend.settings import get_settings


class EmailDelivery:
    def sender_id(self, row: MessageModel) -> str:
        return get_settings().aws_region  # SES's sending rate is per account and region, not per sender

    def deliver(self, row: MessageModel) -> str:
        settings = get_settings()
        payload = row.payload
        return providers.EMAIL.get().send(
            to=row.address,
            from_address=row.sender,
            subject=payload["subject"],
            text=payload["text"],
            html=payload.get("html"),
            reply_to=settings.email_reply_to,
            configuration_set=settings.email_configuration_set,
            headers=payload.get("headers") or {},
            message_id=row.messageId,
        )

