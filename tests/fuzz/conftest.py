"""Fuzzing the doors providers call: Hypothesis profiles, and one set of moto tables per module for the door tests.

`HYPOTHESIS_PROFILE=fuzz` (`make fuzz`) runs 1,000 cases a parser property and 500 a door property,
randomised; the default "ci" profile runs a short, derandomised sample (50 and 25) in the normal suite, so a
failure there reproduces exactly. Neither keeps an
example database: a failing case is printed (with `print_blob` in the fuzz profile, to replay it).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from tests.backends import use_backend
from tests.fuzz.seeds import OUR_MESSAGE_ID
from tests.whatsapp_events import CUSTOMER, OUTBOUND_WAMID

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=50, derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=1000, print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Door properties store what they parse in moto's tables (a tenth of a second a case): half the examples.
door_settings = settings(max_examples=max(settings().max_examples // 2, 10))

WEBHOOK_SECRET = "fuzz-webhook-secret"
META_APP_SECRET = "fuzz-meta-app-secret"


@pytest.fixture(scope="module")
def door():
    """Fresh moto tables, a local send queue (consent replies) and the webhook secrets, shared by a module's
    examples: a door must hold up whatever earlier examples stored."""
    from backend.adapters.channels import providers
    from backend.adapters.send_queue import LocalSendQueue, use_send_queue
    from backend.services.contacts.senders import sender_ids
    from backend.services.messaging.inbound_store import stored_ids
    from backend.services.platform import system_config
    from backend.settings import reset_settings_cache

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("WECARE_IMPORT_WRITERS", "1")
        patch.setenv("WECARE_WHATSAPP_WEBHOOK_SECRET", WEBHOOK_SECRET)
        patch.setenv("WECARE_META_APP_SECRET", META_APP_SECRET)
        use_backend("aws", None, "fuzz-")
        providers.reset_providers()
        for cache in (system_config, sender_ids, stored_ids):
            cache.forget()
        use_send_queue(LocalSendQueue())
        yield
        use_send_queue(None)
        providers.reset_providers()
        for cache in (system_config, sender_ids, stored_ids):
            cache.forget()
    reset_settings_cache()


def reset_outbound() -> None:
    """Our sent message that the seed events report on, back to SENT, so each example's status can move it
    (statuses only move forward): the door then writes what the fuzzed event says, not just looks it up."""
    from backend.models.base import utcnow
    from backend.services.messaging.rows import new_message_row

    new_message_row(
        message_id=OUR_MESSAGE_ID, channel="whatsapp", direction="outbound", status="SENT", now=utcnow(),
        contactId="fuzz-contact", kind="text", body="Your order has shipped.", payload={}, address="+" + CUSTOMER,
        sender="fuzz", providerMessageId=OUTBOUND_WAMID,
    ).save()
