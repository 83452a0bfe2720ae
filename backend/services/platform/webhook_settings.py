"""The inbound WhatsApp webhook's settings as an Admin sees them, and the one place its signing secret is read.

Where the secret comes from decides what can be done with it:
- WECARE_WHATSAPP_WEBHOOK_SECRET (the environment: a .env file, or the deployment's secrets) wins; the app cannot
  change it, so the view says where to.
- A local run without it makes its own under the data dir (webhook.key, 0600, printed once at first start). That
  one an Admin can rotate here: a new random secret is written to a temporary file and renamed over the old one
  (atomic: a delivery reads the old secret or the new, never half of one), and the next delivery checks against
  it, so requests signed with the old secret are refused from then on.
- Anywhere else, no secret means no delivery is accepted.

The secret is read once per process and read again only when the file changes (a stat per delivery, no read):
a rotation done by another process on the same data dir is seen too. Revealing and rotating are audited
(resource webhook#whatsapp); the secret itself is never logged nor put in an audit row.
"""
from __future__ import annotations

import os
import threading
from enum import Enum
from pathlib import Path

from pydantic import BaseModel

from backend.adapters.session_tokens import WEBHOOK_KEY_FILE, local_webhook_secret, stage_new_key
from backend.errors import Conflict
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.audit import audit_row
from backend.settings import Settings, get_settings

WEBHOOK_PATH = "/webhooks/whatsapp"
SECRET_VARIABLE = "WECARE_WHATSAPP_WEBHOOK_SECRET"
META_SECRET_VARIABLE = "WECARE_META_APP_SECRET"
RESOURCE = "webhook"
RESOURCE_ID = "whatsapp"
SHOWN_TAIL = 4  # characters of a long secret the masked form keeps, so two secrets can be told apart
_MASK = "•" * 12


class SecretSource(str, Enum):
    ENVIRONMENT = "environment"
    LOCAL_FILE = "local_file"
    NONE = "none"


class WebhookInfo(BaseModel):
    """What the settings page shows: the path to give the provider, where the secret comes from and what can be
    done with it (each "can" with its reason when it cannot)."""

    path: str
    source: SecretSource
    source_label: str
    configured: bool
    masked_secret: str
    can_reveal: bool
    can_rotate: bool
    rotate_reason: str
    meta_secret_configured: bool  # Meta's own format (X-Hub-Signature-256) is checked with WECARE_META_APP_SECRET


# ---------------------------------------------------------------- the secret (no role: the webhook door reads it)


def source_of(settings: Settings) -> SecretSource:
    if settings.whatsapp_webhook_secret is not None:
        return SecretSource.ENVIRONMENT
    return SecretSource.LOCAL_FILE if settings.is_local else SecretSource.NONE


def key_path(settings: Settings) -> Path:
    return settings.data_dir / WEBHOOK_KEY_FILE


def signing_secret(settings: Settings | None = None) -> bytes | None:
    """The secret that signs our envelope's deliveries, or None (nothing is accepted)."""
    settings = settings or get_settings()
    source = source_of(settings)
    if source is SecretSource.ENVIRONMENT:
        return settings.whatsapp_webhook_secret.get_secret_value().encode()
    if source is SecretSource.LOCAL_FILE:
        return _local_secret(settings.data_dir)
    return None


def ensure_local_secret(settings: Settings) -> tuple[bytes, bool] | None:
    """The local file secret, made now if missing, and whether it was; None when the secret comes from elsewhere."""
    if source_of(settings) is not SecretSource.LOCAL_FILE:
        return None
    return local_webhook_secret(settings.data_dir)


_cache: dict[Path, tuple[tuple[int, int, int] | None, bytes]] = {}
_cache_lock = threading.Lock()


def _local_secret(data_dir: Path) -> bytes:
    """The file's secret, read again only when the file is a new one (a rotation renames a new one in). The
    file is looked at before it is read, so a rotation landing in between is read again on the next delivery."""
    path = data_dir / WEBHOOK_KEY_FILE
    stamp = _stamp(path)
    with _cache_lock:
        hit = _cache.get(path)
    if hit is not None and stamp is not None and hit[0] == stamp:
        return hit[1]
    secret = local_webhook_secret(data_dir)[0]  # made here if no start-up has made it yet
    with _cache_lock:
        _cache[path] = (stamp or _stamp(path), secret)
    return secret


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def forget_cached_secret() -> None:
    """Read the file again on the next delivery (a rotation here, or tests)."""
    with _cache_lock:
        _cache.clear()


# ---------------------------------------------------------------- the settings page (Admins)


def webhook_info(actor: Actor) -> WebhookInfo:
    require(actor, Operation.CONFIG_MANAGE)
    settings = get_settings()
    source = source_of(settings)
    secret = signing_secret(settings)
    can_rotate, rotate_reason = _rotation(source)
    return WebhookInfo(
        path=WEBHOOK_PATH,
        source=source,
        source_label=_source_label(source, settings),
        configured=secret is not None,
        masked_secret=_masked(secret.decode()) if secret is not None else "",
        can_reveal=secret is not None,
        can_rotate=can_rotate,
        rotate_reason=rotate_reason,
        meta_secret_configured=settings.meta_app_secret is not None,
    )


def reveal_secret(actor: Actor) -> str:
    """The secret in full, to give the provider; audited before it is returned."""
    require(actor, Operation.CONFIG_MANAGE)
    settings = get_settings()
    secret = signing_secret(settings)
    if secret is None:
        raise Conflict(f"No webhook secret is configured: set {SECRET_VARIABLE}.", field="secret")
    _audit(actor, "webhook.secret.reveal", source_of(settings))
    return secret.decode()


def rotate_secret(actor: Actor) -> WebhookInfo:
    """Replace the local file secret with a new random one; deliveries signed with the old one are refused from
    the next one on. The new file is written first, the audit row next, and only then renamed into place, so a
    failed audit leaves the old secret in force."""
    require(actor, Operation.CONFIG_MANAGE)
    settings = get_settings()
    source = source_of(settings)
    can_rotate, reason = _rotation(source)
    if not can_rotate:
        raise Conflict(reason, field="secret")
    path = key_path(settings)
    staged = stage_new_key(path)
    try:
        _audit(actor, "webhook.secret.rotate", source)
        os.replace(staged, path)
        _sync_folder(path.parent)
    finally:
        if staged.exists():
            staged.unlink()
    forget_cached_secret()
    return webhook_info(actor)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable: after a crash the file holds the secret the audit says it holds."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rotation(source: SecretSource) -> tuple[bool, str]:
    """Whether the app can rotate the secret, and if not, where it is changed."""
    if source is SecretSource.LOCAL_FILE:
        return True, ""
    if source is SecretSource.ENVIRONMENT:
        return False, (f"This secret is set by {SECRET_VARIABLE} (the .env file, or the deployment's secrets in AWS): "
                       "change it there and restart the app.")
    return False, f"No secret is configured, so every delivery is refused: set {SECRET_VARIABLE} where the app is deployed."


def _source_label(source: SecretSource, settings: Settings) -> str:
    if source is SecretSource.ENVIRONMENT:
        return f"{SECRET_VARIABLE} (environment or deployment secrets)"
    if source is SecretSource.LOCAL_FILE:
        return f"Local file {key_path(settings)} (made at first start)"
    return "Not configured"


def _masked(secret: str) -> str:
    """Bullets, with the last few characters of a long secret; a short one shows nothing of itself."""
    return _MASK + secret[-SHOWN_TAIL:] if len(secret) >= 16 else _MASK


def _audit(actor: Actor, action: str, source: SecretSource) -> None:
    audit_row(actor, action, RESOURCE, RESOURCE_ID, ["secret"], {"source": source.value}).save()
