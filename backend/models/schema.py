"""Table specifications derived from the models: the one source for init-db and the CDK data construct."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import boto3
from botocore.exceptions import ClientError

from backend.models import TABLE_MODELS, WecareModel
from backend.settings import Settings, get_settings

log = logging.getLogger(__name__)

INDEX_BUILD_TIMEOUT_S = 600.0  # an index added to a table with data is built from every row before it is ACTIVE


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()  # what an INCLUDE projection copies besides the keys


@dataclass(frozen=True)
class TableSpec:
    short_name: str
    table_name: str
    hash_key: str
    range_key: str | None
    attribute_types: dict[str, str]
    indexes: tuple[IndexSpec, ...] = field(default=())
    ttl_attribute: str | None = None
    stream_view_type: str | None = None  # NEW_IMAGE etc. when the table has a change stream

    def create_request(self) -> dict:
        """The CreateTable request (on-demand billing) for this table and all its indexes."""
        request: dict = {
            "TableName": self.table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind} for name, kind in self.attribute_types.items()
            ],
            "KeySchema": _key_schema(self.hash_key, self.range_key),
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [_index_request(index) for index in self.indexes]
        if self.stream_view_type:
            request["StreamSpecification"] = _stream(self.stream_view_type)
        return request


def _stream(view_type: str) -> dict:
    return {"StreamEnabled": True, "StreamViewType": view_type}


def _key_schema(hash_key: str, range_key: str | None) -> list[dict]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _index_request(index: IndexSpec) -> dict:
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.hash_key, index.range_key),
        "Projection": _projection(index.projection, index.non_key_attributes),
    }


def _projection(kind: str, non_key_attributes: tuple[str, ...]) -> dict:
    projection: dict = {"ProjectionType": kind}
    if non_key_attributes:
        projection["NonKeyAttributes"] = list(non_key_attributes)
    return projection


def _same_projection(described: dict, index: IndexSpec) -> bool:
    """An existing index projects what the spec asks (DynamoDB may list the attributes in another order)."""
    return described["ProjectionType"] == index.projection and sorted(described.get("NonKeyAttributes", [])) == sorted(
        index.non_key_attributes
    )


def table_spec(model: type[WecareModel], table_prefix: str | None = None) -> TableSpec:
    """The model's table; named with `table_prefix` when given (e.g. for a deployment), else as configured."""
    schema = model._get_schema()
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    indexes = []
    for gsi in schema["global_secondary_indexes"]:
        gsi_keys = {k["KeyType"]: k["AttributeName"] for k in gsi["key_schema"]}
        projection = gsi["projection"]
        indexes.append(
            IndexSpec(
                gsi["index_name"],
                gsi_keys["HASH"],
                gsi_keys.get("RANGE"),
                projection["ProjectionType"],
                tuple(projection.get("NonKeyAttributes", ())),
            )
        )
    ttl = model._ttl_attribute()
    return TableSpec(
        short_name=model.short_name,
        table_name=f"{table_prefix}{model.short_name}" if table_prefix is not None else model.Meta.table_name,
        hash_key=keys["HASH"],
        range_key=keys.get("RANGE"),
        attribute_types={d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]},
        indexes=tuple(indexes),
        ttl_attribute=ttl.attr_name if ttl else None,
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
    )


def all_table_specs(table_prefix: str | None = None) -> list[TableSpec]:
    return [table_spec(model, table_prefix) for model in TABLE_MODELS]


def dynamodb_client(settings: Settings | None = None):
    settings = settings or get_settings()
    endpoint = settings.effective_dynamodb_endpoint()
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if endpoint else {}
    return boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=endpoint, **credentials)


def dynamodb_streams_client(settings: Settings | None = None, *, config=None):
    """The DynamoDB Streams client on the same endpoint and credentials as `dynamodb_client`."""
    settings = settings or get_settings()
    endpoint = settings.effective_dynamodb_endpoint()
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if endpoint else {}
    return boto3.client(
        "dynamodbstreams", region_name=settings.aws_region, endpoint_url=endpoint, config=config, **credentials
    )


def init_db(settings: Settings | None = None) -> list[str]:
    """Create every table, add any missing index and enable TTL. Safe to run any number of times."""
    client = dynamodb_client(settings)
    report = []
    for spec in all_table_specs():
        report.extend(_ensure_table(client, spec))
    return report


def _wait_index_gone(client, table_name: str, index_name: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        indexes = client.describe_table(TableName=table_name)["Table"].get("GlobalSecondaryIndexes", [])
        if index_name not in {gsi["IndexName"] for gsi in indexes}:
            return
        time.sleep(0.5)
    raise TimeoutError(f"index {table_name}.{index_name} was still being deleted after {timeout:.0f} s")


def _ensure_table(client, spec: TableSpec) -> list[str]:
    actions = []
    try:
        described = client.describe_table(TableName=spec.table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        try:
            client.create_table(**spec.create_request())
            actions.append(f"created {spec.table_name}")
        except client.exceptions.ResourceInUseException:
            pass  # another process created it a moment ago
        described = _wait_active(client, spec.table_name)
    existing = {gsi["IndexName"]: gsi["Projection"] for gsi in described.get("GlobalSecondaryIndexes", [])}
    for name in sorted(set(existing) - {index.name for index in spec.indexes}):
        # An index the models no longer declare (e.g. byActivity, replaced by byConversationStatus): derived
        # data nothing reads, which every write would still pay for.
        client.update_table(TableName=spec.table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}])
        _wait_index_gone(client, spec.table_name, name)
        existing.pop(name)
        actions.append(f"dropped index {spec.table_name}.{name} (no longer declared)")
    for index in spec.indexes:
        if index.name in existing and not _same_projection(existing[index.name], index):
            # A projection cannot be changed in place: drop the index, then add it back below.
            client.update_table(TableName=spec.table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index.name}}])
            _wait_index_gone(client, spec.table_name, index.name)
            actions.append(f"dropped index {spec.table_name}.{index.name} ({existing.pop(index.name)['ProjectionType']} projection)")
        if index.name not in existing:
            definitions = [
                {"AttributeName": name, "AttributeType": spec.attribute_types[name]}
                for name in filter(None, (index.hash_key, index.range_key))
            ]
            client.update_table(
                TableName=spec.table_name,
                AttributeDefinitions=definitions,
                GlobalSecondaryIndexUpdates=[{"Create": _index_request(index)}],
            )
            _wait_active(client, spec.table_name, timeout_s=INDEX_BUILD_TIMEOUT_S)
            actions.append(f"added index {spec.table_name}.{index.name}")
    stream = described.get("StreamSpecification") or {}
    if spec.stream_view_type and stream.get("StreamEnabled") and stream.get("StreamViewType") != spec.stream_view_type:
        # A stream's view type cannot change in place: end the stream, then start one of the declared type (its
        # readers move to the new stream and read it from its start).
        client.update_table(TableName=spec.table_name, StreamSpecification={"StreamEnabled": False})
        _wait_active(client, spec.table_name)
        actions.append(f"ended stream {spec.table_name} ({stream.get('StreamViewType')})")
        stream = {}
    if spec.stream_view_type and not stream.get("StreamEnabled"):
        client.update_table(TableName=spec.table_name, StreamSpecification=_stream(spec.stream_view_type))
        _wait_active(client, spec.table_name)
        actions.append(f"enabled stream {spec.table_name} ({spec.stream_view_type})")
    if spec.ttl_attribute:
        ttl = client.describe_time_to_live(TableName=spec.table_name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            try:
                client.update_time_to_live(
                    TableName=spec.table_name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
                )
                actions.append(f"enabled TTL {spec.table_name}.{spec.ttl_attribute}")
            except ClientError as exc:
                # another process starting at the same moment enabled it first: that is the state wanted
                if "already enabled" not in str(exc.response.get("Error", {}).get("Message", "")).lower():
                    raise
    return actions


def _wait_active(client, table_name: str, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        table = client.describe_table(TableName=table_name)["Table"]
        indexes_ready = all(g.get("IndexStatus", "ACTIVE") == "ACTIVE" for g in table.get("GlobalSecondaryIndexes", []))
        if table["TableStatus"] == "ACTIVE" and indexes_ready:
            return table
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} did not become ACTIVE within {timeout_s:.0f}s")
        time.sleep(0.2)


def drop_all(settings: Settings | None = None) -> None:
    """Delete every table (tests only)."""
    client = dynamodb_client(settings)
    for spec in all_table_specs():
        try:
            client.delete_table(TableName=spec.table_name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
