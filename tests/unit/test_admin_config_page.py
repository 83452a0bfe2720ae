"""/admin/config without a browser: an Admin sees the webhook's URL, source and masked secret, reveals it and
rotates it through the page's own (background) handlers; anyone else gets the "Admins only" state."""
from __future__ import annotations

import asyncio

import pytest

from wecare_app.pages import admin_config
from wecare_app.pages.admin_config import ConfigState


@pytest.fixture(autouse=True)
def _local(local_run):
    """Every test here is a local run with the data dir's own secret (conftest's local_run)."""
    return local_run


class PageDouble:
    """ConfigState's handlers run outside Reflex: vars are attributes, the lock is a no-op, `run` calls the
    service as `actor` on a worker thread as SessionState.run does."""

    _show, _start = ConfigState._show, ConfigState._start
    load = ConfigState.event_handlers["load"].fn
    reveal = ConfigState.event_handlers["reveal"].fn
    rotate = ConfigState.event_handlers["rotate"].fn

    def __init__(self, actor):
        self.actor = actor
        for name, var in ConfigState.get_fields().items():
            if name in ConfigState.base_vars and not name.startswith("_"):
                setattr(self, name, var.default)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def signed_in(self) -> bool:
        return True

    async def run(self, service, *args, **kwargs):
        return await asyncio.to_thread(service, self.actor, *args, **kwargs)


def test_the_handlers_that_call_services_are_background_events():
    assert all(ConfigState.event_handlers[name].is_background for name in ("load", "reveal", "rotate"))


def test_an_admin_sees_the_webhook_reveals_and_rotates_its_secret(admin, local_run):
    page = PageDouble(admin)
    asyncio.run(page.load())
    secret = (local_run / "webhook.key").read_bytes().hex()
    assert page.url.endswith("/webhooks/whatsapp") and page.url.startswith("http")
    assert (page.denied, page.loading, page.can_rotate, page.revealed) == ("", False, True, "")
    assert secret not in page.masked_secret and "webhook.key" in page.source_label
    asyncio.run(page.reveal())
    assert page.revealed == secret and not page.busy
    asyncio.run(page.rotate())
    assert page.revealed == "" and not page.busy and not page.rotate_open
    assert (local_run / "webhook.key").read_bytes().hex() != secret


def test_other_roles_get_the_admins_only_state_and_no_secret(operator):
    page = PageDouble(operator)
    asyncio.run(page.load())
    assert page.denied == admin_config.DENIED and not page.loading and page.masked_secret == ""


def test_the_page_draws_the_card_and_the_rotation_warning():
    rendered = str(admin_config._webhook_card().render())
    assert "webhook-url" in rendered and "webhook-reveal" in rendered and "webhook-rotate-confirm" in rendered
    assert "Deliveries signed with the old secret will be refused" in rendered
