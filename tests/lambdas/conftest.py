"""Unit tests run the services against moto's in-process DynamoDB, fresh tables per test."""
from __future__ import annotations

import pytest
from moto import mock_aws

from tests.backends import use_backend


@pytest.fixture(autouse=True)
def tables(monkeypatch):
    monkeypatch.setenv("WECARE_IMPORT_WRITERS", "1")  # moto's DynamoDB is not thread-safe
    with mock_aws():
        use_backend("aws", None, "unit-")
        yield
