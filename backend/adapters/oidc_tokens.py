"""Cognito's OpenID Connect tokens, verified: the signature against the user pool's JSON Web Key Set, then `iss`,
`exp` (and `iat`), `token_use`, and the audience (`aud` of an ID token, `client_id` of an access token), and an
ID token's `nonce` when the sign-in that asked for it is known.

- Only RS256 is accepted (Cognito's algorithm): a token signed "none" or HS256 with the public key as a secret is
  refused before any key is used.
- The key set is fetched from `<issuer>/.well-known/jwks.json` and cached (`JWKS_TTL_SECONDS`). A token naming a
  key id the cache lacks makes one fresh fetch (Cognito rotated its keys), at most once per
  `JWKS_REFETCH_SECONDS`, so forged key ids cannot make us hammer the pool.
- Every refusal is an `InvalidToken` with a short reason for logs and the page; never the token itself.

joserfc is authlib's JOSE library (authlib depends on it; `authlib.jose` is deprecated in its favour).
"""
from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

JWKS_TTL_SECONDS = 3600.0
JWKS_REFETCH_SECONDS = 60.0
LEEWAY_SECONDS = 30  # clock skew allowed on exp / iat
FETCH_TIMEOUT_SECONDS = 5
ALGORITHMS = ["RS256"]
TOKEN_USES = ("id", "access")


class InvalidToken(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def fetch_json(url: str) -> dict:
    response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.json()


class JwksCache:
    """The pool's keys: cached, refreshed after a TTL, and fetched again (rate-limited) for an unknown key id."""

    def __init__(self, url: str, fetch: Callable[[str], dict] = fetch_json, *, clock: Callable[[], float] = time.monotonic):
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._kids: set[str] = set()
        self._fetched_at = float("-inf")
        self.fetches = 0

    def _load(self) -> None:
        try:
            document = self._fetch(self.url)
            keys = KeySet.import_key_set(document)
        except (requests.RequestException, ValueError, JoseError, TypeError, KeyError) as exc:
            if self._keys is None:
                raise InvalidToken("the user pool's signing keys could not be fetched") from exc
            return  # keep the keys we have; the next refresh window tries again
        finally:
            self._fetched_at = self._clock()
            self.fetches += 1
        self._keys = keys
        self._kids = {str(key.get("kid")) for key in document.get("keys", []) if isinstance(key, dict)}

    def keys_for(self, kid: str | None) -> KeySet:
        with self._lock:
            age = self._clock() - self._fetched_at
            if self._keys is None or age >= JWKS_TTL_SECONDS or (kid not in self._kids and age >= JWKS_REFETCH_SECONDS):
                self._load()
            if kid not in self._kids:
                raise InvalidToken("the token's key is not one of the user pool's")
            return self._keys


def _header(token: str) -> dict[str, Any]:
    try:
        head = token.split(".")[0]
        padded = head + "=" * (-len(head) % 4)
        return json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise InvalidToken("not a JSON Web Token") from exc


class TokenVerifier:
    """Verify a Cognito ID or access token of one user pool and one app client."""

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache | None = None, *,
                 clock: Callable[[], float] = time.time):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.jwks = jwks or JwksCache(f"{self.issuer}/.well-known/jwks.json")
        self._clock = clock

    def verify(self, token: str, token_use: str, *, nonce: str | None = None) -> dict[str, Any]:
        """The token's claims, or InvalidToken saying why not."""
        if token_use not in TOKEN_USES:
            raise ValueError(f"token_use: one of {TOKEN_USES}")
        if not isinstance(token, str) or token.count(".") != 2 or len(token) > 16_384 or not token.isascii():
            raise InvalidToken("not a JSON Web Token")
        header = _header(token)
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(f"signed with {header.get('alg')!r}, not RS256")
        keys = self.jwks.keys_for(header.get("kid"))
        try:
            claims = jwt.decode(token, keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError) as exc:
            raise InvalidToken("the signature does not verify") from exc
        now = self._clock()
        if claims.get("iss") != self.issuer:
            raise InvalidToken("issued by another user pool")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, (int, float)) or exp + LEEWAY_SECONDS < now:
            raise InvalidToken("expired")
        if isinstance(iat, (int, float)) and iat - LEEWAY_SECONDS > now:
            raise InvalidToken("issued in the future")
        if claims.get("token_use") != token_use:
            raise InvalidToken(f"an {claims.get('token_use')!r} token where an {token_use!r} token was expected")
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
        if audience != self.client_id and not (isinstance(audience, list) and self.client_id in audience):
            raise InvalidToken("issued to another app client")
        if nonce is not None and claims.get("nonce") != nonce:
            raise InvalidToken("the nonce does not match this sign-in")
        if not claims.get("sub"):
            raise InvalidToken("no subject")
        return dict(claims)
