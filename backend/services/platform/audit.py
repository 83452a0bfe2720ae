"""The audit trail: one AuditLog row per mutation, written in the same transaction as the change."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from backend.models.audit import AuditLogModel
from backend.models.base import utcnow
from backend.services.platform.access import Actor


class AuditEntry(BaseModel):
    audit_id: str
    at: datetime
    actor_id: str
    actor_email: str | None
    actor_role: str | None
    action: str
    resource_type: str
    resource_id: str
    changed_fields: list[str]
    details: dict | None = None


def audit_row(
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str,
    changed_fields: list[str] | tuple[str, ...] = (),
    details: dict | None = None,
    at: datetime | None = None,
) -> AuditLogModel:
    """Build (not save) the audit row for a mutation so the caller can add it to its transaction."""
    at = at or utcnow()
    audit_id = uuid.uuid4().hex
    row = AuditLogModel(
        resourceKey=f"{resource_type}#{resource_id}",
        sortKey=f"{at.isoformat()}#{audit_id}",
        auditId=audit_id,
        at=at,
        day=at.strftime("%Y-%m-%d"),
        actorId=actor.user_id or "anonymous",
        actorEmail=actor.email,
        actorRole=actor.role.value if actor.role else None,
        action=action,
        resourceType=resource_type,
        resourceId=resource_id,
        changedFields=set(changed_fields) or None,
        details=details,
    )
    row.stamp_expiry(at)
    return row


def entry_of(row: AuditLogModel) -> AuditEntry:
    return AuditEntry(
        audit_id=row.auditId,
        at=row.at,
        actor_id=row.actorId,
        actor_email=row.actorEmail,
        actor_role=row.actorRole,
        action=row.action,
        resource_type=row.resourceType,
        resource_id=row.resourceId,
        changed_fields=sorted(row.changedFields or ()),
        details=row.details,
    )


def resource_history(resource_type: str, resource_id: str, limit: int = 50) -> list[AuditEntry]:
    """A resource's audit trail, newest first, expired rows dropped. Callers check the reader's role."""
    now = utcnow()
    rows = AuditLogModel.query(f"{resource_type}#{resource_id}", scan_index_forward=False, limit=limit)
    return [entry_of(row) for row in rows if row.is_live(now)]
