"""JobPsych sign-in and account calls: keyturn's use cases, answered in the seed's shapes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth import service as auth
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.password import service as password
from keyturn.auth.schemas import TokenResponse
from keyturn.auth.signin import SignInContext
from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych.errors import SecondFactorRequired, UploadLimitReached
from keyturn.config import Settings
from keyturn.markets import Market, Markets
from keyturn.sessions import devices, ending
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.tokens import AccessClaims, refresh_token_market
from keyturn.usage import service as usage
from keyturn.usage.schemas import CounterRead
from keyturn.users import service as users
from keyturn.users.models import User
from keyturn.users.schemas import UserRead

UPLOADS = "uploads"


@dataclass(frozen=True)
class SignedIn:
    body: out.AuthOut
    refresh_token: str
    refresh_expires_in: int


async def uploads(db: AsyncSession, settings: Settings, user_id: int) -> CounterRead:
    counters = await usage.read_usage(db, user_id=user_id, settings=settings.usage)
    return next(c for c in counters.counters if c.name == UPLOADS)


def seed_user(user: UserRead | User, files_uploaded: int) -> out.JobPsychUser:
    return out.JobPsychUser(
        id=str(user.id),
        name=user.full_name,
        email=user.email,
        company_name=user.company,
        filesUploaded=files_uploaded,
    )


async def _signed_in(
    db: AsyncSession, settings: Settings, tokens: TokenResponse, message: str
) -> SignedIn:
    assert tokens.refresh_token is not None
    counter = await uploads(db, settings, tokens.user.id)
    user = seed_user(tokens.user, counter.used)
    body = out.AuthOut(
        message=message,
        accessToken=tokens.access_token,
        user=user,
        data=out.SignedIn(accessToken=tokens.access_token, user=user),
    )
    return SignedIn(body, tokens.refresh_token, tokens.refresh_expires_in)


async def register(
    db: AsyncSession,
    *,
    settings: Settings,
    context: SignInContext,
    market: Market,
    body: out.RegisterIn,
    device: devices.Device,
) -> SignedIn:
    tokens = await password.register(
        db,
        context=context,
        market=market,
        email=body.email,
        password=body.password,
        full_name=body.name,
        company=body.company_name,
        device=device,
        guest_claims=None,
    )
    return await _signed_in(db, settings, tokens, "User registered successfully")


async def login(
    db: AsyncSession,
    *,
    settings: Settings,
    context: SignInContext,
    market: str,
    body: out.LoginIn,
    device: devices.Device,
) -> SignedIn:
    tokens = await password.login(
        db,
        context=context,
        market=market,
        email=body.email,
        password=body.password,
        device=device,
        guest_claims=None,
    )
    if isinstance(tokens, MfaRequiredOut):  # the seed's clients know no second step
        raise SecondFactorRequired(
            "This account uses two-step sign-in: send this mfa_token with the code from the "
            "authenticator app to POST /api/v1/auth/mfa/verify.",
            mfa_token=tokens.mfa_token,
            methods=tokens.methods,
            expires_in=tokens.expires_in,
        )
    return await _signed_in(db, settings, tokens, "Login successful")


async def refresh(
    markets: Markets,
    *,
    issuer: TokenIssuer,
    requested: Market | None,
    refresh_token: str,
    ip: str | None,
) -> tuple[out.RefreshOut, str, int]:
    """Rotation with theft detection, as on /api/v1; the new token goes back in the cookie."""
    tokens = await auth.refresh(
        markets,
        issuer=issuer,
        requested=requested,
        refresh_token=refresh_token,
        ip=ip,
    )
    assert tokens.refresh_token is not None
    body = out.RefreshOut(
        message="Token refreshed successfully",
        accessToken=tokens.access_token,
        data=out.AccessToken(accessToken=tokens.access_token),
    )
    return body, tokens.refresh_token, tokens.refresh_expires_in


async def logout(
    markets: Markets,
    *,
    claims: AccessClaims | None,
    refresh_token: str | None,
    ip: str | None,
) -> out.Message:
    """End this device's session only: the one the bearer token or the cookie belongs to
    (the seed cleared the user's one refresh token, whichever device had it). Always 200."""
    market = markets.get(claims.market if claims else refresh_token_market(refresh_token or ""))
    if market is not None:
        async with market.session() as db:
            await ending.end_device(db, claims=claims, refresh_token=refresh_token, ip=ip)
    return out.Message(message="Logged out successfully")


async def profile(db: AsyncSession, *, settings: Settings, user_id: int) -> out.ProfileOut:
    user = await users.get_user(db, user_id)
    counter = await uploads(db, settings, user_id)
    data = out.Profile(**seed_user(user, counter.used).model_dump(), createdAt=user.created_at)
    return out.ProfileOut(message="Profile retrieved successfully", data=data, user=data)


def limit_reached(err: usage.QuotaExceeded) -> UploadLimitReached:
    """The seed's 429 body: its counts next to keyturn's counter."""
    counter = err.extra["counter"]
    return UploadLimitReached(
        err.detail,
        retry_after=int(err.headers["Retry-After"]),
        filesUploaded=counter["used"],
        limit=counter["limit"],
        remaining=counter["remaining"],
        counter=counter,
    )
