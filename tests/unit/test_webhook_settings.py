"""The webhook's settings for Admins: where the secret comes from, masked; revealed and rotated only by an Admin,
both audited; a rotation of the local file secret changes what the webhook accepts at once (the old signature
is refused, the new one accepted), and a secret set in the environment is not the app's to rotate."""
from __future__ import annotations

import stat

import pytest

from backend.api.whatsapp_webhook import UnsignedWebhook, verify_webhook
from backend.errors import Conflict, PermissionDenied
from backend.models.audit import AuditLogModel
from backend.adapters.session_tokens import stage_new_key
from backend.services.platform import webhook_settings
from backend.services.platform.audit import resource_history
from backend.services.platform.webhook_settings import SecretSource
from backend.settings import get_settings, reset_settings_cache
from tests.whatsapp_events import signed_webhook_headers

BODY = b'{"hello": "webhook"}'
ENV_SECRET = "an-environment-secret-0123456789"




@pytest.fixture
def env_secret(monkeypatch):
    monkeypatch.setenv("WECARE_WHATSAPP_WEBHOOK_SECRET", ENV_SECRET)
    reset_settings_cache()
    yield
    reset_settings_cache()


def headers(secret: str) -> dict[str, str]:
    return {k.lower(): v for k, v in signed_webhook_headers(secret, BODY).items()}


def history():
    return resource_history(webhook_settings.RESOURCE, webhook_settings.RESOURCE_ID)


def test_only_admins_see_reveal_or_rotate_the_secret(local_run, operator, viewer):
    for actor in (operator, viewer):
        for service in (webhook_settings.webhook_info, webhook_settings.reveal_secret, webhook_settings.rotate_secret):
            with pytest.raises(PermissionDenied):
                service(actor)
    assert history() == []


def test_a_local_run_shows_its_file_secret_masked_and_rotatable(local_run, admin):
    info = webhook_settings.webhook_info(admin)
    secret = (local_run / "webhook.key").read_bytes().hex()
    assert (info.path, info.source, info.configured, info.can_rotate, info.can_reveal) == ("/webhooks/whatsapp", SecretSource.LOCAL_FILE, True, True, True)
    assert str(local_run / "webhook.key") in info.source_label
    assert secret not in info.masked_secret and info.masked_secret.endswith(secret[-4:])
    assert secret[:-4] not in info.model_dump_json()


def test_reveal_gives_the_secret_that_verifies_and_is_audited_without_it(local_run, admin):
    revealed = webhook_settings.reveal_secret(admin)
    assert verify_webhook(headers(revealed), BODY) == "envelope"
    (entry,) = history()
    assert (entry.action, entry.actor_email, entry.details) == ("webhook.secret.reveal", admin.email, {"source": "local_file"})
    assert not any(revealed in str(row.serialize()) for row in AuditLogModel.scan())


def test_rotating_refuses_the_old_signature_and_accepts_the_new_one(local_run, admin):
    old = webhook_settings.reveal_secret(admin)
    assert verify_webhook(headers(old), BODY) == "envelope"  # the old secret is cached by now
    info = webhook_settings.rotate_secret(admin)
    new = webhook_settings.reveal_secret(admin)
    assert new != old and info.masked_secret.endswith(new[-4:])
    with pytest.raises(UnsignedWebhook):
        verify_webhook(headers(old), BODY)
    assert verify_webhook(headers(new), BODY) == "envelope"
    key = local_run / "webhook.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_bytes().hex() == new
    assert sorted(p.name for p in local_run.iterdir()) == ["webhook.key"]  # no staged file left behind
    assert [entry.action for entry in history()] == ["webhook.secret.reveal", "webhook.secret.rotate", "webhook.secret.reveal"]


def test_a_rotation_by_another_process_is_seen_by_the_next_delivery(local_run, admin):
    """The cache follows the file, not this process's own calls: a key renamed in by someone else is read."""
    old = webhook_settings.reveal_secret(admin)
    assert verify_webhook(headers(old), BODY) == "envelope"
    staged = stage_new_key(local_run / "webhook.key")
    staged.replace(local_run / "webhook.key")
    with pytest.raises(UnsignedWebhook):
        verify_webhook(headers(old), BODY)
    assert verify_webhook(headers((local_run / "webhook.key").read_bytes().hex()), BODY) == "envelope"


def test_a_failed_audit_leaves_the_old_secret_in_force(local_run, admin, monkeypatch):
    old = webhook_settings.reveal_secret(admin)

    def audit_fails(*_args):
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(webhook_settings, "_audit", audit_fails)
    with pytest.raises(RuntimeError):
        webhook_settings.rotate_secret(admin)
    assert verify_webhook(headers(old), BODY) == "envelope"
    assert sorted(p.name for p in local_run.iterdir()) == ["webhook.key"]


def test_an_environment_secret_is_shown_masked_but_not_rotatable(env_secret, admin):
    info = webhook_settings.webhook_info(admin)
    assert (info.source, info.can_rotate, info.configured) == (SecretSource.ENVIRONMENT, False, True)
    assert "WECARE_WHATSAPP_WEBHOOK_SECRET" in info.rotate_reason and ENV_SECRET not in info.model_dump_json()
    with pytest.raises(Conflict):
        webhook_settings.rotate_secret(admin)
    assert webhook_settings.reveal_secret(admin) == ENV_SECRET
    assert [entry.action for entry in history()] == ["webhook.secret.reveal"]


def test_without_a_secret_outside_a_local_run_nothing_can_be_revealed_or_rotated(monkeypatch, admin):
    monkeypatch.delenv("WECARE_WHATSAPP_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("WECARE_ENV", "aws")
    reset_settings_cache()
    try:
        info = webhook_settings.webhook_info(admin)
        assert (info.source, info.configured, info.can_rotate, info.can_reveal, info.masked_secret) == (SecretSource.NONE, False, False, False, "")
        for service in (webhook_settings.reveal_secret, webhook_settings.rotate_secret):
            with pytest.raises(Conflict):
                service(admin)
        assert history() == []
    finally:
        reset_settings_cache()


def test_start_up_prints_the_new_secret_once(local_run, capsys):
    from backend.runtime.startup import announce_webhook_secret

    announce_webhook_secret(get_settings())
    printed = capsys.readouterr().out
    assert (local_run / "webhook.key").read_bytes().hex() in printed and "/admin/config" in printed
    announce_webhook_secret(get_settings())
    assert capsys.readouterr().out == ""
