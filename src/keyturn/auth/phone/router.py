"""HTTP for phone sign-in: ask for a code, sign in with it."""

from fastapi import APIRouter, Request, Response

from keyturn.auth import cookies
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.phone import service
from keyturn.auth.schemas import (
    SendVerificationIn,
    SendVerificationOut,
    TokenResponse,
    VerifyCodeIn,
)
from keyturn.deps import (
    ClientIp,
    Db,
    OtpDep,
    RequestMarket,
    SignInDep,
    ThrottlesDep,
    UserAgent,
)
from keyturn.deps import OptionalClaims as BearerClaims
from keyturn.sessions.devices import Device

router = APIRouter(prefix="/auth", tags=["auth"])


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
    throttles: ThrottlesDep,
    otp: OtpDep,
    market: RequestMarket,
    ip: ClientIp,
    body: SendVerificationIn,
) -> SendVerificationOut:
    return await service.send_verification(
        db, throttles=throttles, otp=otp, market=market, raw_phone=body.phone, ip=ip
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
    context: SignInDep,
    otp: OtpDep,
    market: RequestMarket,
    ip: ClientIp,
    guest: BearerClaims,
    body: VerifyCodeIn,
    user_agent: UserAgent = None,
) -> TokenResponse | MfaRequiredOut:
    tokens = await service.verify_code(
        db,
        context=context,
        otp=otp,
        market=market,
        raw_phone=body.phone,
        code=body.verification_code,
        device=Device(name=body.device_name, user_agent=user_agent, ip=ip),
        guest_claims=guest,
    )
    return cookies.respond(request, response, tokens, body.refresh_transport)
