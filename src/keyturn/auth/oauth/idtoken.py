"""Verify an Apple or Google id_token: RS256 only, the key from the provider's JWKS by `kid`,
`iss`, `aud` among our client ids, `exp`/`iat`, the nonce, and the email claims as each
provider sends them. Network only here, never inside a database transaction.

The JWKS is cached per provider for `oauth.jwks_ttl`; an unknown `kid` (the provider rotated
its keys) refetches it, at most once per `oauth.jwks_refetch_after`, so forged kids cannot make
us hammer the provider."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import jwt

from keyturn.config import OAuthSettings
from keyturn.contacts import InvalidEmail, normalize_email
from keyturn.errors import NotFound, Unauthorized, Unavailable
from keyturn.logs import get_logger

log = get_logger("keyturn.auth.oauth")

Provider = Literal["apple", "google"]
ALGORITHMS = ["RS256"]  # what Apple and Google sign id_tokens with; nothing else is accepted
LEEWAY = 60  # seconds of clock skew tolerated on exp and iat
APPLE_RELAY_DOMAIN = "privaterelay.appleid.com"


class InvalidIdToken(Unauthorized):
    """The Apple/Google id_token is forged, expired, for another app, or its nonce is wrong."""

    code = "oauth.invalid_id_token"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers.pop("WWW-Authenticate", None)  # about the id_token, not a bearer token


class ProviderNotEnabled(NotFound):
    """Sign-in with this provider is not configured on this deployment (no client ids)."""

    code = "oauth.provider_not_enabled"


class ProviderUnavailable(Unavailable):
    """The provider's keys (JWKS) or token endpoint cannot be reached right now."""

    code = "oauth.provider_unavailable"


@dataclass(frozen=True)
class ProvenIdentity:
    """What a verified id_token says about its person."""

    provider: Provider
    subject: str
    client_id: str
    email: str | None
    email_verified: bool
    private_relay: bool
    name: str | None


@dataclass
class _Jwks:
    url: str
    keys: dict[str, Any] = field(default_factory=dict)
    fetched_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class IdTokenVerifier:
    """One per app: the HTTP client and the JWKS cache of each provider."""

    def __init__(self, settings: OAuthSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._jwks: dict[str, _Jwks] = {
            "apple": _Jwks(settings.apple_jwks_url),
            "google": _Jwks(settings.google_jwks_url),
        }

    def issuers(self, provider: Provider) -> list[str]:
        if provider == "apple":
            return [self.settings.apple_issuer]
        return self.settings.google_issuers

    def enabled(self, provider: Provider) -> list[str]:
        client_ids = self.settings.client_ids(provider)
        if not client_ids:
            raise ProviderNotEnabled(f"Sign in with {provider.title()} is not enabled here.")
        return client_ids

    async def verify(
        self, provider: Provider, id_token: str, *, nonce: str | None
    ) -> ProvenIdentity:
        client_ids = self.enabled(provider)
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise InvalidIdToken("The id_token is not a JWT.") from None
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str):
            raise InvalidIdToken("The id_token is not signed the way this provider signs.")
        key = await self._key(provider, kid)
        try:
            claims = jwt.decode(
                id_token,
                key,
                algorithms=ALGORITHMS,
                audience=client_ids,
                issuer=self.issuers(provider),
                options={"require": ["iss", "aud", "sub", "iat", "exp"]},
                leeway=LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidIdToken(
                "The id_token has expired; sign in with the provider again."
            ) from None
        except jwt.InvalidAudienceError:
            raise InvalidIdToken("The id_token was issued for another app.") from None
        except jwt.InvalidIssuerError:
            raise InvalidIdToken("The id_token was not issued by this provider.") from None
        except jwt.PyJWTError:
            raise InvalidIdToken("The id_token's signature or claims are invalid.") from None
        self._check_fresh(claims)
        self._check_nonce(provider, claims, nonce)
        return _identity(provider, claims, client_ids)

    def _check_fresh(self, claims: dict[str, Any]) -> None:
        iat = claims.get("iat")
        if not isinstance(iat, int | float):
            raise InvalidIdToken("The id_token's issue time is invalid.")
        age = time.time() - iat
        if age > self.settings.max_token_age.total_seconds() + LEEWAY or age < -LEEWAY:
            raise InvalidIdToken("The id_token is too old; sign in with the provider again.")

    def _check_nonce(self, provider: Provider, claims: dict[str, Any], nonce: str | None) -> None:
        claimed = claims.get("nonce")
        if nonce is None:
            if claimed is not None or self.settings.require_nonce:
                raise InvalidIdToken("Send the nonce this sign-in was started with.")
            return
        # Apple's native SDKs put the SHA-256 (hex) of the app's nonce in the token.
        expected = hashlib.sha256(nonce.encode()).hexdigest() if provider == "apple" else nonce
        if not isinstance(claimed, str) or not hmac.compare_digest(
            claimed.encode(), expected.encode()
        ):
            raise InvalidIdToken("The id_token was not issued for this nonce.")

    async def _key(self, provider: Provider, kid: str) -> Any:
        jwks = self._jwks[provider]
        ttl = self.settings.jwks_ttl.total_seconds()
        refetch_after = self.settings.jwks_refetch_after.total_seconds()
        async with jwks.lock:
            age = time.monotonic() - jwks.fetched_at
            if age > ttl or (kid not in jwks.keys and age > refetch_after):
                await self._fetch(provider, jwks)
        key = jwks.keys.get(kid)
        if key is None:
            raise InvalidIdToken(
                "The id_token is signed with a key this provider does not publish."
            )
        return key

    def age_cache(self, provider: Provider, *, seconds: float) -> None:
        """Make the cached keys look `seconds` older (tests stand in for waiting)."""
        self._jwks[provider].fetched_at -= seconds

    async def _fetch(self, provider: Provider, jwks: _Jwks) -> None:
        try:
            response = await self.http.get(jwks.url)
            response.raise_for_status()
            entries = response.json()["keys"]
            keys = {}
            for entry in entries:
                if entry.get("kty") != "RSA" or entry.get("alg", "RS256") != "RS256":
                    continue
                if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
                    continue
                keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
        except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
            log.warning("oauth.jwks_failed", provider=provider, error=type(exc).__name__)
            if jwks.keys:
                return  # keep serving the keys we have; the next request tries again
            raise ProviderUnavailable(
                f"{provider.title()}'s signing keys cannot be fetched right now."
            ) from None
        jwks.keys = keys
        jwks.fetched_at = time.monotonic()
        log.info("oauth.jwks_fetched", provider=provider, keys=len(keys))


def _flag(value: object) -> bool:
    """Apple sends booleans as JSON booleans or as the strings "true"/"false"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _identity(provider: Provider, claims: dict[str, Any], client_ids: list[str]) -> ProvenIdentity:
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise InvalidIdToken("The id_token's subject is invalid.")
    aud = claims["aud"]
    # The client id of ours it was issued for (decode checked that one is among `aud`).
    client_id = next(c for c in client_ids if c == aud or (isinstance(aud, list) and c in aud))
    email = None
    raw_email = claims.get("email")
    if isinstance(raw_email, str):
        try:
            email = normalize_email(raw_email)
        except InvalidEmail:
            email = None
    private = _flag(claims.get("is_private_email")) or bool(
        email and email.endswith("@" + APPLE_RELAY_DOMAIN)
    )
    name = claims.get("name")
    return ProvenIdentity(
        provider=provider,
        subject=subject,
        client_id=client_id,
        email=email,
        email_verified=email is not None and _flag(claims.get("email_verified")),
        private_relay=provider == "apple" and private,
        name=name[:200] if isinstance(name, str) and name.strip() else None,
    )
