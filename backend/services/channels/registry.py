"""What each channel runs, one entry per channel: its send service and request model, its delivery (the outbox
hands it a claimed PENDING row), its provider slot, and its provider-event ingest (SNS in AWS, the sandbox's
events locally). What each channel *is* (address kind, consent and window rules, queue, function) is its
catalog entry in `backend/services/rules/channels.py`.

Read by the doors and the runtime, never by the services below them: the REST routes and the composer send
through `entry(channel).send`, the queue door delivers through `delivery_for`, the SNS door ingests through
`entry(channel).ingest`, and the local runtime wires every sandbox's events to that same ingest.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.adapters.channels import providers
from backend.adapters.channels.provider_slot import ProviderSlot
from backend.adapters.channels.whatsapp_events import parse_sns_message
from backend.services.rules.channels import CHANNELS, Channel, ChannelInfo
from backend.services.channels.email import send as email_send
from backend.services.channels.email.delivery import EmailDelivery
from backend.services.channels.email.events import ingest_email_event
from backend.services.channels.sms import send as sms_send
from backend.services.channels.sms.delivery import SmsDelivery
from backend.services.channels.sms.inbound import ingest_sms_event
from backend.services.channels.voice import calls as voice_calls
from backend.services.channels.voice.delivery import VoiceDelivery
from backend.services.channels.voice.events import ingest_voice_event
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.channels.whatsapp.delivery import WhatsAppDelivery
from backend.services.channels.whatsapp.inbound import ingest
from backend.models.messaging import MessageModel
from backend.settings import get_settings
from backend.services.messaging.outbox import UNANSWERED, ChannelDelivery, SendLookup


# One provider event (an SNS `Message`, with SNS's publish time) → what it changed, as counts for the door's summary.
Ingest = Callable[[str, "datetime | None"], Mapping[str, Any]]


@dataclass(frozen=True)
class ChannelEntry:
    info: ChannelInfo
    send: Callable[..., Any]  # send(actor, request: dict | model, *, via) → the queued message (or call) view
    request: type  # the send request model (camelCase JSON, extra fields refused)
    delivery: Callable[[], ChannelDelivery]
    provider: ProviderSlot
    ingest: Ingest
    sender: Callable[[], str]  # our origination identity on the channel now (a rate limit's bucket is per sender)


def _whatsapp_events(message: str, published_at: datetime | None) -> dict[str, Any]:
    return ingest(parse_sns_message(message)).counts()


def _sms_events(message: str, published_at: datetime | None) -> dict[str, Any]:
    return ingest_sms_event(message, received_at=published_at).counts()


def _email_events(message: str, published_at: datetime | None) -> dict[str, Any]:
    report = ingest_email_event(message)
    applied = report.status_applied
    return {"events": 1, "statusesApplied": int(applied), "statusesIgnored": int(not applied), "suppressed": len(report.suppressed)}


def _voice_events(message: str, published_at: datetime | None) -> dict[str, Any]:
    return {"applied": 0, "ignored": 0, "skipped": 0} | {ingest_voice_event(message): 1}


REGISTRY: dict[Channel, ChannelEntry] = {
    Channel.WHATSAPP: ChannelEntry(
        CHANNELS[Channel.WHATSAPP], whatsapp_send.send_whatsapp, whatsapp_send.WhatsAppSend, WhatsAppDelivery,
        providers.WHATSAPP, _whatsapp_events, lambda: get_settings().whatsapp_phone_number_id,
    ),
    Channel.SMS: ChannelEntry(
        CHANNELS[Channel.SMS], sms_send.send_sms, sms_send.SmsSend, SmsDelivery, providers.SMS, _sms_events,
        lambda: get_settings().sms_origination_identity,
    ),
    Channel.EMAIL: ChannelEntry(
        CHANNELS[Channel.EMAIL], email_send.send_email, email_send.EmailSend, EmailDelivery, providers.EMAIL, _email_events,
        lambda: get_settings().email_from,
    ),
    Channel.VOICE: ChannelEntry(
        CHANNELS[Channel.VOICE], voice_calls.place_call, voice_calls.VoiceCallRequest, VoiceDelivery, providers.VOICE,
        _voice_events, lambda: get_settings().voice_origination_identity,
    ),
}


def entry(channel: Channel | str) -> ChannelEntry:
    return REGISTRY[Channel(channel)]


def delivery_for(channel: Channel | str) -> ChannelDelivery:
    return entry(channel).delivery()


def find_send(row: MessageModel) -> SendLookup:
    """Ask the row's provider whether it received the row's send (the outbox's question about a send a crash
    interrupted). Only a sandbox can answer (its record of sends); a live provider cannot."""
    ask = getattr(entry(row.channel).provider.get(), "sent_before", None)
    return SendLookup(True, ask(row.messageId)) if callable(ask) else UNANSWERED
