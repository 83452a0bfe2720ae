"""What the app does before serving: the embedded database (local), tables, the first admin."""
from __future__ import annotations

import logging

from backend.adapters.session_tokens import WEBHOOK_KEY_FILE, local_webhook_secret
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
    announce_webhook_secret(settings)
    return started


def announce_webhook_secret(settings) -> None:
    """Local inbound works out of the box: without a configured secret, one is made at first start and printed
    once, with the URL to post to (it stays in the data dir; delete the file and restart to rotate it)."""
    if settings.whatsapp_webhook_secret is not None or not settings.is_local:
        return
    secret, made = local_webhook_secret(settings.data_dir)
    if made:
        print(
            "\n  WECARE first run: WhatsApp webhooks go to POST http://localhost:8000/webhooks/whatsapp, signed with\n"
            f"  the secret {secret.decode()} (X-Wecare-Timestamp + X-Wecare-Signature-256; see the README).\n"
            f"  It is kept in {settings.data_dir / WEBHOOK_KEY_FILE}; set WECARE_WHATSAPP_WEBHOOK_SECRET to use your own.\n",
            flush=True,
        )
