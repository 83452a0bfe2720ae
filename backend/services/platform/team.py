"""The team: the people a conversation can be assigned to (active Operators and Admins), with their names.

Every user row is in the User table's `byTeam` index (one partition: a team is tens of people, not
thousands); it is read with one query and kept for a few seconds, so an inbox that shows assignees on every
refresh reads it at most once per TEAM_CACHE_SECONDS."""
from __future__ import annotations

import threading
import time

from backend.models.user import TEAM_PARTITION, UserModel
from backend.services.platform import system_config
from backend.services.platform.access import Actor, Operation, Role, require
from backend.services.platform.api_model import ApiView

TEAM_CACHE_SECONDS = 10.0
TEAM_MAX = 2_000
_ASSIGNABLE = {Role.OPERATOR.value, Role.ADMIN.value}
_lock = threading.Lock()
_cache: tuple[float, list["TeamMember"]] | None = None


class TeamMember(ApiView):
    user_id: str
    name: str  # the display name, else the email
    email: str
    role: str
    active: bool

    @property
    def assignable(self) -> bool:
        return self.active and self.role in _ASSIGNABLE


def _read_team() -> list[TeamMember]:
    members = []
    for row in UserModel.by_team.query(TEAM_PARTITION, page_size=200, limit=TEAM_MAX):
        members.append(TeamMember(user_id=row.userId, name=row.displayName or row.email, email=row.email, role=row.role, active=bool(row.active)))
    return sorted(members, key=lambda m: m.name.casefold())


def _team() -> list[TeamMember]:
    global _cache
    now = time.monotonic()
    with _lock:
        if _cache and now - _cache[0] < TEAM_CACHE_SECONDS:
            return _cache[1]
    members = _read_team()
    with _lock:
        _cache = (now, members)
    return members


def forget_team() -> None:
    global _cache
    with _lock:
        _cache = None


def team_members(actor: Actor) -> list[TeamMember]:
    """Everyone on the team (names for assignees and authors); anyone who may read messages may see them."""
    require(actor, Operation.MESSAGES_READ)
    return list(_team())


def assignable_member(user_id: str) -> TeamMember | None:
    """The active Operator or Admin with this id (read afresh: an assignment must not go to someone just
    disabled), or None."""
    forget_team()
    return next((m for m in _team() if m.user_id == user_id and m.assignable), None)


BACKFILL_KEY = "team.indexBackfill"


def index_earlier_users() -> int:
    """Put users created before the byTeam index in it: once per installation, at start-up (the one Scan, an
    offline job on a table of tens of rows; a SystemConfig marker says it is done). How many it indexed."""
    if system_config.read(BACKFILL_KEY):
        return 0
    indexed = 0
    for row in UserModel.scan(UserModel.team.does_not_exist() & UserModel.email.exists()):
        row.update(actions=[UserModel.team.set(TEAM_PARTITION)], add_version_condition=False)
        indexed += 1
    system_config.write(BACKFILL_KEY, {"done": True, "indexed": indexed}, updated_by="system:start-up")
    forget_team()
    return indexed
