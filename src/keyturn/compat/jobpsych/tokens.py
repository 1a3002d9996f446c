"""`/verify-token` and `/jwt-info` for the seed's services, on keyturn's introspection.

`verify-token` now also says no for a token whose session has ended (the seed only checked
the signature, so a logged-out token verified). `jwt-info` gives key fingerprints: the seed
printed the secret's length and its first and last ten characters, a third of the key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych.errors import TokenInvalid
from keyturn.db import utcnow
from keyturn.markets import Markets
from keyturn.sessions import introspect
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.tokens import TokenVerifier


def duration(span: timedelta) -> str:
    """`15m`, `14d`: the seed's way of writing a lifetime."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


async def verify_token(
    markets: Markets, verifier: TokenVerifier, issuer: TokenIssuer, *, token: str
) -> out.VerifiedOut:
    found = await introspect.introspect(markets, verifier, issuer, token=token)
    if not found.active:
        raise TokenInvalid("Invalid or expired token")
    # Verified above (signature, claims, live session): this only reads what it says.
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return out.VerifiedOut(
        message="Token is valid",
        decoded=decoded,
        tokenInfo=out.TokenInfo(
            algorithm=issuer.keyring.algorithm, expiresIn=duration(issuer.tokens.access_ttl)
        ),
    )


def jwt_info(issuer: TokenIssuer, *, environment: str) -> out.JwtInfoOut:
    info = introspect.jwt_info(issuer)
    return out.JwtInfoOut(
        message="JWT configuration information",
        jwtInfo=out.JwtInfo(
            algorithm=issuer.keyring.algorithm,
            accessTokenExpiry=duration(issuer.tokens.access_ttl),
            refreshTokenExpiry=duration(issuer.tokens.refresh_idle_ttl),
            issuer=info.issuer,
            audience=info.audience,
            activeKid=info.active_kid,
            fingerprints=[k.fingerprint for k in info.keys],
            jwksUri=info.jwks_uri,
            environment=environment,
            timestamp=utcnow(),
        ),
        note="No part of the key is shown. With HS256, compare the fingerprint with your "
        'service\'s copy of the secret: printf %s "$JWT_SECRET" | sha256sum',
    )
