"""The 12 table specs for a deployment, derived from the backend models (the single source of the keys)."""
from __future__ import annotations

from backend.models.schema import TableSpec, all_table_specs


def table_specs_for(table_prefix: str) -> list[TableSpec]:
    """Specs named as the Lambda functions will name them (`WECARE_TABLE_PREFIX` = this prefix)."""
    return all_table_specs(table_prefix)
