"""The channels, declared once: what each one is (this catalog: its name, address kind, consent and window
rules as data) and, in `registry.py`, what each one runs (send service, delivery, provider, event ingest).

The catalog is plain data so that any service may read it (contacts, reachability, the message log, the
dead-letter queue) without importing a channel's code; the registry imports the channel packages and is read
by the doors (REST, queues, SNS) and the local runtime. A new channel is one package under `channels/`, one
entry here and one in `registry.py`.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal


class Channel(str, Enum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    VOICE = "voice"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ConsentPolicy:
    """Which consent a send on the channel needs, read by `rules.consent_state` and `rules.check_send`."""

    record: str  # the key of the channel's consent record (Contact.consent) that an opt-in or opt-out sets
    opt_in_field: str | None  # the contact's opt-in flag the channel needs, or None if it needs none
    opt_in_for_free_form: bool = True  # False: free-form replies need only the open window (WhatsApp)
    back_in: str = "they opt in again"  # how the customer lifts their opt-out, as the refusal says it
    also_stopped_by: str | None = None  # another channel's record whose opt-out stops this one too
    opted_out_note: str = ""  # added to the refusal when that other record stopped it (an SMS STOP stops calls)


@dataclass(frozen=True)
class ChannelInfo:
    channel: Channel
    label: str
    address: Literal["phone", "email"]
    consent: ConsentPolicy
    window: bool = False  # free-form messages only within 24 hours of the customer's last message
    queue: str = ""  # the send queue (SQS in AWS, the local send queue)
    function: str = ""  # the Lambda function that serves the channel's route, queue and provider events


CHANNELS: dict[Channel, ChannelInfo] = {
    Channel.WHATSAPP: ChannelInfo(
        Channel.WHATSAPP, "WhatsApp", "phone",
        ConsentPolicy("whatsapp", "optInWhatsApp", opt_in_for_free_form=False, back_in="they send START"),
        window=True, queue="whatsapp", function="outbound-whatsapp",
    ),
    Channel.SMS: ChannelInfo(
        Channel.SMS, "SMS", "phone", ConsentPolicy("sms", "optInSms", back_in="they text START"),
        queue="sms", function="outbound-sms",
    ),
    Channel.EMAIL: ChannelInfo(
        Channel.EMAIL, "email", "email", ConsentPolicy("email", "optInEmail"), queue="email", function="outbound-email",
    ),
    Channel.VOICE: ChannelInfo(
        Channel.VOICE, "voice", "phone",
        ConsentPolicy("voice", "optInVoice", also_stopped_by="sms", opted_out_note="which also means no calls"),
        queue="voice", function="outbound-voice",
    ),
}
CHANNEL_NAMES: tuple[str, ...] = tuple(c.value for c in CHANNELS)


def channel_info(channel: Channel | str) -> ChannelInfo:
    """The catalog entry; an unknown name is a ValueError (doors validate before they get here)."""
    return CHANNELS[Channel(channel)]
