"""The process's provider for each channel, and its media store: one `ProviderSlot` each, chosen from
`WECARE_SEND_MODE` on first use (SANDBOX → the local sandbox, DRY_RUN → built and logged but never sent,
LIVE → the AWS service). The channel registry (`backend/services/channels/registry.py`) names each channel's
slot; tests put a provider in place with `SLOT.use(...)` and forget them all with `reset_providers()`."""
from __future__ import annotations

import threading

from backend.adapters.channels.email import AwsEmailProvider, DryRunEmailProvider, EmailProvider, SandboxEmailProvider
from backend.adapters.channels.provider_slot import ProviderSlot
from backend.adapters.channels.sms import AwsSmsProvider, DryRunSmsProvider, SandboxSmsProvider, SmsProvider
from backend.adapters.channels.voice import AwsVoiceProvider, DryRunVoiceProvider, SandboxVoiceProvider, VoiceProvider
from backend.adapters.channels.whatsapp import AwsWhatsAppProvider, DryRunWhatsAppProvider, WhatsAppProvider
from backend.adapters.channels.whatsapp_sandbox import SandboxWhatsAppProvider
from backend.adapters.media_store import LocalMediaStore, MediaStore, S3MediaStore
from backend.settings import Settings, get_settings

WHATSAPP: ProviderSlot[WhatsAppProvider] = ProviderSlot(
    live=lambda settings: AwsWhatsAppProvider(settings=settings),
    dry_run=DryRunWhatsAppProvider,
    sandbox=lambda settings, sink: SandboxWhatsAppProvider(settings, on_event=sink),
)
SMS: ProviderSlot[SmsProvider] = ProviderSlot(
    live=lambda settings: AwsSmsProvider(settings=settings),
    dry_run=DryRunSmsProvider,
    sandbox=lambda settings, sink: SandboxSmsProvider(settings, on_event=sink),
)
EMAIL: ProviderSlot[EmailProvider] = ProviderSlot(
    live=lambda settings: AwsEmailProvider(settings=settings),
    dry_run=DryRunEmailProvider,
    sandbox=lambda settings, sink: SandboxEmailProvider(settings, on_event=sink),
)
VOICE: ProviderSlot[VoiceProvider] = ProviderSlot(
    live=lambda settings: AwsVoiceProvider(settings=settings),
    dry_run=DryRunVoiceProvider,
    sandbox=lambda settings, sink: SandboxVoiceProvider(settings, on_event=sink),
)

_lock = threading.Lock()
_media_store: MediaStore | None = None


def media_store(settings: Settings | None = None) -> MediaStore:
    """S3 when `media_bucket` is set, else files under `<data_dir>/media`."""
    global _media_store
    with _lock:
        if _media_store is None:
            settings = settings or get_settings()
            if settings.media_bucket:
                _media_store = S3MediaStore(settings.media_bucket, region=settings.aws_region)
            else:
                _media_store = LocalMediaStore(settings.data_dir / "media")
        return _media_store


def reset_providers() -> None:
    """Forget every provider, its sink and the media store (tests); pending sandbox events are cancelled."""
    global _media_store
    for slot in (WHATSAPP, SMS, EMAIL, VOICE):
        slot.reset()
    with _lock:
        _media_store = None
