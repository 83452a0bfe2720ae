"""The DynamoDB tables, one per backend table spec: on-demand, point-in-time recovery, kept on delete, with the
indexes and (where the spec asks for one) the change stream the spec names."""
from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from backend.models.schema import IndexSpec, TableSpec

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class DataTables(Construct):
    """`tables` maps a spec's short name ("Contact", "AuditLog", ...) to its table."""

    def __init__(self, scope: Construct, construct_id: str, *, specs: list[TableSpec]) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {spec.short_name: self._table(spec) for spec in specs}

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.short_name,
            table_name=spec.table_name,
            partition_key=_attribute(spec, spec.hash_key),
            sort_key=_attribute(spec, spec.range_key) if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            stream=dynamodb.StreamViewType[spec.stream_view_type] if spec.stream_view_type else None,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in spec.indexes:
            _add_index(table, spec, index)
        return table


def _attribute(spec: TableSpec, name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[spec.attribute_types[name]])


def _add_index(table: dynamodb.Table, spec: TableSpec, index: IndexSpec) -> None:
    table.add_global_secondary_index(
        index_name=index.name,
        partition_key=_attribute(spec, index.hash_key),
        sort_key=_attribute(spec, index.range_key) if index.range_key else None,
        projection_type=dynamodb.ProjectionType[index.projection],
        non_key_attributes=list(index.non_key_attributes) or None,
    )
