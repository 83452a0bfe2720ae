"""Sending on WhatsApp: the request, the rules (window, consent, opt-out) and the hand-over to the outbox.

The rules live here once; the REST route, the Reflex pages and the inbound keyword confirmations all come
through `send_whatsapp` or `queue_system_text`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from backend.adapters.channels.errors import ProviderError
from backend.adapters.channels import providers
from backend.errors import BadRequest, NotFound, ValidationError
from backend.models.base import utcnow
from backend.services.rules.channels import Channel
from backend.services.rules.consent import check_send
from backend.models.contact import ContactModel
from backend.models.messaging import MediaFileModel, MessageMedia, MessageModel
from backend.services.channels.whatsapp import templates
from backend.services.channels.whatsapp import messages as whatsapp_messages
from backend.services.platform.audit import audit_row
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel
from backend.services.media.files import media_row
from backend.services.media.uses import record_use
from backend.services.messaging import campaign_recipients
from backend.services.media.rules import check_media, kind_for_mime
from backend.services.messaging.rows import outbound_row
from backend.services.messaging.schemas import Message, to_message
from backend.services.messaging.outbox import queue_for_contact
from backend.services.contacts.recipients import recipient_contact
from backend.services.platform.validation import parse_input
from backend.settings import get_settings

CHANNEL = "whatsapp"


class MediaPart(ApiModel):
    file_id: str = Field(min_length=1, max_length=64)
    caption: str | None = Field(default=None, max_length=1024)


class TemplatePart(ApiModel):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    body_parameters: list[str] = Field(default_factory=list, max_length=20)
    header_parameters: list[str] = Field(default_factory=list, max_length=1)


class ReactionPart(ApiModel):
    message_id: str = Field(min_length=1, max_length=64)
    emoji: str = Field(default="", max_length=16)


class WhatsAppSend(ApiModel):
    contact_id: str | None = Field(default=None, max_length=64)
    to: str | None = Field(default=None, max_length=64)
    type: Literal["text", "media", "template", "reaction", "read"]
    text: str | None = Field(default=None, max_length=4096)
    reply_to: str | None = Field(default=None, max_length=64)
    media: MediaPart | None = None
    template: TemplatePart | None = None
    reaction: ReactionPart | None = None
    message_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_part_for_the_type(self):
        needed = {"text": "text", "media": "media", "template": "template", "reaction": "reaction", "read": "message_id"}[self.type]
        if getattr(self, needed) in (None, "") or (self.type == "text" and not self.text.strip()):
            raise ValueError(f"{needed} is required when type is {self.type!r}")
        if not self.contact_id and not self.to:
            raise ValueError("give contactId or to")
        return self


# ---------------------------------------------------------------- rules


# ---------------------------------------------------------------- sending


def _conversation_message(contact: ContactModel, message_id: str, field: str) -> MessageModel:
    """A message of this contact's conversation that WhatsApp knows (for replies and reactions)."""
    try:
        row = MessageModel.get(message_id)
    except MessageModel.DoesNotExist:
        raise NotFound(f"{field}: no message {message_id!r}", field=field) from None
    if row.contactId != contact.contactId or row.channel != CHANNEL:
        raise ValidationError(f"{field}: that message is not in this WhatsApp conversation", field=field)
    if not row.providerMessageId:
        raise ValidationError(f"{field}: that message has not reached WhatsApp yet", field=field)
    return row


def send_whatsapp(actor: Actor, data: WhatsAppSend | dict, *, via: str = "api") -> Message:
    """Check the rules, write the message PENDING and queue it. Mark-as-read is immediate."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(WhatsAppSend, data)
    contact = recipient_contact(request.contact_id, request.to, "phone")
    if request.type == "read":
        return mark_read(actor, contact, request.message_id)
    now = utcnow()
    check_send(contact, Channel.WHATSAPP, free_form=request.type != "template", now=now)
    reply_to = _conversation_message(contact, request.reply_to, "replyTo").providerMessageId if request.reply_to else None
    extra: dict = {}
    if request.type == "text":
        message = whatsapp_messages.text_message(request.text, reply_to)
    elif request.type == "media":
        message, extra = _media(request.media, reply_to)
    elif request.type == "template":
        message = _template(request.template)
    else:
        target = _conversation_message(contact, request.reaction.message_id, "reaction.messageId")
        message = whatsapp_messages.reaction_message(target.providerMessageId, request.reaction.emoji)
    return _queue(actor, contact, message, via=via, reply_to=reply_to, now=now, **extra)


def _media(part: MediaPart, reply_to: str | None) -> tuple[dict, dict]:
    row = media_row(part.file_id)
    kind = kind_for_mime(row.mimeType)
    if kind is None:
        raise ValidationError(f"media.fileId: {row.mimeType} cannot be sent on WhatsApp", field="media.fileId")
    check_media(kind, row.mimeType, int(row.sizeBytes), field="media.fileId")
    message = whatsapp_messages.media_message(kind, part.caption, row.filename, reply_to)
    media = MessageMedia(
        kind=kind, status="stored", fileId=row.fileId, mimeType=row.mimeType, sizeBytes=int(row.sizeBytes),
        filename=row.filename, caption=part.caption,
    )
    return message, {"media": media, "file_id": row.fileId, "media_file": row}


def _template(part: TemplatePart) -> dict:
    template = templates.approved_template(part.name, part.language)
    for field, given, wanted in (
        ("template.bodyParameters", len(part.body_parameters), template.body_parameters),
        ("template.headerParameters", len(part.header_parameters), template.header_parameters),
    ):
        if given != wanted:
            raise ValidationError(f"{field}: {part.name!r} takes {wanted} parameter(s), got {given}", field=field)
    return whatsapp_messages.template_message(part.name, part.language, part.body_parameters, part.header_parameters)


def _queue(actor: Actor, contact: ContactModel, message: dict, *, via: str, now: datetime, reply_to: str | None = None,
           media=None, file_id: str | None = None, media_file: MediaFileModel | None = None) -> Message:
    body = whatsapp_messages.summary(message)
    row = outbound_row(
        actor.user_id, contact, channel=CHANNEL, kind=message["type"], body=body, now=now, address=contact.phone,
        sender=get_settings().whatsapp_phone_number_id, payload={"message": message, "fileId": file_id},
        media=media, replyTo=reply_to,
    )
    if media_file is not None:  # before it is queued: a delete from the library now finds the file in use
        campaign = campaign_recipients.current()
        record_use(media_file, row, job_id=campaign.job_id if campaign else None, now=now)
    queue_for_contact(actor, contact, row, preview=body, via=via)
    return to_message(row)


def queue_system_text(actor: Actor, contact: ContactModel, text: str, *, reason: str) -> Message:
    """A message the system owes the customer (an opt-out confirmation): no window or consent check."""
    return _queue(actor, contact, whatsapp_messages.text_message(text), via=reason, now=utcnow())


def mark_read(actor: Actor, contact: ContactModel, message_id: str) -> Message:
    """Tell WhatsApp the customer's message was read (blue ticks); nothing is queued."""
    row = _conversation_message(contact, message_id, "messageId")
    if row.direction != "inbound":
        raise ValidationError("messageId: only a customer's message can be marked as read", field="messageId")
    try:
        providers.WHATSAPP.get().mark_read(row.providerMessageId, origination=get_settings().whatsapp_phone_number_id)
    except ProviderError as error:
        raise BadRequest(f"WhatsApp did not take the read receipt: {error.message}", field="messageId") from None
    audit_row(actor, "message.read_receipt", "message", row.messageId, (), {"channel": "whatsapp"}).save()
    return to_message(row)
