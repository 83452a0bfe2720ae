"""Answering a conversation on the customer's channel: which channels the reply box offers, which one it starts
on, and the reply itself, sent through that channel's own send service (its rules, its outbox, its audit).

The box offers every channel in the catalog with the contact's verdict on it (the same `channel_statuses` the
contact page and the composer show); it starts on the channel of the customer's last message. An email reply
stays in the email's thread: "Re:" its subject, with In-Reply-To and References naming the email it answers.
"""
from __future__ import annotations

from pydantic import Field

from pynamodb.exceptions import UpdateError

from backend.errors import Conflict, NotFound, ValidationError
from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.channels.registry import entry
from backend.services.contacts.contacts import live_contact_row
from backend.services.contacts.views import channel_statuses
from backend.services.messaging.schemas import RETRYABLE, Message, retry_refusal
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.validation import check_choice, parse_input
from backend.services.rules.channels import CHANNEL_NAMES, Channel
from backend.services.rules.channels import CHANNELS as CATALOG

RECENT_FOR_DEFAULT = 50  # messages read (newest first) to find the customer's last channel and email thread
REPLY_MAX_CHARS = 4096


class ReplyChannel(ApiView):
    channel: str
    label: str
    address: str | None = None
    can_reply: bool  # free text may go out now
    templates_only: bool = False  # WhatsApp outside the 24-hour window: an approved template may
    reason: str | None = None  # why not (or why templates only)


class ReplyOptions(ApiView):
    channels: list[ReplyChannel]
    default_channel: str | None = None  # the channel of the customer's last message, else the first that works
    email_subject: str | None = None  # what an email reply's subject will be
    email_reply_to: str | None = None  # the email (our message id) an email reply answers


class ReplyRequest(ApiModel):
    channel: str
    text: str = Field(max_length=REPLY_MAX_CHARS)
    reply_to: str | None = Field(default=None, max_length=64)  # WhatsApp: the message quoted


def _recent(contact_id: str) -> list[MessageModel]:
    rows = MessageModel.by_contact.query(contact_id, scan_index_forward=False, limit=RECENT_FOR_DEFAULT, page_size=RECENT_FOR_DEFAULT)
    now = utcnow()
    return [row for row in rows if row.channel and row.is_live(now)]


def _email_reply(contact: ContactModel, recent: list[MessageModel]) -> tuple[str, str | None]:
    """An email reply's subject and the email it answers (our id): the newest email with a subject, else a
    new subject and none."""
    thread = next((row for row in recent if row.channel == Channel.EMAIL.value and row.subject), None)
    if thread is None:
        return f"Message from us, {contact.name}"[:200], None
    return reply_subject(thread.subject), thread.messageId


def reply_subject(subject: str) -> str:
    return subject if subject[:3].casefold() == "re:" else f"Re: {subject}"


def reply_options(actor: Actor, contact_id: str) -> ReplyOptions:
    require(actor, Operation.MESSAGES_READ)
    contact = live_contact_row(contact_id)
    statuses = channel_statuses(contact, utcnow())
    options = []
    for info in CATALOG.values():
        status = statuses[info.channel.value]
        templates_only = bool(info.window and status.can_send and not status.can_reply)
        address = contact.email if info.address == "email" else contact.phone
        options.append(ReplyChannel(channel=info.channel.value, label=info.label, address=address, can_reply=status.can_reply,
                                    templates_only=templates_only, reason=status.reason))
    recent = _recent(contact_id)
    usable = {o.channel for o in options if o.can_reply or o.templates_only}
    last_inbound = next((row.channel for row in recent if row.direction == "inbound" and row.channel in usable), None)
    default = last_inbound or (contact.lastChannel if contact.lastChannel in usable else None) or next(iter(sorted(usable, key=CHANNEL_NAMES.index)), None)
    subject, answers = _email_reply(contact, recent)
    return ReplyOptions(channels=options, default_channel=default, email_subject=subject, email_reply_to=answers)


def send_reply(actor: Actor, contact_id: str, data: ReplyRequest | dict, *, via: str = "api") -> Message:
    """Send free text on `channel` through the channel's own send service (which checks the role and the rules
    again, writes the message and queues it)."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(ReplyRequest, data)
    check_choice("channel", request.channel, CHANNEL_NAMES)
    text = request.text.strip()
    if not text:
        raise ValidationError("text: write the reply first", field="text")
    contact = live_contact_row(contact_id)
    channel = Channel(request.channel)
    if channel is Channel.WHATSAPP:
        send = {"contactId": contact_id, "type": "text", "text": text, **({"replyTo": request.reply_to} if request.reply_to else {})}
    elif channel is Channel.SMS:
        send = {"contactId": contact_id, "body": text}
    elif channel is Channel.EMAIL:
        subject, answers = _email_reply(contact, _recent(contact_id))
        send = {"contactId": contact_id, "subject": subject, "text": text, **({"inReplyTo": answers} if answers else {})}
    else:
        send = {"contactId": contact_id, "text": text}
    return entry(channel).send(actor, send, via=via)


def retry_message(actor: Actor, message_id: str, *, via: str = "ui") -> Message:
    """Send a failed message again, as a new message with the same request, through its channel's send service
    (the rules are checked afresh). Exactly once: the failed row is claimed (`retriedAs`) before the send and
    released if the send is refused, so two clicks (or two operators) send one retry."""
    require(actor, Operation.MESSAGES_SEND)
    row = _failed_row(message_id)
    refusal = retry_refusal(row)
    if refusal is not None:
        raise Conflict(f"messageId: {refusal}", field="messageId")
    claim = f"claimed:{actor.user_id}"
    try:
        row.update(actions=[MessageModel.retriedAs.set(claim)],
                   condition=MessageModel.retriedAs.does_not_exist() & MessageModel.status.is_in(*RETRYABLE))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("messageId: it was sent again already", field="messageId") from None
        raise
    request = {"contactId": row.contactId, **_same_request(row)}
    try:
        sent = entry(row.channel).send(actor, request, via=via)
    except Exception:
        row.update(actions=[MessageModel.retriedAs.remove()], condition=MessageModel.retriedAs == claim)
        raise
    new_id = getattr(sent, "message_id", None) or claim
    row.update(actions=[MessageModel.retriedAs.set(new_id)])
    return sent


def _failed_row(message_id: str) -> MessageModel:
    try:
        row = MessageModel.get(message_id, consistent_read=True)
    except (MessageModel.DoesNotExist, ValueError):
        raise NotFound(f"No message {message_id!r}.", field="messageId") from None
    if not row.channel or not row.is_live() or not row.contactId:
        raise NotFound(f"No message {message_id!r}.", field="messageId")
    live_contact_row(row.contactId)
    return row


def _same_request(row: MessageModel) -> dict:
    """The send request that makes the same message again (retry_refusal has kept out the kinds it cannot)."""
    payload = row.payload or {}
    if row.channel == Channel.WHATSAPP.value:
        return {"type": "text", "text": row.body}
    if row.channel == Channel.SMS.value:
        return {"body": row.body}
    if row.channel == Channel.EMAIL.value:
        return {"subject": row.subject or payload.get("subject"), "text": payload.get("text"), "html": payload.get("html")}
    return {"text": payload.get("text"), "textType": payload.get("textType", "TEXT"), **({"voiceId": payload["voiceId"]} if payload.get("voiceId") else {})}
