"""Dead letters as the crash of issue 10 leaves them, for the DLQ tests: a send whose answer was lost after the
provider took it (OUTCOME_UNKNOWN, no provider id, no status event), and one refused as throttled."""
from __future__ import annotations

import pytest
from botocore.exceptions import ReadTimeoutError

from backend.adapters.channels import providers
from backend.adapters.channels.errors import OUTCOME_UNKNOWN, ProviderError
from backend.models.messaging import DLQMessageModel, MessageModel
from backend.services.channels.whatsapp.send import send_whatsapp
from backend.services.contacts.contacts import create_contact
from backend.services.messaging import outbox
from backend.settings import reset_settings_cache
from tests.conftest import unique_phone


class Crashy:
    """The sandbox, except that the first send of each message in `lost` reaches the provider and then its
    answer is lost (a read timeout), and each message in `throttled` is refused as throttled."""

    def __init__(self, sandbox):
        self.sandbox, self.lost, self.throttled = sandbox, set(), set()

    def __getattr__(self, name):
        return getattr(self.sandbox, name)

    def send(self, message, **kwargs):
        text = repr(message)
        if any(tag in text for tag in self.throttled):
            raise ProviderError("THROTTLED", "Rate exceeded", retryable=True)
        provider_id = self.sandbox.send(message, **kwargs)
        for tag in list(self.lost):
            if tag in text:
                self.lost.discard(tag)
                raise ReadTimeoutError(endpoint_url="https://social-messaging.us-east-1.amazonaws.com")
        return provider_id


@pytest.fixture
def crashy(messaging, monkeypatch):
    monkeypatch.setenv("WECARE_SEND_ATTEMPTS", "1")
    reset_settings_cache()
    provider = Crashy(messaging.provider)
    providers.WHATSAPP.use(provider)
    yield provider
    reset_settings_cache()


def dead_letter(operator, messaging, crashy, how: str) -> str:
    """A message to a new contact that ends in the DLQ, `how`: "lost" (OUTCOME_UNKNOWN) or "throttled"."""
    phone = unique_phone()
    contact = create_contact(operator, {"name": f"Dlq {how}", "phone": phone, "optInWhatsApp": True})
    (crashy.lost if how == "lost" else crashy.throttled).add(phone.lstrip("+"))
    sent = send_whatsapp(operator, {"contactId": contact.contact_id, "type": "template", "template": {"name": "welcome_back", "language": "en_US"}})
    messaging.drain()
    crashy.throttled.discard(phone.lstrip("+"))
    assert MessageModel.get(sent.message_id).status == "DEAD"
    return outbox.dlq_id("whatsapp", sent.message_id)


def sends(crashy, dlq_id: str) -> int:
    """How many times the provider took the dead letter's message."""
    message = MessageModel.get(DLQMessageModel.get(dlq_id).messageId)
    return sum(1 for record in crashy.sandbox.sent if message.address.lstrip("+") in repr(record))


@pytest.fixture
def lost(operator, messaging, crashy) -> str:
    dlq_id = dead_letter(operator, messaging, crashy, "lost")
    assert DLQMessageModel.get(dlq_id).errorCode == OUTCOME_UNKNOWN and sends(crashy, dlq_id) == 1
    return dlq_id


@pytest.fixture
def throttled(operator, messaging, crashy) -> str:
    return dead_letter(operator, messaging, crashy, "throttled")


def waiting_untouched(dlq_id: str) -> bool:
    entry = DLQMessageModel.get(dlq_id)
    return entry.state == "waiting" and int(entry.replayCount or 0) == 0 and MessageModel.get(entry.messageId).status == "DEAD"
