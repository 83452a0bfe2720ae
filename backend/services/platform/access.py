"""Who is calling and what they may do: the one permission table every door goes through."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from backend.errors import PermissionDenied, Unauthenticated


class Role(str, Enum):
    VIEWER = "Viewer"
    OPERATOR = "Operator"
    ADMIN = "Admin"

    @classmethod
    def parse(cls, value: str | None) -> "Role | None":
        if not value:
            return None
        for role in cls:
            if role.value.lower() == value.strip().lower():
                return role
        return None


class Operation(str, Enum):
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    CONTACTS_DELETE = "contacts:delete"
    CONTACTS_IMPORT = "contacts:import"
    MESSAGES_READ = "messages:read"
    MESSAGES_SEND = "messages:send"
    MESSAGES_DELETE = "messages:delete"
    BULK_READ = "bulk:read"
    BULK_WRITE = "bulk:write"
    TEMPLATES_READ = "templates:read"
    TEMPLATES_WRITE = "templates:write"
    VOICE_READ = "voice:read"
    MEDIA_READ = "media:read"
    MEDIA_WRITE = "media:write"
    AI_READ = "ai:read"
    AI_USE = "ai:use"
    AI_ADMIN = "ai:admin"
    PROFILE_SELF = "profile:self"
    USERS_MANAGE = "users:manage"
    CONFIG_MANAGE = "config:manage"
    AUDIT_READ = "audit:read"
    DLQ_MANAGE = "dlq:manage"

    @property
    def label(self) -> str:
        """What the operation lets a person do, in words a refusal can show: 'manage the dead-letter queue'."""
        return OPERATION_LABELS[self]


# One human phrase per operation (completes "Your role (Viewer) cannot …"); test_access checks none is missing.
OPERATION_LABELS: dict[Operation, str] = {
    Operation.CONTACTS_READ: "view contacts",
    Operation.CONTACTS_WRITE: "create or edit contacts",
    Operation.CONTACTS_DELETE: "delete contacts",
    Operation.CONTACTS_IMPORT: "import contacts",
    Operation.MESSAGES_READ: "view messages",
    Operation.MESSAGES_SEND: "send messages",
    Operation.MESSAGES_DELETE: "delete messages",
    Operation.BULK_READ: "view bulk sends",
    Operation.BULK_WRITE: "start or change bulk sends",
    Operation.TEMPLATES_READ: "view templates",
    Operation.TEMPLATES_WRITE: "create or edit templates",
    Operation.VOICE_READ: "view calls",
    Operation.MEDIA_READ: "view media files",
    Operation.MEDIA_WRITE: "upload media files",
    Operation.AI_READ: "view AI suggestions",
    Operation.AI_USE: "use the AI assistant",
    Operation.AI_ADMIN: "configure the AI assistant",
    Operation.PROFILE_SELF: "change your own profile",
    Operation.USERS_MANAGE: "manage users",
    Operation.CONFIG_MANAGE: "change settings",
    Operation.AUDIT_READ: "view the audit log",
    Operation.DLQ_MANAGE: "manage the dead-letter queue",
}


_READ = {
    Operation.CONTACTS_READ,
    Operation.MESSAGES_READ,
    Operation.BULK_READ,
    Operation.TEMPLATES_READ,
    Operation.VOICE_READ,
    Operation.MEDIA_READ,
    Operation.AI_READ,
    Operation.PROFILE_SELF,
}
_OPERATE = _READ | {
    Operation.CONTACTS_WRITE,
    Operation.CONTACTS_DELETE,
    Operation.CONTACTS_IMPORT,
    Operation.MESSAGES_SEND,
    Operation.MESSAGES_DELETE,
    Operation.BULK_WRITE,
    Operation.TEMPLATES_WRITE,
    Operation.MEDIA_WRITE,
    Operation.AI_USE,
}

PERMISSIONS: dict[Role, frozenset[Operation]] = {
    Role.VIEWER: frozenset(_READ),
    Role.OPERATOR: frozenset(_OPERATE),
    Role.ADMIN: frozenset(Operation),
}


@dataclass(frozen=True)
class Actor:
    """The caller of a service. Anonymous is an actor with no role."""

    user_id: str | None = None
    email: str | None = None
    role: Role | None = None
    must_change_password: bool = False

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls()

    @classmethod
    def system(cls, name: str) -> "Actor":
        """A trusted process (a verified webhook, a queue worker, a schedule): audited by name, no role."""
        return cls(user_id=f"system:{name}")

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_system(self) -> bool:
        """A process acting on its own (see `system`), not a person."""
        return (self.user_id or "").startswith("system:")

    def can(self, operation: Operation) -> bool:
        return self.role is not None and operation in PERMISSIONS[self.role]


def require(actor: Actor, operation: Operation) -> None:
    """Raise unless the actor may perform the operation: 401 for no caller, 403 for the wrong role."""
    if not actor.is_authenticated:
        raise Unauthenticated("Sign in to continue.")
    if actor.must_change_password and operation is not Operation.PROFILE_SELF:
        raise PermissionDenied("Choose a new password on your profile before continuing.")
    if actor.role is None:
        raise PermissionDenied("Your account has no role in WECARE; ask an administrator for one.")
    if not actor.can(operation):
        raise PermissionDenied(f"Your role ({actor.role.value}) cannot {operation.label}.")
