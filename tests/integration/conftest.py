"""Integration tests run against DynamoDB Local (AWS's own engine), in memory on a free port."""
from __future__ import annotations

import socket
import uuid

import pytest

from backend.runtime.dynamodb_local import DynamoDBLocal
from tests.backends import use_backend


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def dynamodb_local():
    local = DynamoDBLocal(port=free_port(), db_dir=None)
    local.ensure_running()
    yield local
    local.stop()


@pytest.fixture(autouse=True)
def tables(dynamodb_local):
    use_backend("local", dynamodb_local.endpoint, f"it{uuid.uuid4().hex[:8]}-")
    yield
