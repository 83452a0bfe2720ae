"""The 12 table specs for a deployment, derived from the backend models (the single source of the keys)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from backend import models
from backend.models import base
from backend.models.schema import TableSpec, all_table_specs
from backend.settings import RuntimeEnv, Settings


def table_specs_for(table_prefix: str) -> list[TableSpec]:
    """Specs named as the Lambda functions will name them (`WECARE_ENV=aws`, this prefix)."""
    settings = Settings(env=RuntimeEnv.AWS, table_prefix=table_prefix, _env_file=None)
    with _model_configuration_restored():
        models.configure_models(settings)
        return all_table_specs()


@contextmanager
def _model_configuration_restored() -> Iterator[None]:
    """`configure_models` rewrites process-wide model classes. Put them back afterwards, so synthesizing
    inside a test run does not leave other tests' models pointed at AWS instead of DynamoDB Local."""
    model_classes = models.TABLE_MODELS + models.SHARED_TABLE_MODELS
    saved = [(model, _own_attributes(model.Meta), model.__dict__.get("_connection")) for model in model_classes]
    shared_connection = base._shared_connection
    try:
        yield
    finally:
        for model, meta_attributes, connection in saved:
            for name in set(_own_attributes(model.Meta)) - set(meta_attributes):
                delattr(model.Meta, name)
            for name, value in meta_attributes.items():
                setattr(model.Meta, name, value)
            model._connection = connection
        base._shared_connection = shared_connection


def _own_attributes(cls: type) -> dict[str, object]:
    return {name: value for name, value in vars(cls).items() if not name.startswith("__")}
