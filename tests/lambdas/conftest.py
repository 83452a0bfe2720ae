"""Lambda handler tests use the same fresh moto tables per test as the unit tests, and the same messaging set-up."""
from tests.unit.conftest import messaging, tables  # noqa: F401  (fixtures; tables is autouse)
