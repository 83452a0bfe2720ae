"""Schemathesis over the REST API, generated from its own OpenAPI document (/api/openapi.json), as each role
with a real session: whatever a caller sends, the answer is never a server error. `make fuzz` runs the
randomised profile; the suite runs a short derandomised sample."""
from __future__ import annotations

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error

from backend.api.asgi_door import build_api
from backend.services.platform import users
from backend.services.platform.access import Actor, Role

PASSWORD = "fuzz horse battery staple"
ROLES = ("Admin", "Operator", "Viewer", None)  # None: no token at all

schema = schemathesis.openapi.from_asgi("/api/openapi.json", build_api())
# A request costs a few moto writes; a fifth of the profile's examples per operation keeps the suite's sample short.
api_settings = settings(max_examples=max(settings().max_examples // 5, 10))


@pytest.fixture(scope="module")
def sessions(door) -> dict:
    """A signed-in session per role, on the module's tables."""
    admin = Actor(user_id="u-fuzz-admin", email="fuzz-admin@example.com", role=Role.ADMIN)
    tokens = {None: {}}
    for role in ROLES[:-1]:
        email = f"fuzz-{role.lower()}@example.com"
        users.create_user(admin, email, role, PASSWORD)
        tokens[role] = {"Authorization": f"Bearer {users.sign_in(email, PASSWORD).token}"}
    return tokens


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES))
@api_settings
def test_no_request_gets_a_server_error(case, role, sessions):
    response = case.call_and_validate(headers=sessions[role], checks=[not_a_server_error])
    assert response.status_code < 500
