"""The process's voice provider (AWS End User Messaging voice, dry run or sandbox): see provider_slot."""
from __future__ import annotations

from backend.adapters.channels.provider_slot import ProviderSlot
from backend.adapters.channels.voice import AwsVoiceProvider, DryRunVoiceProvider, SandboxVoiceProvider, VoiceProvider

_slot: ProviderSlot[VoiceProvider] = ProviderSlot(
    live=lambda settings: AwsVoiceProvider(settings=settings),
    dry_run=DryRunVoiceProvider,
    sandbox=lambda settings, sink: SandboxVoiceProvider(settings, on_event=sink),
)
voice_provider = _slot.get
set_voice_event_sink = _slot.set_sink
use_voice_provider = _slot.use
reset_voice_providers = _slot.reset
