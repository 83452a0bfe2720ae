"""Model base: table names, endpoint and credentials come from settings, applied once by `configure_models`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pynamodb.attributes import TTLAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from backend.settings import Settings, get_settings


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class WecareModel(Model):
    """Every table model derives from this; `short_name` is the table's name without the prefix."""

    short_name: str = ""

    class Meta:
        abstract = True
        table_name = "unconfigured"
        region = "us-east-1"
        max_retry_attempts = 3
        max_pool_connections = 32

    def update_only(self, actions: list, condition=None) -> None:
        """UpdateItem without the item sent back (`update` reads it all back, ALL_NEW): for hot paths that need
        nothing of the result. The row in memory is not refreshed; a versioned row's version is not handled.
        Raises pynamodb's UpdateError as `update` does."""
        hash_key, range_key = self._get_hash_range_key_serialized_values()
        self._get_connection().update_item(hash_key, range_key=range_key, return_values="NONE", condition=condition, actions=actions)


class ExpiringModel(WecareModel):
    """A table with a TTL. DynamoDB deletes expired rows up to days late, so readers use `is_live`."""

    class Meta(WecareModel.Meta):  # stated, or pynamodb gives the subclasses its defaults (a pool of 10)
        abstract = True

    retention: timedelta = timedelta(0)
    expiresAt = TTLAttribute(null=True)

    def stamp_expiry(self, now: datetime | None = None) -> None:
        self.expiresAt = (now or utcnow()) + self.retention

    def is_live(self, now: datetime | None = None) -> bool:
        return self.expiresAt is None or self.expiresAt > (now or utcnow())


_shared_connection: Connection | None = None


def configure_model(model: type[WecareModel], settings: Settings) -> None:
    meta = model.Meta
    meta.table_name = f"{settings.table_prefix}{model.short_name}"
    meta.region = settings.aws_region
    meta.host = settings.effective_dynamodb_endpoint()
    if meta.host:
        # DynamoDB Local accepts any credentials; never use real ones against it.
        meta.aws_access_key_id = "local"
        meta.aws_secret_access_key = "local"
    model._connection = None


def configure_connection(settings: Settings) -> None:
    """The connection transactions use; one shared botocore client (thread-safe), not one per call."""
    global _shared_connection
    host = settings.effective_dynamodb_endpoint()
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if host else {}
    _shared_connection = Connection(
        region=settings.aws_region, host=host, max_pool_connections=32, max_retry_attempts=3, **credentials
    )


def transaction() -> TransactWrite:
    """An all-or-nothing write across tables (up to 100 items), on the configured endpoint."""
    if _shared_connection is None:
        configure_connection(get_settings())
    return TransactWrite(connection=_shared_connection)
