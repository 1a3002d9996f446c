"""Request-context dependencies: market, database session, caller, paging; and what
`create_app` built once (settings, the token issuer, the throttles, ...)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import markets
from keyturn.auth.mfa.cipher import TotpCipher
from keyturn.auth.oauth.clients import OAuth
from keyturn.auth.phone.otp import Otp
from keyturn.auth.signin import SignInContext
from keyturn.auth.stepup import service as stepup
from keyturn.auth.throttles import Throttles
from keyturn.config import PasskeySettings, Settings
from keyturn.db import MAX_ID, Databases
from keyturn.errors import Forbidden, Unauthorized
from keyturn.sessions import live
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.keys import Keyring
from keyturn.sessions.tokens import AccessClaims, TokenVerifier
from keyturn.webhooks.service import WebhookRules


def _built(name: str) -> Any:
    """A dependency handing a route what `create_app` built once, `app.state.<name>`
    (docs/code-shape.md): nothing is made per request."""

    async def built(request: Request) -> Any:
        return getattr(request.app.state, name)

    built.__name__ = built.__qualname__ = f"get_{name}"
    return Depends(built)


SettingsDep = Annotated[Settings, _built("settings")]
DatabasesDep = Annotated[Databases, _built("databases")]
MarketsDep = Annotated[markets.Markets, _built("markets")]
VerifierDep = Annotated[TokenVerifier, _built("token_verifier")]
KeyringDep = Annotated[Keyring, _built("keyring")]
IssuerDep = Annotated[TokenIssuer, _built("issuer")]
ThrottlesDep = Annotated[Throttles, _built("throttles")]
SignInDep = Annotated[SignInContext, _built("sign_in")]
OtpDep = Annotated[Otp, _built("otp")]
MfaCipher = Annotated[TotpCipher, _built("mfa_cipher")]
OAuthDep = Annotated[OAuth, _built("oauth")]
WebhookRulesDep = Annotated[WebhookRules, _built("webhook_rules")]


async def get_relying_party(settings: SettingsDep) -> PasskeySettings:
    return settings.passkeys


# Passkeys: who we are to WebAuthn (rp id and name, origins, the apps that share passkeys).
RelyingParty = Annotated[PasskeySettings, Depends(get_relying_party)]
# Every integer id in a path: a larger number is a 422, not a driver overflow.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]

_bearer = HTTPBearer(auto_error=False, description="Access token from a sign-in or refresh")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
XMarket = Annotated[
    str | None,
    Header(
        description="Market code (e.g. `kg`, `us`); default: the token's market, else "
        "the deployment's default market."
    ),
]

# Each dependency costs FastAPI time on every request, so the hot one (`SignedIn`) is a single
# function over these two plain ones instead of a chain (measured: bench/README.md).


def _verify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Token:
    if credentials is None:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(credentials.credentials)
    except Unauthorized as refused:
        return refused


def _market(request: Request, token: Token, x_market: str | None) -> markets.Market:
    registry: markets.Markets = request.app.state.markets
    return registry.resolve(x_market, token.market if isinstance(token, AccessClaims) else None)


Token = AccessClaims | Unauthorized | None


async def _verified_token(request: Request, credentials: Credentials) -> Token:
    """The bearer token, verified once per request: its claims, the reason it is refused,
    or None when there is none. Public routes ignore a bad token; `Caller` raises it."""
    return _verify(request, credentials)


VerifiedToken = Annotated[Token, Depends(_verified_token)]


async def _optional_claims(token: VerifiedToken) -> AccessClaims | None:
    return token if isinstance(token, AccessClaims) else None


OptionalClaims = Annotated[AccessClaims | None, Depends(_optional_claims)]


async def get_requested_market(request: Request, x_market: XMarket = None) -> markets.Market | None:
    """The market `X-Market` names (400 if unknown), or None without the header."""
    registry: markets.Markets = request.app.state.markets
    return registry.requested(x_market) if x_market is not None else None


RequestedMarket = Annotated[markets.Market | None, Depends(get_requested_market)]


async def get_market(
    request: Request, token: VerifiedToken, requested: RequestedMarket
) -> markets.Market:
    """The request's market (config and database): `X-Market`, else the bearer token's
    market, else the default."""
    if requested is not None:
        return requested
    return _market(request, token, None)


RequestMarket = Annotated[markets.Market, Depends(get_market)]


async def get_market_code(market: RequestMarket) -> str:
    return market.code


Market = Annotated[str, Depends(get_market_code)]


async def get_db(market: RequestMarket) -> AsyncIterator[AsyncSession]:
    """A database session on the request's market. Services commit; anything else rolls back."""
    async with market.session() as db:
        yield db


# `scope="function"`: the session closes (its connection back in the pool, any transaction
# rolled back) when the handler returns, before a byte of the response is sent, so a client
# that reads slowly or not at all never holds a connection (docs/security.md).
Db = Annotated[AsyncSession, Depends(get_db, scope="function")]


@dataclass(frozen=True, slots=True)
class Bearer:
    """A verified access token used in its own market, NOT yet checked live: hand it only to
    a statement built on `live.LIVE`, which checks the session in the same statement as
    the data it reads (`Caller` is the checked one)."""

    claims: AccessClaims
    market: markets.Market


async def get_bearer(
    request: Request, credentials: Credentials, x_market: XMarket = None
) -> Bearer:
    token = _verify(request, credentials)
    market = _market(request, token, x_market)  # an unknown `X-Market` is a 400 first
    if isinstance(token, Unauthorized):
        raise token
    if token is None:
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access_token>`.")
    markets.refuse_other_market(token.market, market)
    return Bearer(claims=token, market=market)


SignedIn = Annotated[Bearer, Depends(get_bearer)]


async def signed_in(request: Request) -> Bearer:
    """`SignedIn` without FastAPI's dependency solving (keyturn.routing.SignedInRead)."""
    return await get_bearer(request, await _bearer(request), request.headers.get("x-market"))


async def get_caller(db: Db, bearer: SignedIn) -> live.Principal:
    """A signed-in caller whose session is live right now, in the request's market."""
    return await live.authenticate(db, bearer.claims)


Caller = Annotated[live.Principal, Depends(get_caller)]


async def get_admin(caller: Caller) -> live.Principal:
    if caller.role != "admin":
        raise Forbidden("Administrators only.")
    return caller


Admin = Annotated[live.Principal, Depends(get_admin)]


async def client_ip(request: Request, settings: SettingsDep) -> str | None:
    """The client's address; `X-Forwarded-For` is believed only from trusted proxies."""
    peer = request.client.host if request.client else None
    if peer and peer in settings.trusted_proxies:
        # Every X-Forwarded-For line, in order: a proxy may add its own line after one the
        # client sent (HAProxy does), and only the hops nearest to us can be believed.
        forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        # Walk from the nearest hop; the first one that is not our proxy is the client.
        for hop in reversed(hops):
            if hop not in settings.trusted_proxies:
                return hop[:45]
    return peer


ClientIp = Annotated[str | None, Depends(client_ip)]


UserAgent = Annotated[str | None, Header(include_in_schema=False)]


async def get_recent_caller(db: Db, settings: SettingsDep, caller: Caller) -> live.Principal:
    """A caller whose token proves identity recently (RFC 9470 step-up), else 401
    `insufficient_user_authentication` naming the ways to re-authenticate."""
    await stepup.require_recent(db, settings, caller=caller)
    return caller


# For actions that could take an account over: passkeys, password, email or phone, second
# factors, Apple/Google identities, deleting or exporting the account
# (docs/passkeys-and-step-up.md).
StepUp = Annotated[live.Principal, Depends(get_recent_caller)]
# The OpenAPI `responses` entry of a route that takes `StepUp`.
STEP_UP_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Signed out, or the sign-in proof is too old: "
        '`WWW-Authenticate: Bearer error="insufficient_user_authentication"` with `max_age`; '
        "re-authenticate (`POST /auth/reauthenticate`) and retry"
    }
}


_service_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceToken",
    description="A service token (`KEYTURN_REVOCATIONS__SERVICE_TOKENS`), not a user's token",
)


class ServiceCredentialInvalid(Unauthorized):
    """The route needs a service token from the deployment's settings, not a user's token."""

    code = "auth.service_credential_invalid"


async def require_service(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_service_bearer)],
) -> None:
    """A caller holding one of the configured service tokens (compared in constant time)."""
    if credentials is not None:
        presented = hashlib.sha256(credentials.credentials.encode()).digest()
        matched = False
        for token in settings.revocations.service_tokens:
            expected = hashlib.sha256(token.get_secret_value().encode()).digest()
            matched |= hmac.compare_digest(presented, expected)
        if matched:
            return
    raise ServiceCredentialInvalid(
        "Send `Authorization: Bearer <service token>` (KEYTURN_REVOCATIONS__SERVICE_TOKENS)."
    )


Service = Depends(require_service)
