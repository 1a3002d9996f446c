"""A local Apple + Google for tests: an HTTP server on 127.0.0.1 with its own RSA keys that
serves their JWKS, mints id_tokens as they do, and answers Apple's token and revocation
endpoints in Apple's wire format (form posts, client secret JWTs checked with ES256).

Apple: `/apple/auth/keys`, `/apple/auth/token`, `/apple/auth/revoke`.
Google: `/google/oauth2/v3/certs`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

APPLE_ISSUER = "https://appleid.apple.com"
GOOGLE_ISSUER = "https://accounts.google.com"
APPLE_CLIENT_ID = "com.example.shop"  # the iOS bundle id
GOOGLE_CLIENT_ID = "123-web.apps.googleusercontent.com"
TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                "n": _b64(numbers.n), "e": _b64(numbers.e)}  # fmt: skip

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class FakeProviders:
    def __init__(self) -> None:
        self.url = ""
        self.keys = {"apple": [SigningKey("apple-1")], "google": [SigningKey("google-1")]}
        self.jwks_fetches = {"apple": 0, "google": 0}
        # Sign in with Apple key of the keyturn deployment (Apple holds the public half).
        self.apple_key = ec.generate_private_key(ec.SECP256R1())
        self.codes: dict[str, str] = {}  # authorization code -> sub
        self.refresh_tokens: dict[str, str] = {}  # issued refresh token -> sub
        self.revoked: list[str] = []
        self.revoke_requests = 0
        self.revoke_down = False
        self.app = web.Application()
        self.app.router.add_get("/apple/auth/keys", self._jwks("apple"))
        self.app.router.add_get("/google/oauth2/v3/certs", self._jwks("google"))
        self.app.router.add_post("/apple/auth/token", self._token)
        self.app.router.add_post("/apple/auth/revoke", self._revoke)

    # What keyturn is configured with ------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        pem = self.apple_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "apple_client_ids": [APPLE_CLIENT_ID, "com.example.shop.web"],
            "google_client_ids": [GOOGLE_CLIENT_ID],
            "apple_jwks_url": f"{self.url}/apple/auth/keys",
            "apple_token_url": f"{self.url}/apple/auth/token",
            "apple_revoke_url": f"{self.url}/apple/auth/revoke",
            "google_jwks_url": f"{self.url}/google/oauth2/v3/certs",
            "apple_team_id": TEAM_ID,
            "apple_key_id": KEY_ID,
            "apple_private_key": pem,
        }

    # Minting, as the provider's SDK hands the app a token ----------------------------------

    def id_token(
        self,
        provider: str,
        sub: str,
        *,
        email: str | None = None,
        email_verified: bool | str = True,
        nonce: str | None = None,
        aud: str | None = None,
        iss: str | None = None,
        iat: float | None = None,
        exp: float | None = None,
        key: SigningKey | None = None,
        **extra: Any,
    ) -> str:
        """A token as the provider signs it. `nonce` is the app's raw nonce: Apple's token
        carries its SHA-256, Google's the value itself."""
        now = time.time()
        claims: dict[str, Any] = {
            "iss": iss or (APPLE_ISSUER if provider == "apple" else GOOGLE_ISSUER),
            "aud": aud or (APPLE_CLIENT_ID if provider == "apple" else GOOGLE_CLIENT_ID),
            "sub": sub,
            "iat": int(iat if iat is not None else now),
            "exp": int(exp if exp is not None else now + 600),
            **extra,
        }
        if email is not None:
            claims["email"] = email
            claims["email_verified"] = email_verified
        if nonce is not None:
            claims["nonce"] = (
                hashlib.sha256(nonce.encode()).hexdigest() if provider == "apple" else nonce
            )
        signer = key or self.keys[provider][-1]
        return jwt.encode(claims, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    def authorization_code(self, sub: str) -> str:
        code = "c" + secrets.token_hex(16)
        self.codes[code] = sub
        return code

    def rotate(self, provider: str) -> SigningKey:
        """Publish a new key and retire the old ones, as providers do."""
        key = SigningKey(f"{provider}-{secrets.token_hex(4)}")
        self.keys[provider] = [key]
        return key

    # The endpoints -------------------------------------------------------------------------

    def _jwks(self, provider: str) -> Any:
        async def serve(request: web.Request) -> web.Response:
            self.jwks_fetches[provider] += 1
            return web.json_response({"keys": [k.jwk() for k in self.keys[provider]]})

        return serve

    def _client_ok(self, form: Any) -> bool:
        """Apple's check of the client secret: ES256 by our key, iss team, sub client id."""
        try:
            header = jwt.get_unverified_header(str(form["client_secret"]))
            claims = jwt.decode(
                str(form["client_secret"]),
                self.apple_key.public_key(),
                algorithms=["ES256"],
                audience=APPLE_ISSUER,
                issuer=TEAM_ID,
            )
        except (jwt.PyJWTError, KeyError):
            return False
        return header.get("kid") == KEY_ID and claims.get("sub") == form.get("client_id")

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._client_ok(form):
            return web.json_response({"error": "invalid_client"}, status=400)
        sub = self.codes.pop(str(form.get("code")), None)
        if form.get("grant_type") != "authorization_code" or sub is None:
            return web.json_response({"error": "invalid_grant"}, status=400)
        refresh = "r" + secrets.token_hex(24)
        self.refresh_tokens[refresh] = sub
        return web.json_response(
            {"access_token": "a" + secrets.token_hex(16), "token_type": "Bearer",
             "expires_in": 3600, "refresh_token": refresh,
             "id_token": self.id_token("apple", sub, aud=str(form["client_id"]))}
        )  # fmt: skip

    async def _revoke(self, request: web.Request) -> web.Response:
        self.revoke_requests += 1
        if self.revoke_down:
            return web.Response(status=503, text="Service Unavailable")
        form = await request.post()
        if not self._client_ok(form):
            return web.json_response({"error": "invalid_client"}, status=400)
        self.revoked.append(str(form.get("token")))
        return web.Response(status=200)


@asynccontextmanager
async def running_providers() -> AsyncIterator[FakeProviders]:
    fake = FakeProviders()
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@contextmanager
def providers_in_a_thread() -> Iterator[FakeProviders]:
    """The fake providers for synchronous tests (a `keyturn serve` process, a browser): served
    from their own event loop in a thread, stopped when the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-providers", daemon=True)
    thread.start()
    running = running_providers()
    try:
        fake = asyncio.run_coroutine_threadsafe(running.__aenter__(), loop).result(10)
        try:
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(running.__aexit__(None, None, None), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def server_env(fake: FakeProviders) -> dict[str, str]:
    """The fake providers' settings as a `keyturn serve` process reads them."""
    return {
        f"KEYTURN_OAUTH__{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in fake.settings().items()
    }


@dataclass
class Social:
    """The app configured for the fake providers, its client, and the fake."""

    app: Any
    client: Any
    fake: FakeProviders


async def counts(app: Any, market: str = "us") -> dict[str, int]:
    """Rows a refused sign-in must not have added."""
    from sqlalchemy import func, select

    from keyturn.auth.models import Identity
    from keyturn.sessions.models import Session
    from keyturn.users.models import User

    async with app.state.databases.session(market) as db:
        return {
            name: int(await db.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (("users", User), ("identities", Identity), ("sessions", Session))
        }
