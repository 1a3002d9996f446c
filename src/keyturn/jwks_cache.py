"""keyturn's signing keys for `keyturn.client`: fetched from `/.well-known/jwks.json`, kept for
`ttl` seconds, refetched early (at most every 30 s) for a key id never seen, and still used for
`max_stale` seconds past `ttl` while keyturn cannot be reached
(docs/verifying-tokens-in-other-services.md)."""

import asyncio
import base64
import binascii
import logging
import math
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

UNKNOWN_KID_COOLDOWN = 30.0  # seconds between JWKS fetches forced by an unknown kid
FAILURE_BACKOFF = 5.0  # seconds before a failed JWKS fetch is tried again

log = logging.getLogger("keyturn.client")


class JwksUnavailable(Exception):
    """keyturn's keys are too old to trust, or a key id may be one we could not learn."""


class JwksCache:
    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        ttl: float,
        max_stale: float,
        clock: Callable[[], float],
    ) -> None:
        self.base_url = base_url
        self.ttl = ttl
        self.max_stale = max_stale
        self._http = http
        self._clock = clock
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at = -math.inf  # last successful JWKS fetch
        self._next_forced = -math.inf  # no fetch for an unknown kid before this
        self._retry_at = -math.inf  # no fetch at all before this (after a failure)
        self._last_fetch_failed = False
        self._generation = 0  # bumped by every fetch attempt, so waiters do not repeat it
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        """The key `kid` names, None if keyturn has no such key."""
        now = self._clock()
        if now >= self._retry_at:
            if now - self._fetched_at >= self.ttl:
                await self._refetch(self._generation, forced=False)
            elif kid not in self._keys and now >= self._next_forced:
                await self._refetch(self._generation, forced=True)
        key = self._keys.get(kid)
        if self._clock() - self._fetched_at > self.ttl + self.max_stale:
            raise JwksUnavailable
        if key is None and self._last_fetch_failed:  # perhaps a new key we could not learn
            raise JwksUnavailable
        return key

    async def _refetch(self, generation: int, *, forced: bool) -> None:
        """One fetch at a time; whoever waited for it uses its result instead of fetching."""
        async with self._lock:
            if generation != self._generation:
                return
            self._generation += 1
            if forced:
                self._next_forced = self._clock() + UNKNOWN_KID_COOLDOWN
            try:
                self._keys = await self._fetch_jwks()
                self._fetched_at = self._clock()
                self._last_fetch_failed = False
            except (httpx.HTTPError, ValueError) as exc:
                self._last_fetch_failed = True
                self._retry_at = self._clock() + FAILURE_BACKOFF
                log.warning("keyturn JWKS fetch failed: %s", type(exc).__name__)

    async def _fetch_jwks(self) -> dict[str, Ed25519PublicKey]:
        response = await self._http.get(f"{self.base_url}/.well-known/jwks.json")
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS document")
        keys = {}
        for jwk in document["keys"]:
            parsed = _ed25519(jwk)
            if parsed is not None:
                keys[jwk["kid"]] = parsed
        return keys


def _ed25519(jwk: Any) -> Ed25519PublicKey | None:
    """An Ed25519 signing key from one JWKS entry, or None for anything else."""
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
        return None
    if (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519"):
        return None
    if jwk.get("alg", "EdDSA") != "EdDSA" or jwk.get("use", "sig") != "sig":
        return None
    x = jwk.get("x")
    if not isinstance(x, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        return None
