"""What an Admin sets up for the team inbox: the label catalog and the canned replies (SystemConfig).

A canned reply has a `/shortcut`, a title, the channels it suits (none: every channel) and a text with
contact-field placeholders ({{name}}, {{first_name}}, {{phone}}, {{email}}), filled in for the contact it is
used with. Everyone who reads messages may see both; only an Admin changes them (audited, with before/after).
"""
from __future__ import annotations

import re

from pydantic import Field

from backend.errors import ValidationError
from backend.models.contact import ContactModel
from backend.services.contacts.contacts import live_contact_row
from backend.services.platform import system_config
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.audit import audit_row
from backend.services.platform.validation import check_choice, parse_input
from backend.services.storage.unit_of_work import UnitOfWork
from backend.services.rules.channels import CHANNEL_NAMES

LABELS_KEY = "inbox.labels"
CANNED_KEY = "inbox.cannedReplies"
LABEL_COLORS = ("gray", "blue", "green", "amber", "red", "purple", "teal", "pink")
LABELS_MAX = 50
CANNED_MAX = 200
CANNED_TEXT_MAX = 4000
_LABEL_NAME = re.compile(r"^[\w][\w &/-]{0,31}$")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = ("name", "first_name", "phone", "email")


class Label(ApiModel):
    name: str = Field(max_length=32)
    color: str = "gray"


class LabelView(ApiView):
    name: str
    color: str


class LabelCatalog(ApiModel):
    labels: list[Label] = Field(max_length=LABELS_MAX)


class CannedReply(ApiModel):
    shortcut: str = Field(max_length=32)
    title: str = Field(max_length=80)
    text: str = Field(max_length=CANNED_TEXT_MAX)
    channels: list[str] = []


class CannedReplyView(ApiView):
    shortcut: str
    title: str
    text: str
    channels: list[str] = []


class CannedReplies(ApiModel):
    replies: list[CannedReply] = Field(max_length=CANNED_MAX)


class FilledReply(ApiView):
    shortcut: str
    text: str


# ---------------------------------------------------------------- labels


def label_names() -> list[str]:
    return [label["name"] for label in system_config.cached(LABELS_KEY) or []]


def list_labels(actor: Actor) -> list[LabelView]:
    require(actor, Operation.MESSAGES_READ)
    return [LabelView(**label) for label in system_config.read(LABELS_KEY) or []]


def save_labels(actor: Actor, data: LabelCatalog | dict) -> list[LabelView]:
    """Replace the catalog (Admin). A label removed here stays on the conversations that have it until an
    operator takes it off; it can no longer be added."""
    require(actor, Operation.CONFIG_MANAGE)
    request = parse_input(LabelCatalog, data)
    seen: set[str] = set()
    for i, label in enumerate(request.labels):
        if not _LABEL_NAME.match(label.name):
            raise ValidationError(f"labels.{i}.name: letters, digits, spaces, & / - and at most 32 characters", field=f"labels.{i}.name")
        if label.name.casefold() in seen:
            raise ValidationError(f"labels.{i}.name: {label.name} is listed twice", field=f"labels.{i}.name")
        check_choice(f"labels.{i}.color", label.color, LABEL_COLORS)
        seen.add(label.name.casefold())
    value = [{"name": label.name, "color": label.color} for label in request.labels]
    _write(actor, LABELS_KEY, value, "inbox.labels")
    return [LabelView(**label) for label in value]


# ---------------------------------------------------------------- canned replies


def list_canned_replies(actor: Actor, channel: str | None = None) -> list[CannedReplyView]:
    """The canned replies (those that suit `channel`, when given), by shortcut."""
    require(actor, Operation.MESSAGES_READ)
    check_choice("channel", channel, CHANNEL_NAMES)
    replies = [CannedReplyView(**reply) for reply in system_config.read(CANNED_KEY) or []]
    return [reply for reply in replies if channel is None or not reply.channels or channel in reply.channels]


def save_canned_replies(actor: Actor, data: CannedReplies | dict) -> list[CannedReplyView]:
    """Replace the canned replies (Admin): unique shortcuts, known channels, known placeholders only."""
    require(actor, Operation.CONFIG_MANAGE)
    request = parse_input(CannedReplies, data)
    seen: set[str] = set()
    for i, reply in enumerate(request.replies):
        where = f"replies.{i}"
        if not _SHORTCUT.match(reply.shortcut):
            raise ValidationError(f"{where}.shortcut: lower-case letters, digits, - and _ (up to 32)", field=f"{where}.shortcut")
        if reply.shortcut in seen:
            raise ValidationError(f"{where}.shortcut: /{reply.shortcut} is used twice", field=f"{where}.shortcut")
        seen.add(reply.shortcut)
        if not reply.title.strip() or not reply.text.strip():
            field = "title" if not reply.title.strip() else "text"
            raise ValidationError(f"{where}.{field}: cannot be empty", field=f"{where}.{field}")
        unknown = [c for c in reply.channels if c not in CHANNEL_NAMES]
        if unknown:
            raise ValidationError(f"{where}.channels: {', '.join(unknown)} is not a channel", field=f"{where}.channels")
        wrong = [p for p in _PLACEHOLDER.findall(reply.text) if p not in PLACEHOLDERS]
        if wrong:
            allowed = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
            raise ValidationError(f"{where}.text: {{{{{wrong[0]}}}}} is not a placeholder; use {allowed}", field=f"{where}.text")
    value = [reply.model_dump() for reply in request.replies]
    _write(actor, CANNED_KEY, value, "inbox.canned_replies")
    return [CannedReplyView(**reply) for reply in value]


def fill_placeholders(text: str, contact: ContactModel) -> str:
    """The text with the contact's fields in place of its placeholders (an empty field: nothing)."""
    name = contact.name or ""
    values = {"name": name, "first_name": name.split()[0] if name.split() else "", "phone": contact.phone or "", "email": contact.email or ""}
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def use_canned_reply(actor: Actor, contact_id: str, shortcut: str) -> FilledReply:
    """A canned reply's text filled in for the contact (to put in the reply box; sending is the operator's)."""
    require(actor, Operation.MESSAGES_SEND)
    reply = next((r for r in list_canned_replies(actor) if r.shortcut == shortcut), None)
    if reply is None:
        raise ValidationError(f"shortcut: there is no canned reply /{shortcut}", field="shortcut")
    return FilledReply(shortcut=shortcut, text=fill_placeholders(reply.text, live_contact_row(contact_id)))


def _write(actor: Actor, key: str, value: list, action: str) -> None:
    """The new value and its audit row (before and after), together or not at all."""
    before = system_config.read(key) or []
    work = UnitOfWork()
    work.save(system_config.row(key, value, updated_by=actor.user_id or "unknown"))
    work.save(audit_row(actor, action, "config", key, ["value"], {"before": before, "after": value}))
    work.commit()
    system_config.forget(key)
