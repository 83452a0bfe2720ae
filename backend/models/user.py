"""User table: platform users, their role and (locally) their argon2 password hash."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from backend.models.base import WecareModel


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
    version = VersionAttribute()


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
