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


def private_dynamodb_local():
    """A DynamoDB Local of a module's own (`dynamodb_local = pytest.fixture(scope="module", name="dynamodb_local")
    (private_dynamodb_local)`): index deletion and re-creation in the suite's long-lived shared instance were
    once seen to leave an index CREATING for good."""
    local = DynamoDBLocal(port=free_port(), db_dir=None)
    local.ensure_running()
    yield local
    local.stop()


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
