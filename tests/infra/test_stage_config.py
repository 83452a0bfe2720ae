"""Deployment settings from CDK context: defaults, the CLI's string flags, and names AWS would reject."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from backend.settings import SendMode
from infra.stage_config import (
    DEFAULT_API_BURST_LIMIT,
    DEFAULT_API_RATE_LIMIT,
    DEFAULT_CALLBACK_URL,
    DEFAULT_WEB_MAX_TASKS,
    DEFAULT_WEB_TASKS,
    IDENTITY_CONTEXT,
    StageConfig,
)


def _config(**context) -> StageConfig:
    return StageConfig.from_context(cdk.App(context=context).node)


def test_defaults_describe_a_dev_stage_served_from_localhost():
    config = _config()
    assert (config.stage, config.table_prefix, config.install_deps) == ("dev", "wecare-dev-", False)
    assert config.callback_url == DEFAULT_CALLBACK_URL
    assert config.web_origin == "http://localhost:3000" and config.sign_out_url == "http://localhost:3000/login"
    assert config.send_mode is SendMode.LIVE  # AWS sends for real unless the stage says otherwise
    assert (config.whatsapp_phone_number_id, config.whatsapp_waba_id) == (None, None)
    assert config.whatsapp_environment == {} and config.whatsapp_ids_missing
    assert set(config.identities_missing) == {"whatsapp", "sms", "voice", "email"}
    # The backend's defaults are passed on; the identities are not (there are none to pass).
    assert config.sms_environment == {"WECARE_SMS_MESSAGE_TYPE": "TRANSACTIONAL"}
    assert config.voice_environment == {"WECARE_VOICE_DEFAULT_VOICE_ID": "JOANNA"}
    assert config.email_environment == {} and config.email_from_address is None


def test_cli_context_strings_are_parsed():
    config = _config(
        stage="prod", install_deps="true", send_mode="live", callback_url="https://app.example.test/auth/callback"
    )
    assert config.table_prefix == "wecare-prod-"
    assert config.install_deps is True
    assert config.send_mode is SendMode.LIVE
    assert config.web_origin == "https://app.example.test"


def test_whatsapp_ids_come_from_context_and_become_settings():
    config = _config(whatsapp_phone_number_id=" phone-number-id-0123abcd ", whatsapp_waba_id="waba-0123")
    assert config.whatsapp_environment == {
        "WECARE_WHATSAPP_PHONE_NUMBER_ID": "phone-number-id-0123abcd",
        "WECARE_WHATSAPP_WABA_ID": "waba-0123",
    }
    assert not config.whatsapp_ids_missing


def test_a_stage_that_does_not_send_live_needs_no_whatsapp_ids():
    for mode in ("sandbox", "dry_run"):
        config = _config(send_mode=mode)
        assert config.send_mode is not SendMode.LIVE and not config.whatsapp_ids_missing
        assert config.identities_missing == {}


def test_channel_identities_come_from_context_and_become_settings():
    config = _config(
        sms_origination_identity=" pool-0123abcd ",
        sms_message_type="promotional",
        voice_origination_identity="+15555550100",
        voice_default_voice_id="matthew",
        email_from="WECARE.DIGITAL <no-reply@mail.example.test>",
        email_reply_to="support@example.test",
        email_unsubscribe_url="https://app.example.test/unsubscribe",
    )
    assert config.sms_environment == {
        "WECARE_SMS_ORIGINATION_IDENTITY": "pool-0123abcd",
        "WECARE_SMS_MESSAGE_TYPE": "PROMOTIONAL",
    }
    assert config.voice_environment == {
        "WECARE_VOICE_ORIGINATION_IDENTITY": "+15555550100",
        "WECARE_VOICE_DEFAULT_VOICE_ID": "MATTHEW",
    }
    assert config.email_environment == {
        "WECARE_EMAIL_FROM": "WECARE.DIGITAL <no-reply@mail.example.test>",
        "WECARE_EMAIL_REPLY_TO": "support@example.test",
        "WECARE_EMAIL_UNSUBSCRIBE_URL": "https://app.example.test/unsubscribe",
    }
    assert config.email_from_address == "no-reply@mail.example.test"
    assert set(config.identities_missing) == {"whatsapp"}


def test_sign_in_and_api_limits_default_safely_and_come_from_context():
    config = _config()
    assert (config.mfa, config.mfa_required) == ("optional", False)
    assert (config.api_rate_limit, config.api_burst_limit) == (DEFAULT_API_RATE_LIMIT, DEFAULT_API_BURST_LIMIT)
    config = _config(mfa=" Required ", api_rate_limit="12.5", api_burst_limit="25")  # as the CLI passes them
    assert (config.mfa, config.mfa_required) == ("required", True)
    assert (config.api_rate_limit, config.api_burst_limit) == (12.5, 25)
    config = _config(api_rate_limit=20, api_burst_limit=40)  # as cdk.json passes them
    assert (config.api_rate_limit, config.api_burst_limit) == (20, 40)


def test_each_missing_identity_is_named_by_its_context_key():
    config = _config(whatsapp_waba_id="waba-0123", email_from="no-reply@mail.example.test")
    assert config.identities_missing == {
        "whatsapp": ("whatsapp_phone_number_id",),
        "sms": ("sms_origination_identity",),
        "voice": ("voice_origination_identity",),
    }
    assert set(IDENTITY_CONTEXT) == {"whatsapp", "sms", "voice", "email"}


@pytest.mark.parametrize(
    "context",
    [
        {"stage": "Prod_1"},
        {"install_deps": "sometimes"},
        {"send_mode": "loud"},
        {"callback_url": "http://app.example.test/auth/callback"},  # Cognito allows plain http only for localhost
        {"callback_url": "/auth/callback"},
        {"sms_message_type": "marketing"},
        {"voice_default_voice_id": "HAL"},
        {"sms_origination_identity": "my number"},  # not an identity SendTextMessage accepts
        {"email_from": "WECARE.DIGITAL"},  # no address
        {"email_reply_to": "support"},
        {"email_unsubscribe_url": "http://app.example.test/unsubscribe"},  # one-click needs https
        {"mfa": "sms"},
        {"mfa": "off"},  # MFA can be made stricter per stage, never turned off
        {"api_rate_limit": "fast"},
        {"api_rate_limit": "0"},
        {"api_rate_limit": "-5"},
        {"api_rate_limit": "nan"},
        {"api_rate_limit": "1000000"},  # above the account's own quota
        {"api_burst_limit": "12.5"},  # a burst is a whole number of requests
        {"api_burst_limit": "0"},
    ],
)
def test_bad_context_is_refused_before_synth(context):
    with pytest.raises(ValueError):
        _config(**context)


WEB_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wecare-web:2024.06.01"
APP_CALLBACK = "https://app.example.test/auth/callback"


def test_the_web_tier_is_off_by_default_with_two_to_six_tasks():
    config = _config()
    assert (config.web_image, config.web_certificate_arn) == (None, None)
    assert (config.web_tasks, config.web_max_tasks) == (DEFAULT_WEB_TASKS, DEFAULT_WEB_MAX_TASKS) == (2, 6)


def test_web_context_strings_are_parsed():
    config = _config(callback_url=APP_CALLBACK, web_image=f" {WEB_IMAGE} ", web_tasks="3", web_max_tasks=8,
                     web_certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb")
    assert config.web_image == WEB_IMAGE and (config.web_tasks, config.web_max_tasks) == (3, 8)
    assert config.web_certificate_arn == "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb"
    digest = "ghcr.io/example/wecare-web@sha256:" + "0" * 64
    assert _config(callback_url=APP_CALLBACK, web_image=digest).web_image == digest


@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({"web_image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wecare-web"}, "web_image"),  # no tag
        ({"web_image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wecare-web:latest"}, "web_image"),
        ({"web_image": "wecare web:1"}, "web_image"),
        ({"web_certificate_arn": "arn:aws:iam::123456789012:server-certificate/x"}, "web_certificate_arn"),
        ({"web_tasks": "0"}, "web_tasks"),
        ({"web_tasks": "two"}, "web_tasks"),
        ({"web_tasks": "4", "web_max_tasks": "3"}, "web_max_tasks"),
        ({"web_max_tasks": "51"}, "web_max_tasks"),
    ],
)
def test_web_settings_aws_would_reject_or_that_cannot_roll_back_are_refused(context, named):
    with pytest.raises(ValueError, match=named):
        _config(callback_url=APP_CALLBACK, **context)


def test_a_web_tier_needs_the_app_s_own_callback_url():
    with pytest.raises(ValueError, match="callback_url"):
        _config(web_image=WEB_IMAGE)  # the default callback is the local dev server's
