"""Deployment settings from CDK context: defaults, the CLI's string flags, and names AWS would reject."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from backend.settings import SendMode
from infra.stage_config import DEFAULT_CALLBACK_URL, StageConfig


def _config(**context) -> StageConfig:
    return StageConfig.from_context(cdk.App(context=context).node)


def test_defaults_describe_a_dev_stage_served_from_localhost():
    config = _config()
    assert (config.stage, config.table_prefix, config.install_deps) == ("dev", "wecare-dev-", False)
    assert config.callback_url == DEFAULT_CALLBACK_URL
    assert config.web_origin == "http://localhost:3000" and config.sign_out_url == "http://localhost:3000/login"
    assert config.send_mode is SendMode.SANDBOX


def test_cli_context_strings_are_parsed():
    config = _config(
        stage="prod", install_deps="true", send_mode="live", callback_url="https://app.example.test/auth/callback"
    )
    assert config.table_prefix == "wecare-prod-"
    assert config.install_deps is True
    assert config.send_mode is SendMode.LIVE
    assert config.web_origin == "https://app.example.test"


@pytest.mark.parametrize(
    "context",
    [
        {"stage": "Prod_1"},
        {"install_deps": "sometimes"},
        {"send_mode": "loud"},
        {"callback_url": "http://app.example.test/auth/callback"},  # Cognito allows plain http only for localhost
        {"callback_url": "/auth/callback"},
    ],
)
def test_bad_context_is_refused_before_synth(context):
    with pytest.raises(ValueError):
        _config(**context)
