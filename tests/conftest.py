"""Shared test set-up: a private settings environment, and fixtures for actors and table back-ends."""
from __future__ import annotations

import os
import tempfile
import uuid

_DATA_DIR = tempfile.mkdtemp(prefix="wecare-test-")
os.environ.update(
    {
        "WECARE_DATA_DIR": _DATA_DIR,
        "WECARE_DEFAULT_REGION": "GB",
        "WECARE_SESSION_SECRET": "test-secret-not-for-production-0123456789",
        "WECARE_TABLE_PREFIX": "test-",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)
os.environ.pop("WECARE_DYNAMODB_ENDPOINT", None)

import pytest  # noqa: E402

from backend.services.platform.access import Actor, Role  # noqa: E402


@pytest.fixture
def admin() -> Actor:
    return Actor(user_id="u-admin", email="admin@example.com", role=Role.ADMIN)


@pytest.fixture
def operator() -> Actor:
    return Actor(user_id="u-operator", email="operator@example.com", role=Role.OPERATOR)


@pytest.fixture
def viewer() -> Actor:
    return Actor(user_id="u-viewer", email="viewer@example.com", role=Role.VIEWER)


def unique_phone() -> str:
    """A valid UK mobile number nobody else in the test run uses (a few random numbers are unallocated), and
    none the sandboxes fail on purpose (a random number ended 0429 once in a few thousand: a flaky test)."""
    import phonenumbers

    from backend.adapters.channels.sandbox_failures import FAILING_ENDINGS

    while True:
        candidate = f"+4479{uuid.uuid4().int % 10**8:08d}"
        if candidate.endswith(FAILING_ENDINGS):
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def unique_email() -> str:
    return f"p{uuid.uuid4().hex[:12]}@example.com"
