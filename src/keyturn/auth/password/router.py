"""HTTP for email + password: register, login, forgot/reset, change."""

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from keyturn.auth import cookies
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.password import reset, service
from keyturn.auth.schemas import (
    ChangePasswordIn,
    ForgotPasswordIn,
    LoginIn,
    MessageOut,
    PasswordChangedOut,
    RegisterIn,
    ResetPasswordIn,
    TokenResponse,
)
from keyturn.deps import (
    STEP_UP_RESPONSES,
    ClientIp,
    Db,
    Market,
    RequestMarket,
    SettingsDep,
    SignInDep,
    StepUp,
    ThrottlesDep,
    UserAgent,
)
from keyturn.deps import OptionalClaims as BearerClaims
from keyturn.sessions.devices import Device

router = APIRouter(prefix="/auth", tags=["password"])

WEAK_PASSWORD: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "The new password breaks a rule; `code` says which "
        "(`password.too_short`, `password.too_long`, `password.weak`, `password.personal`)"
    }
}
COOKIE_NOTE = (
    ' Browsers: send `"refresh_transport": "cookie"` to get the refresh token as an HttpOnly '
    "cookie instead of in the body."
)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account with email + password; signs this device in",
    description="Send a guest session's bearer token to keep its cart and wishlist." + COOKIE_NOTE,
    responses={**WEAK_PASSWORD, 409: {"description": "The email already has an account"}},
)
async def register(
    request: Request,
    response: Response,
    db: Db,
    context: SignInDep,
    market: RequestMarket,
    ip: ClientIp,
    guest: BearerClaims,
    body: RegisterIn,
    user_agent: UserAgent = None,
) -> TokenResponse:
    tokens = await service.register(
        db,
        context=context,
        market=market,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
        company=body.company,
        device=Device(name=body.device_name, user_agent=user_agent, ip=ip),
        guest_claims=guest,
    )
    return cookies.respond(request, response, tokens, body.refresh_transport)


@router.post(
    "/login",
    summary="Sign in with email + password; opens a session on this device",
    description="Wrong password and unknown email get the same 401." + COOKIE_NOTE,
    responses={
        401: {"description": "Invalid email or password (the same for unknown emails)"},
        403: {"description": "The account is disabled"},
        429: {"description": "Too many failures for this account or address (Retry-After)"},
    },
)
async def login(
    request: Request,
    response: Response,
    db: Db,
    context: SignInDep,
    market: Market,
    ip: ClientIp,
    guest: BearerClaims,
    body: LoginIn,
    user_agent: UserAgent = None,
) -> TokenResponse | MfaRequiredOut:
    tokens = await service.login(
        db,
        context=context,
        market=market,
        email=body.email,
        password=body.password,
        device=Device(name=body.device_name, user_agent=user_agent, ip=ip),
        guest_claims=guest,
    )
    return cookies.respond(request, response, tokens, body.refresh_transport)


@router.post(
    "/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a password reset link (the answer is the same for unknown emails)",
    responses={429: {"description": "Too many reset requests (Retry-After)"}},
)
async def forgot_password(
    db: Db,
    settings: SettingsDep,
    throttles: ThrottlesDep,
    market: Market,
    ip: ClientIp,
    background: BackgroundTasks,
    body: ForgotPasswordIn,
) -> MessageOut:
    return await reset.forgot_password(
        db,
        settings=settings,
        throttles=throttles,
        market=market,
        email=body.email,
        ip=ip,
        defer=background.add_task,
    )


@router.post(
    "/password/reset",
    summary="Set a new password with the emailed token; ends every session",
    responses={
        **WEAK_PASSWORD,
        400: {"description": "The token is invalid, expired or already used"},
    },
)
async def reset_password(
    db: Db,
    throttles: ThrottlesDep,
    market: Market,
    ip: ClientIp,
    body: ResetPasswordIn,
) -> PasswordChangedOut:
    return await reset.reset_password(
        db,
        throttles=throttles,
        market=market,
        token=body.token,
        new_password=body.new_password,
        ip=ip,
    )


@router.post(
    "/password/change",
    summary="Change your password; every other session ends, this one stays (step-up)",
    responses={
        **STEP_UP_RESPONSES,
        **WEAK_PASSWORD,
        400: {"description": "`current_password` is wrong, or the account has no password"},
        429: {"description": "Too many wrong current passwords (Retry-After)"},
    },
)
async def change_password(
    db: Db,
    throttles: ThrottlesDep,
    caller: StepUp,
    ip: ClientIp,
    body: ChangePasswordIn,
) -> PasswordChangedOut:
    return await service.change_password(
        db,
        throttles=throttles,
        caller=caller,
        current_password=body.current_password,
        new_password=body.new_password,
        ip=ip,
    )
