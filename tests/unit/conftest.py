"""Unit tests run the services against moto's in-process DynamoDB, fresh tables per test."""
from __future__ import annotations

import pytest
from moto import mock_aws

from tests.backends import use_backend


@pytest.fixture(autouse=True)
def tables(monkeypatch):
    monkeypatch.setenv("WECARE_IMPORT_WRITERS", "1")  # moto's DynamoDB is not thread-safe
    from backend.services.messaging.conversations import forget_snapshots
    from backend.services.messaging.dlq import forget_waiting_counts

    forget_snapshots()  # the team inbox's shared snapshots belong to the tables they were read from
    forget_waiting_counts()  # and so does the dashboard's count of dead letters
    with mock_aws():
        use_backend("aws", None, "unit-")
        yield


@pytest.fixture
def messaging():
    """A fresh sandbox provider and a local send queue drained by hand (`run_due`), through the real
    outbound Lambda handler; status events are not emitted unless a test sets a sink."""
    from backend.adapters.channels import providers
    from backend.adapters.send_queue import LocalSendQueue, use_send_queue
    from backend.services.platform import system_config

    from backend.services.messaging.inbound_store import stored_ids
    from backend.services.contacts.senders import sender_ids

    providers.reset_providers()
    system_config.forget()
    sender_ids.forget()
    stored_ids.forget()
    queue = LocalSendQueue()
    use_send_queue(queue)
    yield Messaging(queue)
    use_send_queue(None)
    providers.reset_providers()
    system_config.forget()


class Messaging:
    def __init__(self, queue):
        self.queue = queue

    @property
    def provider(self):
        from backend.adapters.channels import providers

        return providers.WHATSAPP.get()

    def drain(self) -> int:
        """Run everything queued, retries included, ignoring their delays."""
        total = 0
        while processed := self.queue.run_due(ignore_delays=True):
            total += processed
        return total


@pytest.fixture
def local_run(monkeypatch, tmp_path):
    """A local run with no secret configured: the secret is the data dir's own file."""
    monkeypatch.delenv("WECARE_WHATSAPP_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("WECARE_ENV", "local")
    monkeypatch.setenv("WECARE_DATA_DIR", str(tmp_path))
    from backend.services.platform import webhook_settings
    from backend.settings import reset_settings_cache

    reset_settings_cache()
    webhook_settings.forget_cached_secret()
    yield tmp_path
    reset_settings_cache()
    webhook_settings.forget_cached_secret()
