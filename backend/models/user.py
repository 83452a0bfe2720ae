"""User table: platform users, their role and (locally) their argon2 password hash."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from backend.models.base import WecareModel

TEAM_PARTITION = "TEAM"


class UserByTeam(GlobalSecondaryIndex):
    """Every user (not the email-claim rows), by email: the team, read with one query (never a Scan)."""

    class Meta:
        index_name = "byTeam"
        projection = AllProjection()

    team = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class UserModel(WecareModel):
    short_name = "User"

    class Meta(WecareModel.Meta):
        pass

    userId = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    displayName = UnicodeAttribute(null=True)
    role = UnicodeAttribute()
    passwordHash = UnicodeAttribute(null=True)
    identityProvider = UnicodeAttribute(default="local")
    active = BooleanAttribute(default=True)
    mustChangePassword = BooleanAttribute(default=False)
    sessionEpoch = UnicodeAttribute(default="0")
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()
    lastLoginAt = UTCDateTimeAttribute(null=True)
    team = UnicodeAttribute(null=True)  # TEAM_PARTITION on every user row (the byTeam index)
    version = VersionAttribute()

    by_team = UserByTeam()


class UserEmailKey(WecareModel):
    """Claims an email for one user (same table), so two accounts can never share a sign-in email."""

    short_name = "User"

    class Meta(WecareModel.Meta):
        pass

    userId = UnicodeAttribute(hash_key=True)  # "email#ann@example.com"
    ownerId = UnicodeAttribute()

    @staticmethod
    def key_for(email: str) -> str:
        return f"email#{email}"
