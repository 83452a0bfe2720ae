"""What the app does before serving: the embedded database (local), tables, the first admin."""
from __future__ import annotations

import logging

from backend.models import configure_models
from backend.models.schema import init_db
from backend.runtime import dynamodb_local
from backend.services.platform.users import ensure_bootstrap_admin
from backend.settings import get_settings

log = logging.getLogger(__name__)


def start_local_runtime() -> dynamodb_local.DynamoDBLocal | None:
    """Bring up everything the app needs; returns the DynamoDB Local this process started, if any."""
    settings = get_settings()
    started = None
    if dynamodb_local.uses_embedded(settings):
        local = dynamodb_local.for_settings(settings)
        if local.ensure_running():
            started = local
            log.info("started DynamoDB Local at %s", local.endpoint)
    configure_models(settings)
    for line in init_db(settings):
        log.info("init-db: %s", line)
    ensure_bootstrap_admin()
    return started
