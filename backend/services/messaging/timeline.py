"""The rows of a conversation's timeline that are not messages: the team's private notes and the events of the
conversation (assigned, status changed, labelled). They share the Message table (see TimelineEntryModel), so
the thread reads them with the messages and every open page hears of them on the table's stream."""
from __future__ import annotations

from datetime import datetime

from backend.models.messaging import EVENT, NOTE, TimelineEntryModel
from backend.services.messaging.rows import new_message_id
from backend.services.platform.access import Actor

NOTE_MAX_CHARS = 4000


def author_of(actor: Actor) -> str:
    return actor.email or actor.user_id or "someone"


def note_row(actor: Actor, contact_id: str, text: str, now: datetime) -> TimelineEntryModel:
    """A private note: kept (no expiry), like the team's memory of the customer."""
    return TimelineEntryModel(
        messageId=new_message_id(), contactId=contact_id, kind=NOTE, body=text, payload={"author": author_of(actor)},
        createdBy=actor.user_id, createdAt=now, updatedAt=now,
    )


def event_row(actor: Actor, contact_id: str, action: str, body: str, now: datetime, **details) -> TimelineEntryModel:
    """A conversation event, worded for the thread (`body`), with its facts in the payload; it expires with
    the messages around it."""
    row = TimelineEntryModel(
        messageId=new_message_id(), contactId=contact_id, kind=EVENT, body=body,
        payload={"action": action, "author": author_of(actor), **details}, createdBy=actor.user_id, createdAt=now, updatedAt=now,
    )
    row.stamp_expiry(now)
    return row
