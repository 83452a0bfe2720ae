"""/admin/rate-limits without a browser: an Admin sees each channel's sender with its limit, what is free now and
what was held back today, edits a limit in place (for the channel or that sender alone; a refusal shows under the
box it names) and goes back to the channel's limit, through the page's own (background) handlers; anyone else
gets the "Admins only" state."""
from __future__ import annotations

import asyncio
import time

from backend.services.platform import rate_limit, settings_catalog
from backend.settings import get_settings
from wecare_app.pages import admin_rate_limits
from wecare_app.pages.admin_rate_limits import RateLimitsState
from tests.unit.state_double import StateDouble


class PageDouble(StateDouble):
    """RateLimitsState's handlers outside Reflex: vars are attributes, the lock is a no-op, `run` calls the
    service as `actor` on a worker thread as SessionState.run does."""

    state = RateLimitsState

    _show, _refresh, _change = RateLimitsState._show, RateLimitsState._refresh, RateLimitsState._change
    open_page = RateLimitsState.event_handlers["open_page"].fn
    save_edit = RateLimitsState.event_handlers["save_edit"].fn
    use_channel_limit = RateLimitsState.event_handlers["use_channel_limit"].fn
    start_edit = RateLimitsState.event_handlers["start_edit"].fn
    cancel_edit = RateLimitsState.event_handlers["cancel_edit"].fn
    set_edit_per_second = RateLimitsState.event_handlers["set_edit_per_second"].fn
    set_edit_burst = RateLimitsState.event_handlers["set_edit_burst"].fn
    set_edit_scope = RateLimitsState.event_handlers["set_edit_scope"].fn

    def row(self, channel: str) -> dict:
        return next(row for row in self.rows if row["channel"] == channel)


def test_the_handlers_that_call_services_are_background_events():
    assert all(RateLimitsState.event_handlers[name].is_background for name in ("open_page", "follow", "save_edit", "use_channel_limit"))


def test_an_admin_sees_each_sender_its_bucket_and_what_waited_today(admin, messaging):
    sender = get_settings().sms_origination_identity
    # a slow refill, so a loaded machine does not find the bucket full again before the page reads it
    settings_catalog.update_setting(admin, "rateLimit.sms", {"perSecond": 0.05, "burst": 4})
    now = time.time()
    for _ in range(6):
        rate_limit.take("sms", sender, now)
    page = PageDouble(admin)
    assert asyncio.run(page.open_page()) is RateLimitsState.follow  # then it follows live
    assert (page.loading, page.denied, page.error) == (False, "", "")
    assert [row["channel"] for row in page.rows] == ["whatsapp", "sms", "email", "voice"]
    sms = page.row("sms")
    assert (sms["sender"], sms["limit"], sms["burst"], sms["throttled"]) == (sender, "0.05/s", "bursts of 4", "2")
    assert sms["headroom"] < 100 and sms["available"].endswith("of 4 free") and sms["own"] is False
    assert sms["changed"].startswith("changed by u-admin on ")
    email = page.row("email")
    assert email["sender"] == get_settings().aws_region and get_settings().email_from in email["sender_note"]
    assert page.row("whatsapp")["changed"] == "default" and page.row("whatsapp")["throttled"] == "0"


def test_a_limit_is_edited_in_place_with_the_refusal_under_its_box(admin, messaging):
    page = PageDouble(admin)
    asyncio.run(page.open_page())
    page.start_edit("voice")
    assert (page.editing, page.edit_per_second, page.edit_burst, page.edit_scope) == ("voice", "1", "1", "channel")
    page.set_edit_per_second("-3")
    asyncio.run(page.save_edit())
    assert page.edit_error_a and page.editing == "voice" and not page.saving
    assert settings_catalog.get_setting(admin, "rateLimit.voice").is_default
    page.set_edit_per_second("4")
    page.set_edit_burst("0")
    asyncio.run(page.save_edit())
    assert page.edit_error_b and page.edit_error_a == ""
    page.set_edit_burst("")
    asyncio.run(page.save_edit())
    assert page.editing == "" and page.row("voice")["limit"] == "4/s" and page.row("voice")["burst"] == "bursts of 4"
    assert rate_limit.bucket_config("voice") == rate_limit.BucketConfig(4, 4)


def test_a_senders_own_limit_and_back_to_the_channels(admin, messaging):
    sender = get_settings().whatsapp_phone_number_id
    page = PageDouble(admin)
    asyncio.run(page.open_page())
    page.start_edit("whatsapp")
    page.set_edit_per_second("7")
    page.set_edit_burst("9")
    page.set_edit_scope("sender")
    asyncio.run(page.save_edit())
    row = page.row("whatsapp")
    assert (row["own"], row["limit"], row["scope_label"]) == (True, "7/s", "This sender's own limit")
    assert rate_limit.bucket_config("whatsapp", sender) == rate_limit.BucketConfig(7, 9)
    assert rate_limit.bucket_config("whatsapp") == rate_limit.default_config("whatsapp")
    asyncio.run(page.use_channel_limit("whatsapp", sender))
    assert page.row("whatsapp")["own"] is False and page.row("whatsapp")["limit"] == "80/s"
    [reset, change] = settings_catalog.setting_history(admin, rate_limit.sender_key("whatsapp", sender))
    assert (reset.action, change.action) == ("reset", "changed")


def test_other_roles_get_the_admins_only_state(operator, messaging):
    page = PageDouble(operator)
    assert asyncio.run(page.open_page()) is None
    assert page.denied == admin_rate_limits.DENIED and page.rows == [] and not page.loading


def test_the_page_draws_the_table_and_the_editor():
    rendered = str(admin_rate_limits.rate_limits_page().render())
    assert "Held back today" in rendered and "rate-edit-per-second" in rendered and "rate-edit-save" in rendered
