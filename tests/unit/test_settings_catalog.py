"""The settings catalog: every setting is checked (a refusal names the key or `key.part` and changes nothing),
stored in the shape its reader reads and obeyed by that reader at once, audited with before and after, reset
to its default, listed with who changed it, and refused to anyone but an Admin; the REST endpoints answer the
same."""
from __future__ import annotations

from datetime import timedelta

import pytest

from backend.api import config_api
from backend.api.http import ApiRequest, invoke
from backend.errors import Conflict, NotFound, PermissionDenied, ValidationError
from backend.models.audit import AuditLogModel
from backend.models.runtime_config import SystemConfigModel
from backend.services.campaigns import jobs
from backend.services.messaging import outbox, quiet_hours
from backend.services.platform import rate_limit, settings_catalog, system_config, users
from backend.services.platform.access import Actor, Operation, Role
from backend.services.platform.audit import resource_history
from backend.services.platform.settings_catalog import CATALOG, Kind

EDITABLE = [key for key, setting in CATALOG.items() if setting.editable]

# Per editable setting: a good value (as the page or the API gives it), the stored shape, and bad values with
# the field each refusal must name.
GOOD = {
    "outbox.sendBy": (6, {"hours": 6}),
    "rateLimit.whatsapp": ({"perSecond": 5, "burst": 10}, {"perSecond": 5, "burst": 10}),
    "rateLimit.sms": ({"perSecond": "2.5"}, {"perSecond": 2.5, "burst": 2.5}),
    "rateLimit.email": ({"perSecond": 0.5}, {"perSecond": 0.5, "burst": 1}),
    "rateLimit.voice": ({"perSecond": 3, "burst": 3}, {"perSecond": 3, "burst": 3}),
    "bulk.confirmThreshold": ("150", {"recipients": 150}),
    "bulk.quietHours": ({"start": "21:30", "end": "07:00", "timeZone": "Europe/Paris"},
                        {"start": "21:30", "end": "07:00", "timeZone": "Europe/Paris"}),
    "ai.autoReply.enabled": (True, True),
    "ai.confidenceThreshold": (0.8, 0.8),
    "ai.autoReply.perContactPerDay": (5, 5),
    "ai.reply.closing": ("  Anything else we can do?  ", "Anything else we can do?"),
    "ai.systemPrompt": ("Answer from the passages only; otherwise say NO_ANSWER.", "Answer from the passages only; otherwise say NO_ANSWER."),
    "defaultRegion": (" in ", "IN"),
}
BAD = {
    "outbox.sendBy": [(0, "outbox.sendBy"), (-2, "outbox.sendBy"), ("soon", "outbox.sendBy"), (True, "outbox.sendBy"),
                      (10_000, "outbox.sendBy")],
    "rateLimit.whatsapp": [({"perSecond": 0}, "rateLimit.whatsapp.perSecond"), ({"perSecond": "fast"}, "rateLimit.whatsapp.perSecond"),
                           ({"perSecond": 5, "burst": 0.5}, "rateLimit.whatsapp.burst"), ({"burst": 5}, "rateLimit.whatsapp.perSecond"),
                           ({"perSecond": 5, "rate": 1}, "rateLimit.whatsapp.rate"), (80, "rateLimit.whatsapp")],
    "rateLimit.sms": [({"perSecond": "inf"}, "rateLimit.sms.perSecond"), ({"perSecond": True}, "rateLimit.sms.perSecond")],
    "rateLimit.email": [({"perSecond": 1e9}, "rateLimit.email.perSecond")],
    "rateLimit.voice": [(None, "rateLimit.voice")],
    "bulk.confirmThreshold": [(-1, "bulk.confirmThreshold"), (2.5, "bulk.confirmThreshold"), ("many", "bulk.confirmThreshold"),
                              (False, "bulk.confirmThreshold")],
    "bulk.quietHours": [({"start": "25:00", "end": "07:00"}, "bulk.quietHours.start"),
                        ({"start": "21:00", "end": "21:00"}, "bulk.quietHours.end"),
                        ({"start": "21:00", "end": "07:00", "timeZone": "Mars/Olympus"}, "bulk.quietHours.timeZone"),
                        ({"start": "21:00", "end": "07:00", "zone": "UTC"}, "bulk.quietHours.zone"),
                        ("nights", "bulk.quietHours")],
    "ai.autoReply.enabled": [("maybe", "ai.autoReply.enabled"), (2, "ai.autoReply.enabled")],
    "ai.confidenceThreshold": [(1.5, "ai.confidenceThreshold"), (-0.1, "ai.confidenceThreshold"), ("high", "ai.confidenceThreshold")],
    "ai.autoReply.perContactPerDay": [(51, "ai.autoReply.perContactPerDay"), (-1, "ai.autoReply.perContactPerDay"),
                                      (True, "ai.autoReply.perContactPerDay"), ("many", "ai.autoReply.perContactPerDay")],
    "ai.reply.closing": [("   ", "ai.reply.closing"), ("x" * 301, "ai.reply.closing"), (5, "ai.reply.closing")],
    "ai.systemPrompt": [("Answer kindly.", "ai.systemPrompt"), ("", "ai.systemPrompt"), ("NO_ANSWER " * 500, "ai.systemPrompt")],
    "defaultRegion": [("XX", "defaultRegion"), (44, "defaultRegion"), ("", "defaultRegion"), ("GBR", "defaultRegion")],
}


def test_every_editable_setting_has_a_good_value_and_refusals_here():
    assert set(GOOD) == set(EDITABLE) == set(BAD)


@pytest.mark.parametrize(("key", "value", "field"), [(key, value, field) for key, cases in BAD.items() for value, field in cases])
def test_a_bad_value_is_refused_with_its_field_and_nothing_changes(admin, key, value, field):
    with pytest.raises(ValidationError) as refused:
        settings_catalog.update_setting(admin, key, value)
    assert refused.value.field == field
    assert refused.value.message.startswith(field + ": ") and len(refused.value.message) > len(field) + 4
    assert SystemConfigModel.count(key) == 0
    assert resource_history("config", key) == []


@pytest.mark.parametrize("key", EDITABLE)
def test_a_good_value_is_stored_as_its_reader_reads_it_and_audited(admin, key):
    value, stored = GOOD[key]
    view = settings_catalog.update_setting(admin, key, value)
    assert SystemConfigModel.get(key).value == stored
    assert view.can_edit and not view.is_default and view.updated_by == admin.user_id and view.updated_at is not None
    [entry] = resource_history("config", key)
    assert (entry.action, entry.actor_email, entry.details) == ("config.update", admin.email, {"before": None, "after": stored})


def test_the_readers_obey_a_change_at_once(admin):
    """Each reader has read (and cached) the default; a change through the catalog is what it reads next."""
    assert rate_limit.bucket_config("sms").per_second == 20
    assert jobs.confirm_threshold() == jobs.DEFAULT_CONFIRM_THRESHOLD
    assert quiet_hours.configured() is None
    assert system_config.duration(outbox.SEND_BY_KEY, outbox.DEFAULT_SEND_BY) == timedelta(hours=24)
    settings_catalog.update_setting(admin, "rateLimit.sms", {"perSecond": 4, "burst": 8})
    settings_catalog.update_setting(admin, "bulk.confirmThreshold", 5)
    settings_catalog.update_setting(admin, "bulk.quietHours", {"start": "22:00", "end": "06:00", "timeZone": "Asia/Kolkata"})
    settings_catalog.update_setting(admin, "outbox.sendBy", 2)
    assert rate_limit.bucket_config("sms") == rate_limit.BucketConfig(4, 8)
    assert jobs.confirm_threshold() == 5
    quiet = quiet_hours.configured()
    assert (f"{quiet.start:%H:%M}", f"{quiet.end:%H:%M}", quiet.zone.key) == ("22:00", "06:00", "Asia/Kolkata")
    assert system_config.duration(outbox.SEND_BY_KEY, outbox.DEFAULT_SEND_BY) == timedelta(hours=2)
    settings_catalog.reset_setting(admin, "bulk.confirmThreshold")
    assert jobs.confirm_threshold() == jobs.DEFAULT_CONFIRM_THRESHOLD


def test_the_catalog_defaults_are_the_readers_and_its_rules_are_theirs():
    assert settings_catalog.CONFIRM_DEFAULT == jobs.DEFAULT_CONFIRM_THRESHOLD
    assert timedelta(hours=settings_catalog.SEND_BY_DEFAULT_HOURS) == outbox.DEFAULT_SEND_BY
    for channel, per_second in rate_limit.DEFAULT_PER_SECOND.items():
        assert CATALOG[f"rateLimit.{channel}"].default_value()["perSecond"] == per_second
    assert settings_catalog.parse_quiet_hours is quiet_hours.parse  # one rule: the reader's
    assert (settings_catalog.QUIET_KEY, settings_catalog.CONFIRM_KEY, settings_catalog.SEND_BY_KEY) == (
        quiet_hours.KEY, jobs.CONFIRM_KEY, outbox.SEND_BY_KEY)
    for setting in CATALOG.values():
        assert setting.group in settings_catalog.GROUPS and setting.label and setting.help
        if setting.reader.startswith("backend."):
            __import__(setting.reader)


def test_the_list_shows_every_setting_with_its_default_and_where_the_fixed_ones_are_set(admin):
    listed = settings_catalog.list_settings(admin)
    assert {view.key for view in listed} == set(CATALOG)
    assert [view.group for view in listed] == sorted((v.group for v in listed), key=settings_catalog.GROUPS.index)
    assert all(view.is_default and view.updated_by is None for view in listed)
    by_key = {view.key: view for view in listed}
    assert by_key["bulk.confirmThreshold"].value == 20 and by_key["bulk.confirmThreshold"].value_text == "20 recipients"
    assert by_key["rateLimit.whatsapp"].value == {"perSecond": 80, "burst": 80}
    assert by_key["ai.autoReply.enabled"].value is False and by_key["ai.confidenceThreshold"].value == 0.9
    assert by_key["ai.autoReply.perContactPerDay"].value == 3 and "kill switch" in by_key["ai.autoReply.enabled"].help
    mode, region = by_key["sendMode"], by_key["defaultRegion"]
    assert (mode.value, mode.can_edit, mode.kind) == ("SANDBOX", False, Kind.FIXED.value)
    assert "WECARE_SEND_MODE" in mode.edit_reason and "restart" in mode.edit_reason
    assert (region.value, region.can_edit, region.kind) == ("GB", True, Kind.REGION.value)
    assert "WECARE_DEFAULT_REGION" in region.help


def test_the_default_country_changes_at_once_and_a_bad_code_is_refused(admin, operator):
    from backend.services.contacts.contacts import create_contact

    assert create_contact(operator, {"name": "In Britain", "phone": "07911 123456"}).phone == "+447911123456"
    with pytest.raises(ValidationError) as refused:
        settings_catalog.update_setting(admin, "defaultRegion", "XX")
    assert refused.value.field == "defaultRegion" and "two-letter country code" in refused.value.message
    assert settings_catalog.update_setting(admin, "defaultRegion", "us").value == "US"
    assert settings_catalog.default_region() == "US"
    assert create_contact(operator, {"name": "In America", "phone": "(650) 253-0000"}).phone == "+16502530000"
    settings_catalog.reset_setting(admin, "defaultRegion")
    assert settings_catalog.default_region() == "GB"


def test_an_environment_setting_cannot_be_changed_here(admin):
    for key in ("sendMode",):
        with pytest.raises(Conflict) as refused:
            settings_catalog.update_setting(admin, key, "LIVE")
        assert refused.value.field == key
        with pytest.raises(Conflict):
            settings_catalog.reset_setting(admin, key)
    assert AuditLogModel.count("config#sendMode") == 0


def test_who_changed_it_is_named_by_their_email(admin):
    person = users.create_user(admin, "ops-lead@example.com", "Admin", "correct horse battery")
    lead = Actor(user_id=person.user_id, email=person.email, role=Role.ADMIN)
    settings_catalog.update_setting(lead, "bulk.confirmThreshold", 30)
    view = next(v for v in settings_catalog.list_settings(admin) if v.key == "bulk.confirmThreshold")
    assert (view.value, view.updated_by, view.is_default) == (30, "ops-lead@example.com", False)


def test_reset_goes_back_to_the_default_and_the_history_tells_it_all(admin):
    settings_catalog.update_setting(admin, "rateLimit.voice", {"perSecond": 2, "burst": 4})
    settings_catalog.update_setting(admin, "rateLimit.voice", {"perSecond": 3})
    settings_catalog.update_setting(admin, "rateLimit.voice", {"perSecond": 3, "burst": 3})  # the same: nothing written
    view = settings_catalog.reset_setting(admin, "rateLimit.voice")
    assert view.is_default and view.value == {"perSecond": 1, "burst": 1} and view.updated_by is None
    assert SystemConfigModel.count("rateLimit.voice") == 0
    assert rate_limit.bucket_config("voice") == rate_limit.default_config("voice")
    history = settings_catalog.setting_history(admin, "rateLimit.voice")
    assert [(c.action, c.before, c.after) for c in history] == [
        ("reset", "3 a second, bursts of 3", "1 a second, bursts of 1 (the default)"),
        ("changed", "2 a second, bursts of 4", "3 a second, bursts of 3"),
        ("changed", "1 a second, bursts of 1 (the default)", "2 a second, bursts of 4"),
    ]
    assert all(c.actor == admin.email for c in history)
    [reset] = [e for e in resource_history("config", "rateLimit.voice") if e.action == "config.reset"]
    assert reset.details == {"before": {"perSecond": 3, "burst": 3}, "after": None}
    settings_catalog.reset_setting(admin, "rateLimit.voice")  # nothing stored: nothing to do, nothing audited
    assert len(resource_history("config", "rateLimit.voice")) == 3


def test_a_change_based_on_a_stale_read_is_refused(admin, monkeypatch):
    settings_catalog.update_setting(admin, "bulk.confirmThreshold", 30)
    stale = SystemConfigModel.get("bulk.confirmThreshold")
    settings_catalog.update_setting(admin, "bulk.confirmThreshold", 40)  # another Admin, meanwhile
    monkeypatch.setattr(settings_catalog, "_row", lambda key: stale)
    with pytest.raises(Conflict):
        settings_catalog.update_setting(admin, "bulk.confirmThreshold", 50)
    assert SystemConfigModel.get("bulk.confirmThreshold").value == {"recipients": 40}
    assert len(resource_history("config", "bulk.confirmThreshold")) == 2


def test_a_sender_can_have_its_own_limit(admin):
    key = rate_limit.sender_key("whatsapp", "phone-a")
    view = settings_catalog.update_setting(admin, key, {"perSecond": 2, "burst": 2})
    assert view.label == "WhatsApp rate limit for phone-a" and view.default == {"perSecond": 80, "burst": 80}
    assert rate_limit.bucket_config("whatsapp", "phone-a") == rate_limit.BucketConfig(2, 2)
    assert rate_limit.bucket_config("whatsapp", "phone-b") == rate_limit.BucketConfig(80, 80)
    with pytest.raises(ValidationError) as refused:
        settings_catalog.update_setting(admin, key, {"perSecond": -1})
    assert refused.value.field == key + ".perSecond"
    settings_catalog.reset_setting(admin, key)
    assert rate_limit.bucket_config("whatsapp", "phone-a") == rate_limit.BucketConfig(80, 80)


@pytest.mark.parametrize("key", ["nope", "rateLimit.fax", "rateLimit.fax.x", "rateLimit.off", "inbox.labels", "rateLimit.sms."])
def test_an_unknown_key_is_not_a_setting(admin, key):
    with pytest.raises((NotFound, ValidationError)):
        settings_catalog.update_setting(admin, key, {"perSecond": 1})
    assert SystemConfigModel.count(key) == 0


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_only_an_admin_reads_or_changes_settings(request, who):
    actor = request.getfixturevalue(who)
    assert not actor.can(Operation.CONFIG_MANAGE)
    for call in (lambda: settings_catalog.list_settings(actor),
                 lambda: settings_catalog.update_setting(actor, "bulk.confirmThreshold", 1),
                 lambda: settings_catalog.reset_setting(actor, "bulk.confirmThreshold"),
                 lambda: settings_catalog.setting_history(actor, "bulk.confirmThreshold")):
        with pytest.raises(PermissionDenied):
            call()
    assert SystemConfigModel.count("bulk.confirmThreshold") == 0


# ---------------------------------------------------------------- the REST endpoints


def _request(method: str, key: str, body: bytes = b"") -> ApiRequest:
    return ApiRequest(method, path_params={"key": key}, raw_body=body, headers={"content-type": "application/json"})


def test_the_endpoints_change_reset_and_refuse_with_the_field(admin, operator):
    answer = invoke(config_api.update_setting, admin, _request("PUT", "bulk.confirmThreshold", b'{"value": 75}'), Operation.CONFIG_MANAGE)
    assert answer.status == 200 and answer.body["value"] == 75 and answer.body["isDefault"] is False
    bad = invoke(config_api.update_setting, admin, _request("PUT", "rateLimit.sms", b'{"value": {"perSecond": 0}}'), Operation.CONFIG_MANAGE)
    assert bad.status == 422 and bad.body["error"]["field"] == "rateLimit.sms.perSecond"
    missing = invoke(config_api.update_setting, admin, _request("PUT", "bulk.confirmThreshold", b'{"val": 1}'), Operation.CONFIG_MANAGE)
    assert missing.status == 422
    assert invoke(config_api.update_setting, admin, _request("PUT", "nope", b'{"value": 1}'), Operation.CONFIG_MANAGE).status == 404
    assert invoke(config_api.update_setting, admin, _request("PUT", "sendMode", b'{"value": "LIVE"}'), Operation.CONFIG_MANAGE).status == 409
    listed = invoke(config_api.list_settings, admin, ApiRequest("GET"), Operation.CONFIG_MANAGE)
    assert {item["key"] for item in listed.body["items"]} == set(CATALOG)
    history = invoke(config_api.setting_history, admin, _request("GET", "bulk.confirmThreshold"), Operation.CONFIG_MANAGE)
    assert history.body["items"][0]["after"] == "75 recipients"
    reset = invoke(config_api.reset_setting, admin, _request("DELETE", "bulk.confirmThreshold"), Operation.CONFIG_MANAGE)
    assert reset.status == 200 and reset.body["isDefault"] is True
    assert invoke(config_api.list_settings, operator, ApiRequest("GET"), Operation.CONFIG_MANAGE).status == 403


def test_the_rate_limit_endpoints(admin, messaging):
    request = ApiRequest("PUT", path_params={"channel": "sms"}, raw_body=b'{"perSecond": 3, "burst": 6}',
                         headers={"content-type": "application/json"})
    answer = invoke(config_api.change_rate_limit, admin, request, Operation.CONFIG_MANAGE)
    assert answer.status == 200
    sms = next(row for row in answer.body["senders"] if row["channel"] == "sms")
    assert (sms["perSecond"], sms["burst"], sms["scope"]) == (3, 6, "channel")
    bad = ApiRequest("PUT", path_params={"channel": "fax"}, raw_body=b'{"perSecond": 3}', headers={"content-type": "application/json"})
    refused = invoke(config_api.change_rate_limit, admin, bad, Operation.CONFIG_MANAGE)
    assert refused.status == 422 and refused.body["error"]["field"] == "channel"
    listed = invoke(config_api.list_rate_limits, admin, ApiRequest("GET"), Operation.CONFIG_MANAGE)
    assert {row["channel"] for row in listed.body["senders"]} == {"whatsapp", "sms", "email", "voice"}


def test_a_senders_limit_is_set_and_dropped_through_the_rate_limit_endpoints(admin, messaging):
    from backend.settings import get_settings

    sender = get_settings().whatsapp_phone_number_id
    body = b'{"perSecond": 2, "sender": "%s"}' % sender.encode()
    put = ApiRequest("PUT", path_params={"channel": "whatsapp"}, raw_body=body, headers={"content-type": "application/json"})
    row = next(r for r in invoke(config_api.change_rate_limit, admin, put, Operation.CONFIG_MANAGE).body["senders"] if r["channel"] == "whatsapp")
    assert (row["scope"], row["perSecond"], row["burst"]) == ("sender", 2, 2)
    assert rate_limit.bucket_config("whatsapp", sender) == rate_limit.BucketConfig(2, 2)
    unknown = ApiRequest("PUT", path_params={"channel": "fax"}, raw_body=body, headers={"content-type": "application/json"})
    assert invoke(config_api.change_rate_limit, admin, unknown, Operation.CONFIG_MANAGE).body["error"]["field"] == "channel"
    drop = ApiRequest("DELETE", path_params={"channel": "whatsapp"}, query={"sender": sender})
    row = next(r for r in invoke(config_api.reset_rate_limit, admin, drop, Operation.CONFIG_MANAGE).body["senders"] if r["channel"] == "whatsapp")
    assert (row["scope"], row["perSecond"]) == ("channel", 80)
    assert [e.action for e in resource_history("config", rate_limit.sender_key("whatsapp", sender))] == ["config.reset", "config.update"]
