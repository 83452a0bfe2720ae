"""Failed sign-ins slow down and lock, per account and per client, without telling whether an address exists."""
from __future__ import annotations

import pytest

from backend.errors import RateLimited, Unauthenticated
from backend.models.audit import AuditLogModel
from backend.models.runtime_config import RateLimitTrackerModel
from backend.services.platform import sign_in_guard, users
from backend.services.platform.sign_in_guard import MAX_FREE_FAILURES, MAX_LOCK_SECONDS

PASSWORD = "correct horse battery"


@pytest.fixture
def member(admin):
    return users.create_user(admin, "member@example.com", "Operator", PASSWORD)


def fail(email: str, client: str | None = "203.0.113.7") -> Exception:
    with pytest.raises((Unauthenticated, RateLimited)) as error:
        users.sign_in(email, "not the password", client=client)
    return error.value


def test_thirty_wrong_passwords_lock_the_account_even_against_the_right_one(member):
    errors = [fail("member@example.com") for _ in range(30)]
    assert all(isinstance(e, Unauthenticated) for e in errors[:MAX_FREE_FAILURES + 1])
    assert isinstance(errors[-1], RateLimited) and "Too many failed sign-ins" in errors[-1].message
    with pytest.raises(RateLimited):
        users.sign_in("member@example.com", PASSWORD, client="198.51.100.1")  # locked from another client too
    row = RateLimitTrackerModel.get("signin#account#member@example.com")
    assert row.lockedUntil and row.expiresAt is not None
    assert any(r.action == "user.sign_in_failed" and (r.details or {}).get("lockedSeconds") for r in AuditLogModel.scan())


def test_the_refusal_is_the_same_for_an_address_nobody_has(member):
    for _ in range(MAX_FREE_FAILURES + 2):
        known, unknown = fail("member@example.com", client=None), fail("ghost@example.com", client=None)
    assert type(known) is type(unknown) is RateLimited
    assert known.message.split(" in ")[0] == unknown.message.split(" in ")[0]


def test_the_lock_grows_then_lifts_and_a_success_clears_the_count(member, monkeypatch):
    keys = sign_in_guard.guard_keys("member@example.com", None)
    for _ in range(MAX_FREE_FAILURES):
        assert sign_in_guard.record_failure(keys, now=1000.0) == 0
    assert sign_in_guard.record_failure(keys, now=1000.0) == 2
    assert sign_in_guard.record_failure(keys, now=1000.0) == 4
    for _ in range(20):
        longest = sign_in_guard.record_failure(keys, now=1000.0)
    assert longest == MAX_LOCK_SECONDS
    with pytest.raises(RateLimited, match="15 minutes"):
        sign_in_guard.check_not_locked(keys, now=1000.0)
    sign_in_guard.check_not_locked(keys, now=1000.0 + MAX_LOCK_SECONDS + 1)  # lifted
    monkeypatch.setattr(sign_in_guard.time, "time", lambda: 1000.0 + MAX_LOCK_SECONDS + 1)
    assert users.sign_in("member@example.com", PASSWORD).user.user_id == member.user_id
    with pytest.raises(RateLimitTrackerModel.DoesNotExist):
        RateLimitTrackerModel.get(keys[0])


def test_one_client_guessing_many_accounts_is_locked(member):
    for n in range(MAX_FREE_FAILURES + 1):
        fail(f"someone{n}@example.com", client="192.0.2.50")
    with pytest.raises(RateLimited):
        users.sign_in("member@example.com", PASSWORD, client="192.0.2.50")
    assert users.sign_in("member@example.com", PASSWORD, client="192.0.2.51").token
