"""/admin/config without a browser: an Admin sees the webhook's URL, source and masked secret, reveals it and
rotates it, and sees, edits, resets and reads the history of the typed settings, through the page's own
(background) handlers (a refusal shows under the field it names); anyone else gets the "Admins only" state."""
from __future__ import annotations

import asyncio

import pytest

from backend.services.platform import settings_catalog
from wecare_app.pages import admin_config
from wecare_app.pages.admin_config import ConfigState, SettingsState
from tests.unit.state_double import StateDouble


@pytest.fixture(autouse=True)
def _local(local_run):
    """Every test here is a local run with the data dir's own secret (conftest's local_run)."""
    return local_run


class PageDouble(StateDouble):
    """ConfigState's handlers run outside Reflex: vars are attributes, the lock is a no-op, `run` calls the
    service as `actor` on a worker thread as SessionState.run does."""

    state = ConfigState

    _show, _start = ConfigState._show, ConfigState._start
    load = ConfigState.event_handlers["load"].fn
    reveal = ConfigState.event_handlers["reveal"].fn
    rotate = ConfigState.event_handlers["rotate"].fn


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


# ---------------------------------------------------------------- the settings (the catalog)


class SettingsDouble(PageDouble):
    """SettingsState's handlers outside Reflex, as PageDouble does for the webhook card."""

    state = SettingsState

    _replace, _change = SettingsState._replace, SettingsState._change
    load = SettingsState.event_handlers["load"].fn
    save = SettingsState.event_handlers["save"].fn
    reset_to_default = SettingsState.event_handlers["reset_to_default"].fn
    show_history = SettingsState.event_handlers["show_history"].fn
    set_draft = SettingsState.event_handlers["set_draft"].fn

    def row(self, key: str) -> dict:
        return next(row for row in self.settings if row["key"] == key)


def test_the_settings_handlers_are_background_events():
    assert all(SettingsState.event_handlers[name].is_background for name in ("load", "save", "reset_to_default", "show_history"))
    assert not SettingsState.event_handlers["set_draft"].is_background  # it only edits a draft


def test_an_admin_sees_every_setting_grouped_with_its_default(admin):
    page = SettingsDouble(admin)
    asyncio.run(page.load())
    assert not page.settings_loading
    assert {row["key"] for row in page.settings} == set(settings_catalog.CATALOG)
    rate = page.row("rateLimit.whatsapp")
    assert (rate["draft_a"], rate["draft_b"], rate["is_default"], rate["changed"]) == ("80", "80", True, "")
    assert rate["default_text"] == "80 a second, bursts of 80" and rate["group"] == "Rate limits"
    mode = page.row("sendMode")
    assert not mode["can_edit"] and "WECARE_SEND_MODE" in mode["edit_reason"] and mode["value_text"] == "SANDBOX"
    assert page.row("bulk.quietHours")["draft_on"] is False


def test_a_bad_value_shows_under_its_field_and_a_good_one_is_saved(admin):
    page = SettingsDouble(admin)
    asyncio.run(page.load())
    page.set_draft("rateLimit.sms", "draft_b", "0.5")
    asyncio.run(page.save("rateLimit.sms"))
    row = page.row("rateLimit.sms")
    assert row["error_b"] and "1" in row["error_b"] and row["error_a"] == row["error"] == "" and page.saving_key == ""
    assert settings_catalog.get_setting(admin, "rateLimit.sms").is_default
    page.set_draft("rateLimit.sms", "draft_a", "3")
    assert page.row("rateLimit.sms")["error_b"] == ""  # an edit clears the refusal
    page.set_draft("rateLimit.sms", "draft_b", "6")
    asyncio.run(page.save("rateLimit.sms"))
    row = page.row("rateLimit.sms")
    assert (row["draft_a"], row["draft_b"], row["is_default"]) == ("3", "6", False)
    assert row["changed"].startswith("Changed by u-admin on ")
    assert settings_catalog.get_setting(admin, "rateLimit.sms").value == {"perSecond": 3, "burst": 6}


def test_quiet_hours_are_switched_on_with_their_fields_checked_then_reset(admin):
    page = SettingsDouble(admin)
    asyncio.run(page.load())
    page.set_draft("bulk.quietHours", "draft_on", True)
    page.set_draft("bulk.quietHours", "draft_c", "Atlantis/Nowhere")
    asyncio.run(page.save("bulk.quietHours"))
    assert "time zone" in page.row("bulk.quietHours")["error_c"]
    page.set_draft("bulk.quietHours", "draft_c", "Europe/Berlin")
    asyncio.run(page.save("bulk.quietHours"))
    row = page.row("bulk.quietHours")
    assert row["value_text"].startswith("21:00–08:00 (Europe/Berlin") and row["draft_on"] is True
    asyncio.run(page.show_history("bulk.quietHours"))
    assert page.history_open and page.history[0]["after"].startswith("21:00–08:00") and page.history[0]["actor"] == admin.email
    asyncio.run(page.reset_to_default("bulk.quietHours"))
    row = page.row("bulk.quietHours")
    assert (row["draft_on"], row["is_default"], row["value_text"]) == (False, True, "None")


def test_a_whole_number_setting_refuses_a_fraction_under_the_setting(admin):
    page = SettingsDouble(admin)
    asyncio.run(page.load())
    page.set_draft("bulk.confirmThreshold", "draft_a", "2.5")
    asyncio.run(page.save("bulk.confirmThreshold"))
    assert "integer" in page.row("bulk.confirmThreshold")["error"]
    page.set_draft("ai.autoReply.enabled", "draft_on", True)
    asyncio.run(page.save("ai.autoReply.enabled"))
    assert page.row("ai.autoReply.enabled")["value_text"] == "On"


def test_other_roles_get_no_settings(operator):
    page = SettingsDouble(operator)
    result = asyncio.run(page.load())
    assert page.settings == [] and not page.settings_loading and result is None


def test_the_page_draws_the_settings_cards():
    rendered = str(admin_config.admin_config_page().render())
    assert "settings-section" in rendered and "Reset to default" in rendered and "webhook-url" in rendered
    assert all(group in rendered for group in settings_catalog.GROUPS)
