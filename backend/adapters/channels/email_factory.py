"""The process's email provider (SES v2, dry run or sandbox): see provider_slot."""
from __future__ import annotations

from backend.adapters.channels.email import AwsEmailProvider, DryRunEmailProvider, EmailProvider, SandboxEmailProvider
from backend.adapters.channels.provider_slot import ProviderSlot

_slot: ProviderSlot[EmailProvider] = ProviderSlot(
    live=lambda settings: AwsEmailProvider(settings=settings),
    dry_run=DryRunEmailProvider,
    sandbox=lambda settings, sink: SandboxEmailProvider(settings, on_event=sink),
)
email_provider = _slot.get
set_email_event_sink = _slot.set_sink
use_email_provider = _slot.use
reset_email_providers = _slot.reset
