"""Pointing the models at a table back-end: moto (unit) or DynamoDB Local (integration)."""
from __future__ import annotations

import os

from backend.models import configure_models
from backend.models.schema import init_db
from backend.services.platform.users import reset_session_signer
from backend.settings import get_settings, reset_settings_cache


def use_backend(env: str, endpoint: str | None, prefix: str) -> None:
    os.environ["WECARE_ENV"] = env
    os.environ["WECARE_TABLE_PREFIX"] = prefix
    if endpoint:
        os.environ["WECARE_DYNAMODB_ENDPOINT"] = endpoint
    else:
        os.environ.pop("WECARE_DYNAMODB_ENDPOINT", None)
    reset_settings_cache()
    reset_session_signer()
    configure_models(get_settings())
    init_db(get_settings())
