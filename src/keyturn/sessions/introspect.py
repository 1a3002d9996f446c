"""What other services ask about our tokens: introspection, key facts, the JWKS."""

from __future__ import annotations

from keyturn.errors import Unauthorized
from keyturn.markets import Markets
from keyturn.sessions import live
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.schemas import Introspection, JwtInfo, KeyInfo
from keyturn.sessions.tokens import TokenVerifier


async def introspect(
    markets: Markets, verifier: TokenVerifier, issuer: TokenIssuer, *, token: str
) -> Introspection:
    """Active only if the signature is good and the session is live in the token's market
    (one statement, as on every protected route)."""
    try:
        claims = verifier.verify(token)
    except Unauthorized:
        return Introspection(active=False)
    market = markets.of_token(claims.market, None)
    rows = await market.reader.all(live.LIVE_USER, live.live_params(claims)) if market else []
    if not rows:
        return Introspection(active=False)
    return Introspection(
        active=True,
        sub=str(claims.user_id),
        sid=claims.session_id,
        mkt=claims.market,
        role=rows[0]["role"],
        iat=claims.issued_at,
        exp=claims.expires_at,
        jti=claims.jti,
        iss=issuer.tokens.issuer,
        aud=issuer.tokens.audience,
        auth_time=claims.auth_time,
        amr=list(claims.amr),
    )


def jwt_info(issuer: TokenIssuer) -> JwtInfo:
    keyring = issuer.keyring
    keys = [KeyInfo(**k) for k in keyring.describe()]
    return JwtInfo(
        issuer=issuer.tokens.issuer,
        audience=issuer.tokens.audience,
        algorithms=[keyring.algorithm],
        active_kid=keyring.signing_key()[0],
        jwks_uri="/.well-known/jwks.json",
        access_token_ttl=int(issuer.tokens.access_ttl.total_seconds()),
        keys=keys,
    )
