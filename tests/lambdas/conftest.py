"""Lambda handler tests use the same fresh moto tables per test as the unit tests."""
from tests.unit.conftest import tables  # noqa: F401  (autouse fixture)
