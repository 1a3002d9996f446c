"""Access tokens (JWT) and opaque refresh tokens. Signing them is `issuer.TokenIssuer`'s.

Verification pins the algorithm to the one configured, requires every claim we rely on, and
looks the key up by `kid` in our own keyring only (never a key or URL named by the token).

Sessions opened through the JobPsych-compatible API (`compat == "jobpsych"`) get tokens that
also carry the seed's `userId` (a string) and `email`, which its services read. With HS256
they also leave out `aud`: the seed's verifiers (python-jose, PyJWT, jsonwebtoken) pass no
audience, and the first two then refuse any token that has one. Such a token is accepted here
only with HS256 and with `userId` equal to `sub`; everything else is checked as usual
(docs/compat-jobpsych.md, "Tokens").

`TokenVerifier` remembers the tokens it verified (see its docstring): the signature math runs
once per token per process, never the checks that can change.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

import jwt

from keyturn.config import Settings
from keyturn.errors import Unauthorized
from keyturn.sessions.keys import Keyring

REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "mkt", "role", "iat", "exp", "jti"]
JOBPSYCH = "jobpsych"
LEEWAY = 5  # seconds of clock skew tolerated on exp/nbf


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    market: str
    role: str
    issued_at: int
    expires_at: int
    jti: str
    kid: str
    # When the person last proved who they are in this session, and how (RFC 8176 `amr`).
    # A token without them (issued before they existed) counts as proven long ago.
    auth_time: int = 0
    amr: tuple[str, ...] = ()


def verify_access_token(settings: Settings, keyring: Keyring, token: str) -> AccessClaims:
    """Signature, algorithm, kid, exp/nbf/iss/aud and claim presence; raises Unauthorized."""
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if header.get("alg") != keyring.algorithm or not isinstance(kid, str):
            raise Unauthorized("Invalid access token.")
        key = keyring.verification_key(kid)
        if key is None:
            raise Unauthorized("Invalid access token.")
        try:
            data = jwt.decode(
                token,
                key,
                algorithms=[keyring.algorithm],
                audience=settings.tokens.audience,
                issuer=settings.tokens.issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY,
            )
        except jwt.MissingRequiredClaimError as missing:
            if missing.claim != "aud" or keyring.algorithm != "HS256":
                raise
            data = _decode_jobpsych(settings, keyring, token, key)
        return AccessClaims(
            user_id=int(data["sub"]),
            session_id=str(data["sid"]),
            market=str(data["mkt"]),
            role=str(data["role"]),
            issued_at=int(data["iat"]),
            expires_at=int(data["exp"]),
            jti=str(data["jti"]),
            auth_time=int(data.get("auth_time", 0)),
            amr=tuple(str(method) for method in data.get("amr", ())),
            kid=kid,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired.") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Unauthorized("Invalid access token.") from None


def _decode_jobpsych(settings: Settings, keyring: Keyring, token: str, key: object) -> dict:
    """An HS256 token without `aud`: valid only as a JobPsych session's token."""
    data: dict = jwt.decode(
        token,
        key,  # type: ignore[arg-type]
        algorithms=[keyring.algorithm],
        issuer=settings.tokens.issuer,
        options={"require": [c for c in REQUIRED_CLAIMS if c != "aud"], "verify_aud": False},
        leeway=LEEWAY,
    )
    if "aud" in data or data.get("userId") != data["sub"]:
        raise Unauthorized("Invalid access token.")
    return data


class TokenVerifier:
    """`verify_access_token` with a per-process memory of the tokens it verified.

    Keyed by the exact token string, an entry skips only the signature math (~300 µs of
    Ed25519); on every use the token must still be unexpired and its key still in the keyring,
    so a rotated-away key fails on the next request, as without the memory. Whether the session
    is live is never remembered: the caller checks that in the database on every request.
    Entries go at their `exp`; at `max_entries` the oldest goes first.
    """

    def __init__(self, settings: Settings, keyring: Keyring, *, max_entries: int = 50_000) -> None:
        self._settings = settings
        self._keyring = keyring
        self._max_entries = max_entries
        self._verified: dict[str, AccessClaims] = {}

    def verify(self, token: str) -> AccessClaims:
        """Raises Unauthorized exactly when `verify_access_token` would."""
        claims = self._verified.get(token)
        if claims is not None:
            if claims.expires_at > time.time() - LEEWAY and self._keyring.knows(claims.kid):
                return claims
            del self._verified[token]
        claims = verify_access_token(self._settings, self._keyring, token)
        if len(self._verified) >= self._max_entries:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims


def new_refresh_token(market: str) -> tuple[str, str]:
    """An opaque token (`<market>.` + 256 random bits) and the SHA-256 hex we store instead.

    The market prefix lets a refresh find its database without `X-Market` (a browser's
    refresh cookie carries no header); it is not a secret and grants nothing on its own.
    """
    token = f"{market}.{secrets.token_urlsafe(32)}"
    return token, hash_refresh_token(token)


# `<market>.` and 43 characters of URL-safe base64: the only shape `new_refresh_token` makes.
_REFRESH_TOKEN = re.compile(r"([a-z]{2,8})\.[A-Za-z0-9_-]{43}")


def refresh_token_market(token: str) -> str | None:
    """The market a refresh token names, or None when it cannot be one of ours (any other
    string is simply an invalid token: 401, never 422 or 500)."""
    shape = _REFRESH_TOKEN.fullmatch(token)
    return shape.group(1) if shape else None


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
