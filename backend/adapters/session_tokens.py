"""Signed, expiring session tokens for local sign-in (HMAC-SHA256; the secret never leaves the server).

A token names the user and the user's `sessionEpoch`; bumping the epoch (sign-out, password change)
revokes every token issued before.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SessionClaims:
    user_id: str
    epoch: str
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, secret: bytes, lifetime_s: float):
        self._secret = secret
        self._lifetime_s = lifetime_s

    def issue(self, user_id: str, epoch: str, now: float | None = None) -> str:
        claims = {"u": user_id, "e": epoch, "x": (now or time.time()) + self._lifetime_s}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, now: float | None = None) -> SessionClaims | None:
        """The claims of a genuine, unexpired token; None for anything else."""
        if not isinstance(token, str) or not token.isascii() or token.count(".") != 1 or len(token) > 1024:
            return None  # our tokens are base64url: anything else (non-ASCII included) is simply not one
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
            result = SessionClaims(str(claims["u"]), str(claims["e"]), float(claims["x"]))
        except (ValueError, KeyError, TypeError):
            return None
        return result if result.expires_at > (now or time.time()) else None

    def sign_text(self, text: str) -> str:
        """A signature for any server-issued value (e.g. a media link), under a separate purpose prefix."""
        return self._sign(f"value:{text}")

    def text_signed(self, text: str, signature: str) -> bool:
        if not (isinstance(signature, str) and isinstance(text, str) and signature.isascii()):
            return False
        try:
            expected = self.sign_text(text)
        except UnicodeEncodeError:  # an unpaired surrogate in a caller's link
            return False
        return hmac.compare_digest(signature, expected)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())


MIN_SECRET_BYTES = 32


class WeakSecret(ValueError):
    """A signing secret too short to be safe."""


def checked_secret(secret: bytes, where: str) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise WeakSecret(f"{where} holds {len(secret)} bytes; a session signing secret needs at least {MIN_SECRET_BYTES}")
    return secret


WEBHOOK_KEY_FILE = "webhook.key"


def stage_new_key(path: Path) -> Path:
    """A new random key, written whole and flushed to a 0600 file beside `path`, ready to be linked or renamed
    into place (so a crash never leaves a short key behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(MIN_SECRET_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    return staged


def load_or_create_secret(path: Path) -> bytes:
    """The local signing secret, created once (0600) under the data dir so sessions survive restarts. It is
    staged whole and linked into place, so two processes starting at once end up with the same one."""
    if not path.exists():
        temporary = stage_new_key(path)
        try:
            os.link(temporary, path)  # fails if another process linked its key first: theirs wins
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return checked_secret(path.read_bytes(), str(path))


def local_webhook_secret(data_dir: Path) -> tuple[bytes, bool]:
    """The local run's webhook secret when none is configured: made once under the data dir (like the session
    key) and given as hex, so it can be typed into a sender. Returns it and whether it was made just now."""
    path = data_dir / WEBHOOK_KEY_FILE
    made = not path.exists()
    return load_or_create_secret(path).hex().encode(), made


def same_text(given: str | bytes | None, expected: str | bytes) -> bool:
    """A constant-time comparison that any caller-supplied text can go through: non-ASCII or malformed text
    (an unpaired surrogate) is a mismatch, never a TypeError or UnicodeEncodeError."""
    if given is None:
        return False
    try:
        given_bytes = given.encode("utf-8") if isinstance(given, str) else bytes(given)
        expected_bytes = expected.encode("utf-8") if isinstance(expected, str) else bytes(expected)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given_bytes, expected_bytes)
