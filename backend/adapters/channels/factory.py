"""One provider and one media store per process, chosen from the settings.

SANDBOX → the local sandbox (its status events go to the sink the app sets with `set_sandbox_event_sink`),
DRY_RUN → requests built and logged but never sent, LIVE → AWS End User Messaging Social.
"""
from __future__ import annotations

import threading

from backend.adapters.channels.whatsapp import AwsWhatsAppProvider, DryRunWhatsAppProvider, WhatsAppProvider
from backend.adapters.channels.provider_slot import ProviderSlot
from backend.adapters.channels.whatsapp_sandbox import SandboxWhatsAppProvider
from backend.adapters.media_store import LocalMediaStore, MediaStore, S3MediaStore
from backend.settings import Settings, get_settings

_lock = threading.Lock()
_media_store: MediaStore | None = None
_whatsapp: ProviderSlot[WhatsAppProvider] = ProviderSlot(
    live=lambda settings: AwsWhatsAppProvider(settings=settings),
    dry_run=DryRunWhatsAppProvider,
    sandbox=lambda settings, sink: SandboxWhatsAppProvider(settings, on_event=sink),
)
whatsapp_provider = _whatsapp.get
set_sandbox_event_sink = _whatsapp.set_sink
use_whatsapp_provider = _whatsapp.use


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
    """Forget the WhatsApp provider, its sink and the media store (tests); pending sandbox events are cancelled."""
    global _media_store
    _whatsapp.reset()
    with _lock:
        _media_store = None
