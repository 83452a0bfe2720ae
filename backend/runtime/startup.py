"""What the app does before serving: the embedded database (local), tables, the first admin."""
from __future__ import annotations

import logging

from botocore.exceptions import ClientError

from backend.models import configure_models
from backend.models.schema import init_db
from backend.runtime import dynamodb_local
from backend.services.ai import knowledge_base
from backend.services.platform.users import ensure_bootstrap_admin
from backend.services.platform.webhook_settings import SECRET_VARIABLE, WEBHOOK_PATH, ensure_local_secret, key_path
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
    try:
        for line in init_db(settings):
            log.info("init-db: %s", line)
    except ClientError as exc:
        if settings.is_local:
            raise
        # AWS: the stack owns the tables and this role may only describe them; serve, and say what to deploy
        log.error("init-db: the tables differ from the models and this role may not change them (%s): deploy the "
                  "stack that matches this image", exc.response.get("Error", {}).get("Code"))
    if not settings.cognito_sign_in:  # under Cognito the pool's Admin group is the first admin
        ensure_bootstrap_admin()
    queued = knowledge_base.resume_indexing()
    if queued:
        log.info("knowledge base: %d document(s) queued for indexing again", queued)
    announce_webhook_secret(settings)
    return started


def announce_webhook_secret(settings) -> None:
    """Local inbound works out of the box: without a configured secret, one is made at first start and printed
    once, with the URL to post to (it stays in the data dir; an Admin sees and rotates it on /admin/config)."""
    local = ensure_local_secret(settings)
    if local is None or not local[1]:
        return
    print(
        f"\n  WECARE first run: WhatsApp webhooks go to POST http://localhost:8000{WEBHOOK_PATH}, signed with\n"
        f"  the secret {local[0].decode()} (X-Wecare-Timestamp + X-Wecare-Signature-256; see the README).\n"
        f"  It is kept in {key_path(settings)} (Admins can rotate it on /admin/config); set {SECRET_VARIABLE}\n"
        "  to use your own.\n",
        flush=True,
    )
