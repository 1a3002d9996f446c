from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, status

from keyturn.auth import service
from keyturn.auth.otp import Otp
from keyturn.auth.schemas import (
    GuestIn,
    LogoutIn,
    MessageOut,
    RefreshIn,
    SendVerificationIn,
    SendVerificationOut,
    TokenResponse,
    VerifyCodeIn,
)
from keyturn.deps import Caller, ClientIp, Db, KeyringDep, Limiter, Market, SettingsDep
from keyturn.deps import OptionalClaims as BearerClaims
from keyturn.errors import Unauthorized
from keyturn.sessions.service import Device

router = APIRouter(prefix="/auth", tags=["auth"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid, expired or revoked token"}
}


def get_otp(request: Request) -> Otp:
    otp: Otp = request.app.state.otp
    return otp


OtpDep = Annotated[Otp, Depends(get_otp)]
UserAgent = Annotated[str | None, Header(include_in_schema=False)]


@router.post(
    "/send-verification",
    summary="Text a 6-digit sign-in code to a phone",
    responses={
        422: {"description": "Not a valid phone number, or a country this market does not serve"},
        429: {"description": "Resend cooldown or SMS budget exhausted (Retry-After)"},
    },
)
async def send_verification(
    db: Db,
    settings: SettingsDep,
    limiter: Limiter,
    otp: OtpDep,
    market: Market,
    ip: ClientIp,
    body: SendVerificationIn,
) -> SendVerificationOut:
    return await service.send_verification(
        db,
        settings=settings,
        limiter=limiter,
        otp=otp,
        market=market,
        raw_phone=body.phone,
        ip=ip,
    )


@router.post(
    "/verify-code",
    summary="Sign in with the code: opens a session on this device",
    description="Creates the user on first sign-in (`is_new_user: true`). Send a guest "
    "session's bearer token to merge its cart and wishlist into the account.",
    responses={
        400: {"description": "Wrong or expired code, with `attempts_remaining`"},
        403: {"description": "The account is disabled"},
        429: {"description": "Too many wrong codes (Retry-After)"},
    },
)
async def verify_code(
    db: Db,
    settings: SettingsDep,
    keyring: KeyringDep,
    limiter: Limiter,
    otp: OtpDep,
    market: Market,
    ip: ClientIp,
    guest: BearerClaims,
    body: VerifyCodeIn,
    user_agent: UserAgent = None,
) -> TokenResponse:
    return await service.verify_code(
        db,
        settings=settings,
        keyring=keyring,
        limiter=limiter,
        otp=otp,
        market=market,
        raw_phone=body.phone,
        code=body.verification_code,
        device=Device(name=body.device_name, user_agent=user_agent, ip=ip),
        guest_claims=guest,
    )


@router.post(
    "/guest",
    status_code=status.HTTP_201_CREATED,
    summary="Start a guest session that can shop before signing in",
)
async def start_guest(
    db: Db,
    settings: SettingsDep,
    keyring: KeyringDep,
    market: Market,
    ip: ClientIp,
    body: GuestIn | None = None,
    user_agent: UserAgent = None,
) -> TokenResponse:
    device = Device(name=body.device_name if body else None, user_agent=user_agent, ip=ip)
    return await service.start_guest(
        db, settings=settings, keyring=keyring, market=market, device=device
    )


@router.post(
    "/refresh",
    summary="Trade a refresh token for a new pair (the old one is rotated out)",
    description="A retry with the same token after a lost response works. Presenting a "
    "token the session has moved past ends the session (token theft).",
    responses=UNAUTHORIZED,
)
async def refresh(
    db: Db,
    settings: SettingsDep,
    keyring: KeyringDep,
    market: Market,
    ip: ClientIp,
    body: RefreshIn,
) -> TokenResponse:
    if not body.refresh_token:
        raise Unauthorized("Send `refresh_token`.")
    return await service.refresh(
        db,
        settings=settings,
        keyring=keyring,
        market=market,
        refresh_token=body.refresh_token,
        ip=ip,
    )


@router.post(
    "/logout",
    summary="End this session (`current`), every other one (`others`) or all of them",
    responses=UNAUTHORIZED,
)
async def logout(db: Db, caller: Caller, ip: ClientIp, body: LogoutIn | None = None) -> MessageOut:
    return await service.logout(db, caller=caller, scope=body.scope if body else "current", ip=ip)
