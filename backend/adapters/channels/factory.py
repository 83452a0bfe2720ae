"""One provider and one media store per process, chosen from the settings.

SANDBOX → the local sandbox (its status events go to the sink the app sets with `set_sandbox_event_sink`),
DRY_RUN → requests built and logged but never sent, LIVE → AWS End User Messaging Social.
"""
from __future__ import annotations

import threading

from backend.adapters.channels.whatsapp import AwsWhatsAppProvider, DryRunWhatsAppProvider, WhatsAppProvider
from backend.adapters.channels.whatsapp_sandbox import EventSink, SandboxWhatsAppProvider
from backend.adapters.media_store import LocalMediaStore, MediaStore, S3MediaStore
from backend.settings import SendMode, Settings, get_settings

_lock = threading.Lock()
_whatsapp: WhatsAppProvider | None = None
_media_store: MediaStore | None = None
_sandbox_sink: EventSink | None = None


def whatsapp_provider(settings: Settings | None = None) -> WhatsAppProvider:
    """The process's WhatsApp provider; built on first use from `settings` (default: the app settings)."""
    global _whatsapp
    with _lock:
        if _whatsapp is None:
            settings = settings or get_settings()
            if settings.send_mode is SendMode.LIVE:
                _whatsapp = AwsWhatsAppProvider(settings=settings)
            elif settings.send_mode is SendMode.DRY_RUN:
                _whatsapp = DryRunWhatsAppProvider(settings)
            else:
                _whatsapp = SandboxWhatsAppProvider(settings, on_event=_sandbox_sink)
        return _whatsapp


def set_sandbox_event_sink(sink: EventSink | None) -> None:
    """Where the sandbox delivers its SNS-shaped events (the app wires the inbound pipeline here)."""
    global _sandbox_sink
    with _lock:
        _sandbox_sink = sink
        if isinstance(_whatsapp, SandboxWhatsAppProvider):
            _whatsapp.on_event = sink


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
    """Forget the cached provider, store and sink (tests); pending sandbox events are cancelled."""
    global _whatsapp, _media_store, _sandbox_sink
    with _lock:
        if isinstance(_whatsapp, SandboxWhatsAppProvider):
            _whatsapp.close()
        _whatsapp, _media_store, _sandbox_sink = None, None, None


def use_whatsapp_provider(provider: WhatsAppProvider | None) -> None:
    """Put a specific provider in place (tests: a provider that fails on cue); None forgets it."""
    global _whatsapp
    with _lock:
        _whatsapp = provider
