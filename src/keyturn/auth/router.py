from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status

from keyturn.auth import cookies, service
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
from keyturn.deps import (
    Caller,
    ClientIp,
    DatabasesDep,
    Db,
    KeyringDep,
    Limiter,
    Market,
    SettingsDep,
)
from keyturn.deps import OptionalClaims as BearerClaims
from keyturn.errors import Unauthorized
from keyturn.sessions.service import Device

router = APIRouter(prefix="/auth", tags=["auth"])

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid, expired or revoked token"}
}


async def get_otp(request: Request) -> Otp:
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
    request: Request,
    response: Response,
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
    tokens = await service.verify_code(
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
    return cookies.respond(request, response, settings, tokens, body.refresh_transport)


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
    "token the session has moved past ends the session (token theft). Browsers using "
    "cookie transport send no body token: the refresh cookie is read instead, the request's "
    "`Origin` must be allowed (else 403), and the new token goes back into the cookie.",
    responses={
        **UNAUTHORIZED,
        403: {"description": "Cookie refresh from an origin that is not allowed"},
    },
)
async def refresh(
    request: Request,
    response: Response,
    databases: DatabasesDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    market: Market,
    ip: ClientIp,
    body: RefreshIn | None = None,
) -> TokenResponse:
    token = body.refresh_token if body else None
    from_cookie = token is None
    if token is None:
        token = cookies.read(request)
        if token is None:
            raise Unauthorized("Send `refresh_token`, or the refresh cookie.")
        cookies.check_origin(request, settings)
    try:
        tokens = await service.refresh(
            databases,
            settings=settings,
            keyring=keyring,
            requested_market=market if "x-market" in request.headers else None,
            refresh_token=token,
            ip=ip,
        )
    except Unauthorized as refused:
        if from_cookie:  # a dead cookie is of no use to the browser
            refused.headers["Set-Cookie"] = cookies.clearing_header(request, settings)
        raise
    if from_cookie or cookies.wants_cookie(request, body.refresh_transport if body else None):
        return cookies.deliver(request, response, settings, tokens)
    return tokens


@router.post(
    "/logout",
    summary="End this session (`current`), every other one (`others`) or all of them",
    description="Clears the browser's refresh cookie unless the scope is `others`.",
    responses=UNAUTHORIZED,
)
async def logout(
    request: Request,
    response: Response,
    db: Db,
    settings: SettingsDep,
    caller: Caller,
    ip: ClientIp,
    body: LogoutIn | None = None,
) -> MessageOut:
    scope = body.scope if body else "current"
    result = await service.logout(db, caller=caller, scope=scope, ip=ip)
    if scope != "others" and cookies.read(request) is not None:
        cookies.clear(request, response, settings)
    return result
