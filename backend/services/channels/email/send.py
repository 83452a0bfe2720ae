"""Sending email: the request, the rules (suppression, consent), safe content and the hand-over to the outbox.

HTML is sanitised before the row is written, and a plain-text part is always present. Every email carries
List-Unsubscribe (and one-click List-Unsubscribe-Post when an HTTPS unsubscribe URL is configured).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import quote

from pydantic import Field

from backend.errors import ValidationError
from backend.models.base import utcnow
from backend.services.rules.channels import Channel
from backend.services.rules.consent import check_send
from backend.models.contact import ContactModel
from backend.models.messaging import MessageModel
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel
from backend.services.channels.email.content import EmailContent, prepare_content
from backend.services.messaging.rows import new_message_id, outbound_row
from backend.services.messaging.schemas import Message, to_message
from backend.services.messaging.outbox import queue_for_contact
from backend.services.contacts.recipients import recipient_contact
from backend.services.platform.validation import parse_input
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)

CHANNEL = "email"
# A Message item must stay under DynamoDB's 400 KB; the payload is stored as JSON next to the body.
STORED_MAX_BYTES = 380 * 1024


class EmailSend(ApiModel):
    contact_id: str | None = Field(default=None, max_length=64)
    to: str | None = Field(default=None, max_length=254)
    subject: str
    text: str | None = None
    html: str | None = None
    in_reply_to: str | None = Field(default=None, max_length=64)  # our id of the email this one answers


def send_email(actor: Actor, data: EmailSend | dict, *, via: str = "api") -> Message:
    """Check the content and the rules, write the message PENDING and queue it."""
    require(actor, Operation.MESSAGES_SEND)
    request = parse_input(EmailSend, data)
    content = prepare_content(request.subject, request.text, request.html)
    contact = recipient_contact(request.contact_id, request.to, "email")
    now = utcnow()
    check_send(contact, Channel.EMAIL, now=now)
    threading = thread_headers(contact, request.in_reply_to) if request.in_reply_to else {}
    return _queue(actor, contact, content, via=via, now=now, threading=threading)


def rfc_message_id(provider_message_id: str, region: str) -> str:
    """The Message-ID header SES gives the email it sent with `provider_message_id`."""
    domain = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    return f"<{provider_message_id}@{domain}>"


def thread_headers(contact: ContactModel, message_id: str) -> dict[str, str]:
    """In-Reply-To and References for an answer to our email `message_id` (to the same contact, and gone out:
    only then has it a Message-ID to name)."""
    try:
        answered = MessageModel.get(message_id, consistent_read=True)
    except MessageModel.DoesNotExist:
        answered = None
    if answered is None or answered.channel != CHANNEL or answered.contactId != contact.contactId or not answered.is_live():
        raise ValidationError(f"inReplyTo: no email {message_id!r} to {contact.name}", field="inReplyTo")
    if not answered.providerMessageId:
        raise ValidationError("inReplyTo: that email has not gone out yet, so it cannot be answered in its thread", field="inReplyTo")
    own = rfc_message_id(answered.providerMessageId, get_settings().aws_region)
    earlier = ((answered.payload or {}).get("headers") or {}).get("References", "")
    return {"In-Reply-To": own, "References": " ".join(filter(None, (earlier, own)))}


def unsubscribe_headers(message_id: str, settings: Settings) -> dict[str, str]:
    """List-Unsubscribe with a mailto (always) and an HTTPS link; one-click (RFC 8058) only with the link."""
    mailbox = parseaddr(settings.email_reply_to or settings.email_from)[1]
    links = [f"<mailto:{mailbox}?subject={quote(f'unsubscribe {message_id}')}>"]
    url = settings.email_unsubscribe_url
    if url and not url.lower().startswith("https://"):
        log.warning("email_unsubscribe_url is not HTTPS; List-Unsubscribe carries the mailto only")
        url = None
    if url:
        links.append(f"<{url}{'&' if '?' in url else '?'}m={message_id}>")
    headers = {"List-Unsubscribe": ", ".join(links)}
    if url:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _queue(actor: Actor, contact: ContactModel, content: EmailContent, *, via: str, now: datetime,
           threading: dict[str, str] | None = None) -> Message:
    settings = get_settings()
    message_id = new_message_id()
    payload = {"subject": content.subject, "text": content.text, "html": content.html,
               "headers": {**unsubscribe_headers(message_id, settings), **(threading or {})}}
    if len(json.dumps(payload)) + len(content.text.encode("utf-8")) > STORED_MAX_BYTES:
        field = "html" if content.html else "text"
        raise ValidationError(f"{field}: the email is too large to store; shorten the text or the HTML", field=field)
    row = outbound_row(
        actor.user_id, contact, message_id=message_id, channel=CHANNEL, kind="email", body=content.text, now=now,
        address=contact.email, sender=settings.email_from, payload=payload, subject=content.subject,
    )
    queue_for_contact(actor, contact, row, preview=content.subject, via=via, details={"html": content.html is not None})
    return to_message(row)
