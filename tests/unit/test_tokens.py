import pytest

from backend.adapters.session_tokens import SessionSigner
from backend.errors import ValidationError
from backend.services.storage import page_tokens


def test_session_token_round_trip_and_expiry():
    signer = SessionSigner(b"k" * 32, lifetime_s=60)
    token = signer.issue("user-1", "epoch-a", now=1000.0)
    claims = signer.verify(token, now=1030.0)
    assert (claims.user_id, claims.epoch) == ("user-1", "epoch-a")
    assert signer.verify(token, now=1061.0) is None


def test_tampered_or_foreign_session_tokens_are_refused():
    signer = SessionSigner(b"k" * 32, lifetime_s=60)
    token = signer.issue("user-1", "e", now=1000.0)
    payload, signature = token.split(".")
    forged = SessionSigner(b"other" * 8, lifetime_s=60).issue("admin", "e", now=1000.0)
    for bad in (f"{payload}x.{signature}", f"{payload}.{signature[:-2]}", forged, "", "a.b.c", None):
        assert signer.verify(bad, now=1001.0) is None


def test_page_token_round_trip_and_binding_to_query():
    key = {"contactId": {"S": "abc"}, "nameBucket": {"S": "a"}, "nameSort": {"S": "ann#abc"}}
    token = page_tokens.encode(key, "ann")
    assert page_tokens.decode(token, "ann", ("contactId", "nameBucket", "nameSort")) == key
    with pytest.raises(ValidationError, match="different search"):
        page_tokens.decode(token, "bob", ("contactId", "nameBucket", "nameSort"))


@pytest.mark.parametrize("bad", ["not-base64!!", "e30", "x" * 3000, page_tokens.encode({"contactId": {"N": "1"}}, "")])
def test_malformed_page_tokens_are_a_validation_error(bad):
    with pytest.raises(ValidationError) as raised:
        page_tokens.decode(bad, "", ("contactId",))
    assert raised.value.field == "nextToken"


def test_the_local_signing_key_is_written_whole_once_and_a_short_one_is_refused(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from backend.adapters.session_tokens import MIN_SECRET_BYTES, WeakSecret, load_or_create_secret
    from backend.services.platform import users
    from backend.settings import reset_settings_cache

    key = tmp_path / "session.key"
    with ThreadPoolExecutor(8) as pool:  # processes starting together agree on one key
        keys = set(pool.map(lambda _: load_or_create_secret(key), range(16)))
    assert len(keys) == 1 and len(next(iter(keys))) == MIN_SECRET_BYTES
    assert oct(key.stat().st_mode & 0o777) == "0o600" and [p.name for p in tmp_path.iterdir()] == ["session.key"]

    key.write_bytes(b"short")  # e.g. left by an older version that crashed mid-write
    with pytest.raises(WeakSecret, match="at least 32"):
        load_or_create_secret(key)

    monkeypatch.setenv("WECARE_SESSION_SECRET", "too-short")
    reset_settings_cache()
    users.reset_session_signer()
    try:
        with pytest.raises(WeakSecret, match="WECARE_SESSION_SECRET"):
            users.actor_for_session("x.y")
    finally:
        monkeypatch.undo()
        reset_settings_cache()
        users.reset_session_signer()
