"""The process's SMS provider (AWS End User Messaging SMS, dry run or sandbox): see provider_slot."""
from __future__ import annotations

from backend.adapters.channels.provider_slot import ProviderSlot
from backend.adapters.channels.sms import AwsSmsProvider, DryRunSmsProvider, SandboxSmsProvider, SmsProvider

_slot: ProviderSlot[SmsProvider] = ProviderSlot(
    live=lambda settings: AwsSmsProvider(settings=settings),
    dry_run=DryRunSmsProvider,
    sandbox=lambda settings, sink: SandboxSmsProvider(settings, on_event=sink),
)
sms_provider = _slot.get
set_sms_event_sink = _slot.set_sink
use_sms_provider = _slot.use
reset_sms_providers = _slot.reset
