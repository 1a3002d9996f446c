"""Verify keyturn access tokens in another service, with cached JWKS.

    from keyturn.client import KeyturnVerifier, VerifiedToken

    verifier = KeyturnVerifier("http://keyturn.internal:8000")
    require_user = verifier.dependency()

    @app.get("/recommendations")
    async def recommendations(user: Annotated[VerifiedToken, Depends(require_user)]): ...

`verify(token)` returns a `VerifiedToken` or raises `InvalidToken`; nothing in between.
`KeyturnUnavailable` (an `InvalidToken`) means keyturn's keys could not be had: the dependency
answers 503 (fail closed). What is checked, how keys are cached and rotated, and how logouts
are refused before `exp` — JWKS only, following the revocation feed
(`revocations=RevocationFeed(...)`, keyturn.revocation_feed) or `introspect=True`:
docs/verifying-tokens-in-other-services.md.
"""

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keyturn.jwks_cache import JwksCache, JwksUnavailable
from keyturn.revocation_feed import FeedStale, RevocationFeed

__all__ = [
    "InvalidToken",
    "KeyturnUnavailable",
    "KeyturnVerifier",
    "RevocationFeed",
    "TokenExpired",
    "VerifiedToken",
]

ALGORITHMS = ["EdDSA"]
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "sid", "mkt", "role"]
LEEWAY = 5  # seconds of clock skew tolerated on exp/nbf
MAX_TOKEN_LENGTH = 4096

log = logging.getLogger("keyturn.client")


class InvalidToken(Exception):
    """The token must not be trusted. The message is safe to show and never holds the token."""


class TokenExpired(InvalidToken):
    """The token was valid but its `exp` has passed: the client should refresh."""


class KeyturnUnavailable(InvalidToken):
    """keyturn could not be asked (JWKS or introspection), so the token cannot be trusted."""


@dataclass(frozen=True)
class VerifiedToken:
    user_id: int
    session_id: str
    market: str
    role: str
    claims: Mapping[str, Any]

    @property
    def auth_time(self) -> int | None:
        """When the person last proved who they are in this session (Unix seconds); None for
        a token issued before keyturn sent it."""
        value = self.claims.get("auth_time")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def amr(self) -> tuple[str, ...]:
        """How they proved it (RFC 8176): `sms`, `pwd`, `hwk`/`swk` + `user` (a passkey)..."""
        value = self.claims.get("amr")
        if not isinstance(value, list):
            return ()
        return tuple(method for method in value if isinstance(method, str))

    def authenticated_within(self, max_age: float, *, now: float | None = None) -> bool:
        """Whether the last proof is at most `max_age` seconds old (RFC 9470 step-up): a
        service guarding a sensitive action answers 401 `insufficient_user_authentication`
        with `max_age` otherwise, and the app re-authenticates at keyturn."""
        auth_time = self.auth_time
        current = time.time() if now is None else now
        return auth_time is not None and current - auth_time <= max_age


_bearer = HTTPBearer(auto_error=False, description="keyturn access token")


class KeyturnVerifier:
    def __init__(
        self,
        base_url: str,
        *,
        audience: str = "keyturn",
        issuer: str = "keyturn",
        jwks_ttl: float = 300,
        introspect: bool = False,
        revocations: RevocationFeed | None = None,
        jwks_max_stale: float = 3600,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`transport` or `http_client` replace the network (tests pass an `ASGITransport`);
        a client passed in is not closed by `aclose()`. `clock` is for tests."""
        self.base_url = base_url.rstrip("/")
        self.audience = audience
        self.issuer = issuer
        self.jwks_ttl = jwks_ttl
        self.introspect = introspect
        self.revocations = revocations
        self.jwks_max_stale = jwks_max_stale
        self._own_client = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._clock = clock
        self._jwks = JwksCache(
            self.base_url, self._http, ttl=jwks_ttl, max_stale=jwks_max_stale, clock=clock
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._http.aclose()

    async def __aenter__(self) -> "KeyturnVerifier":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def verify(self, token: str) -> VerifiedToken:
        """The token's identity, or `InvalidToken` (`TokenExpired`, `KeyturnUnavailable`)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("Invalid access token.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("Invalid access token.") from None
        kid = header.get("kid")
        # `crit` and `b64` change how a token must be read; keyturn never sends them.
        if header.get("alg") not in ALGORITHMS or "crit" in header or "b64" in header:
            raise InvalidToken("Invalid access token.")
        if not isinstance(kid, str) or not 0 < len(kid) <= 200:
            raise InvalidToken("Invalid access token.")
        try:
            key = await self._jwks.key(kid)
        except JwksUnavailable:
            raise KeyturnUnavailable(
                "Cannot verify access tokens right now; retry shortly."
            ) from None
        if key is None:
            raise InvalidToken("Invalid access token.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY,
            )
            verified = VerifiedToken(
                user_id=_user_id(claims["sub"]),
                session_id=_text(claims["sid"]),
                market=_text(claims["mkt"]),
                role=_text(claims["role"]),
                claims=MappingProxyType(claims),
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("The access token has expired.") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken("Invalid access token.") from None
        if self.revocations is not None:
            try:
                revoked = self.revocations.is_revoked(verified.session_id)
            except FeedStale:
                raise KeyturnUnavailable(
                    "Cannot verify access tokens right now; retry shortly."
                ) from None
            if revoked:
                raise InvalidToken("The session has ended; sign in again.")
        if self.introspect:
            return await self._introspect(token, verified)
        return verified

    def dependency(self) -> Callable[..., Awaitable[VerifiedToken]]:
        """A FastAPI dependency: the caller's `VerifiedToken`, or 401 with
        `WWW-Authenticate: Bearer` (503 with `Retry-After` while keyturn cannot be asked)."""

        async def require_user(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> VerifiedToken:
            if credentials is None:
                raise HTTPException(
                    401,
                    "Sign in first: send `Authorization: Bearer <access_token>`.",
                    headers={"WWW-Authenticate": 'Bearer realm="keyturn"'},
                )
            try:
                return await self.verify(credentials.credentials)
            except KeyturnUnavailable as exc:
                raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
            except InvalidToken as exc:
                challenge = 'Bearer realm="keyturn", error="invalid_token", '
                challenge += f'error_description="{exc}"'
                raise HTTPException(
                    401, str(exc), headers={"WWW-Authenticate": challenge}
                ) from None

        return require_user

    # Introspection ----------------------------------------------------------------------------

    async def _introspect(self, token: str, verified: VerifiedToken) -> VerifiedToken:
        """Ask keyturn whether the session is still live; the role it answers is current."""
        try:
            response = await self._http.post(
                f"{self.base_url}/api/v1/auth/verify-token", json={"token": token}
            )
        except httpx.HTTPError:
            raise KeyturnUnavailable(
                "Cannot verify access tokens right now; retry shortly."
            ) from None
        if response.status_code != 200:
            log.warning("keyturn introspection answered %s", response.status_code)
            raise KeyturnUnavailable("Cannot verify access tokens right now; retry shortly.")
        try:
            body = response.json()
        except ValueError:
            raise KeyturnUnavailable(
                "Cannot verify access tokens right now; retry shortly."
            ) from None
        if not isinstance(body, dict) or body.get("active") is not True:
            raise InvalidToken("The session has ended; sign in again.")
        if body.get("sub") != str(verified.user_id) or body.get("sid") != verified.session_id:
            raise InvalidToken("Invalid access token.")
        role = body.get("role")
        if isinstance(role, str) and role != verified.role:
            return VerifiedToken(
                verified.user_id, verified.session_id, verified.market, role, verified.claims
            )
        return verified


def _user_id(sub: Any) -> int:
    if not isinstance(sub, str) or not re.fullmatch(r"[1-9][0-9]{0,18}", sub):
        raise ValueError("sub is not a user id")
    return int(sub)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("claim is not a string")
    return value
