"""A small local OpenID Connect authorization server shaped like Cognito's hosted UI, for the sign-in tests.

Endpoints (under one base URL, the "domain"; the issuer is `<base>/pool`):
- `GET /oauth2/authorize`: checks the client, redirect URI and PKCE (S256) parameters, then signs in
  `next_user` at once (no form) and redirects back with `code` and `state`;
- `POST /oauth2/token`: `authorization_code` (checks the code, redirect URI and code verifier) and
  `refresh_token` (refused for a disabled user, as Cognito refuses it) grants; RS256 tokens shaped like Cognito's
  (ID token: `aud`, `nonce`, `email`, `cognito:groups`, `token_use: id`; access token: `client_id`,
  `token_use: access`);
- `GET /pool/.well-known/jwks.json`: the signing keys (`rotate()` adds a new key and signs with it);
- `GET /logout`: redirects to `logout_uri`, recording the call.
`mint(...)` makes any token (expired, wrong audience, forged with another key …) for the refusal tests.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "wecare-web-client"


@dataclass
class OidcUser:
    email: str
    groups: tuple[str, ...] = ("Operator",)
    sub: str = field(default_factory=lambda: str(uuid.uuid4()))
    enabled: bool = True


class LocalOidcServer:
    def __init__(self, client_id: str = CLIENT_ID, redirect_uris: tuple[str, ...] = ()):
        self.client_id = client_id
        self.redirect_uris = set(redirect_uris)
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "key-1"})]
        self.users: dict[str, OidcUser] = {}
        self.next_user: str | None = None
        self.codes: dict[str, dict] = {}
        self.refresh_tokens: dict[str, str] = {}  # token -> sub
        self.logouts: list[dict] = []
        self.token_seconds = 3600
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.issuer = f"{self.base_url}/pool"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------ control

    def start(self) -> "LocalOidcServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_user(self, user: OidcUser) -> OidcUser:
        self.users[user.sub] = user
        return user

    def sign_in_as(self, user: OidcUser) -> None:
        self.next_user = self.add_user(user).sub

    def rotate(self) -> None:
        self.keys.append(RSAKey.generate_key(2048, parameters={"kid": f"key-{len(self.keys) + 1}"}))

    def jwks(self) -> dict:
        return {"keys": [key.as_dict(private=False) for key in self.keys]}

    # ------------------------------------------------------------ tokens

    def mint(self, user: OidcUser, token_use: str, *, key: RSAKey | None = None, alg: str = "RS256",
             **overrides) -> str:
        now = int(time.time())
        claims = {"sub": user.sub, "iss": self.issuer, "iat": now, "exp": now + self.token_seconds,
                  "token_use": token_use, "auth_time": now}
        if user.groups:
            claims["cognito:groups"] = list(user.groups)
        if token_use == "id":
            claims |= {"aud": self.client_id, "email": user.email, "email_verified": True}
        else:
            claims |= {"client_id": self.client_id, "scope": "openid email", "username": user.email}
        claims |= overrides
        claims = {name: value for name, value in claims.items() if value is not None}
        signing = key or self.keys[-1]
        return jwt.encode({"alg": alg, "kid": signing.kid}, claims, signing)

    def _tokens(self, user: OidcUser, nonce: str | None, refresh: bool) -> dict:
        body = {"id_token": self.mint(user, "id", nonce=nonce), "access_token": self.mint(user, "access"),
                "expires_in": self.token_seconds, "token_type": "Bearer"}
        if refresh:
            token = secrets.token_urlsafe(32)
            self.refresh_tokens[token] = user.sub
            body["refresh_token"] = token
        return body

    # ------------------------------------------------------------ HTTP

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return

            def _send(self, status: int, body: dict | None = None, location: str | None = None) -> None:
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                data = json.dumps(body or {}).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/pool/.well-known/jwks.json":
                    return self._send(200, server.jwks())
                if url.path == "/oauth2/authorize":
                    return self._authorize(query)
                if url.path == "/logout":
                    server.logouts.append(query)
                    return self._send(302, location=query.get("logout_uri") or "/")
                return self._send(404, {"error": "not_found"})

            def _authorize(self, query: dict) -> None:
                redirect = query.get("redirect_uri", "")
                if query.get("client_id") != server.client_id or (server.redirect_uris and redirect not in server.redirect_uris):
                    return self._send(400, {"error": "invalid_request"})
                if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256" \
                        or not query.get("code_challenge") or not query.get("state"):
                    return self._send(400, {"error": "invalid_request", "detail": "PKCE S256 and state are required"})
                if server.next_user is None:
                    return self._send(302, location=f"{redirect}?{urlencode({'error': 'access_denied', 'state': query['state']})}")
                code = secrets.token_urlsafe(16)
                server.codes[code] = {"sub": server.next_user, "challenge": query["code_challenge"],
                                      "redirect_uri": redirect, "nonce": query.get("nonce")}
                return self._send(302, location=f"{redirect}?{urlencode({'code': code, 'state': query['state']})}")

            def do_POST(self):
                if urlsplit(self.path).path != "/oauth2/token":
                    return self._send(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if form.get("client_id") != server.client_id:
                    return self._send(400, {"error": "invalid_client"})
                if form.get("grant_type") == "authorization_code":
                    grant = server.codes.pop(form.get("code", ""), None)
                    verifier = form.get("code_verifier", "")
                    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                    if grant is None or grant["redirect_uri"] != form.get("redirect_uri") or grant["challenge"] != challenge:
                        return self._send(400, {"error": "invalid_grant"})
                    return self._send(200, server._tokens(server.users[grant["sub"]], grant["nonce"], refresh=True))
                if form.get("grant_type") == "refresh_token":
                    sub = server.refresh_tokens.get(form.get("refresh_token", ""))
                    if sub is None or not server.users[sub].enabled:
                        return self._send(400, {"error": "invalid_grant"})
                    return self._send(200, server._tokens(server.users[sub], None, refresh=False))
                return self._send(400, {"error": "unsupported_grant_type"})

        return Handler
