"""What the audit trail records beyond mutations: sign-in (and failed attempts), sign-out, CSV export, template
sync and read receipts. Each row says who, what and when."""
from __future__ import annotations

import pytest

from backend.errors import Unauthenticated
from backend.models.audit import AuditLogModel
from backend.services.channels.whatsapp import templates
from backend.services.messaging import messages
from backend.services.platform import users

PASSWORD = "correct horse battery"


def actions(resource_key: str | None = None) -> list[tuple[str, str]]:
    rows = sorted(AuditLogModel.scan(), key=lambda r: r.sortKey)
    return [(r.action, r.actorId) for r in rows if resource_key is None or r.resourceKey == resource_key]


def test_sign_in_its_failures_and_sign_out_are_audited(admin):
    user = users.create_user(admin, "audited@example.com", "Operator", PASSWORD)
    with pytest.raises(Unauthenticated):
        users.sign_in("audited@example.com", "wrong password!")
    with pytest.raises(Unauthenticated):
        users.sign_in("nobody@example.com", PASSWORD)
    signed_in = users.sign_in("audited@example.com", PASSWORD)
    users.sign_out(users.actor_for_session(signed_in.token))

    trail = actions(f"user#{user.user_id}")
    assert [a for a, _ in trail] == ["user.create", "user.sign_in_failed", "user.sign_in", "user.sign_out"]
    assert trail[2][1] == trail[3][1] == user.user_id
    unknown = [r for r in AuditLogModel.scan() if r.resourceKey == "user#unknown"]
    assert [(r.action, r.details["email"], r.details["reason"]) for r in unknown] == [
        ("user.sign_in_failed", "nobody@example.com", "unknown email")]


def test_export_and_template_sync_are_audited(viewer, operator, messaging):
    templates.list_templates(operator, refresh=True)
    _, count, _ = messages.export_csv(viewer, channel="sms")
    trail = {a: who for a, who in actions()}
    assert trail["templates.sync"] == operator.user_id and trail["messages.export"] == viewer.user_id
    export = next(r for r in AuditLogModel.scan() if r.action == "messages.export")
    assert export.details == {"rows": count, "filters": {"channel": "sms"}}
