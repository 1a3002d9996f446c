"""Seed 004's `/api/auth/*` sign-in and account calls (docs/compat-jobpsych.md)."""

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from keyturn.auth import cookies as keyturn_cookies
from keyturn.compat.jobpsych import cookies, passwords, service
from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych.deps import (
    JobPsychDb,
    JobPsychDevice,
    JobPsychMarket,
    JobPsychRequestMarket,
)
from keyturn.compat.jobpsych.errors import JobPsychRoute
from keyturn.deps import (
    Caller,
    ClientIp,
    Db,
    IssuerDep,
    MarketsDep,
    OptionalClaims,
    RequestedMarket,
    SettingsDep,
    SignInDep,
    ThrottlesDep,
)
from keyturn.errors import Unauthorized

PREFIX = "/api/auth"
router = APIRouter(prefix=PREFIX, tags=["jobpsych"], route_class=JobPsychRoute)


def _signed_in(request: Request, response: Response, done: service.SignedIn) -> out.AuthOut:
    cookies.deliver(request, response, done.refresh_token, done.refresh_expires_in)
    return done.body


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="JobPsych: create an account; sets the `refreshToken` cookie",
    responses={409: {"description": "A user with this email already exists"}},
)
async def register(
    request: Request,
    response: Response,
    db: JobPsychDb,
    settings: SettingsDep,
    context: SignInDep,
    market: JobPsychRequestMarket,
    device: JobPsychDevice,
    body: out.RegisterIn,
) -> out.AuthOut:
    done = await service.register(
        db,
        settings=settings,
        context=context,
        market=market,
        body=body,
        device=device,
    )
    return _signed_in(request, response, done)


@router.post(
    "/login",
    summary="JobPsych: sign in; sets the `refreshToken` cookie",
    responses={
        401: {
            "description": "Invalid email or password; or the password was right and the "
            "account has a second factor: `mfa_token` for `POST /api/v1/auth/mfa/verify`"
        }
    },
)
async def login(
    request: Request,
    response: Response,
    db: JobPsychDb,
    settings: SettingsDep,
    context: SignInDep,
    market: JobPsychMarket,
    device: JobPsychDevice,
    body: out.LoginIn,
) -> out.AuthOut:
    done = await service.login(
        db,
        settings=settings,
        context=context,
        market=market,
        body=body,
        device=device,
    )
    return _signed_in(request, response, done)


@router.post(
    "/refresh",
    summary="JobPsych: new access token for the `refreshToken` cookie (rotated)",
    responses={401: {"description": "No, invalid, expired or reused refresh token"}},
)
async def refresh(
    request: Request,
    response: Response,
    markets: MarketsDep,
    issuer: IssuerDep,
    requested: RequestedMarket,
    ip: ClientIp,
) -> out.RefreshOut:
    token = cookies.read(request)
    if token is None:
        raise Unauthorized("Refresh token required")
    keyturn_cookies.check_origin(request)
    try:
        body, new_token, max_age = await service.refresh(
            markets,
            issuer=issuer,
            requested=requested,
            refresh_token=token,
            ip=ip,
        )
    except Unauthorized as refused:
        refused.headers["Set-Cookie"] = cookies.clearing_header(request)
        raise
    cookies.deliver(request, response, new_token, max_age)
    return body


@router.post("/logout", summary="JobPsych: sign this device out and clear the cookie")
async def logout(
    request: Request,
    response: Response,
    markets: MarketsDep,
    claims: OptionalClaims,
    ip: ClientIp,
) -> out.Message:
    result = await service.logout(
        markets, claims=claims, refresh_token=cookies.read(request), ip=ip
    )
    cookies.clear(request, response)
    return result


@router.post(
    "/forgot-password",
    summary="JobPsych: email a reset link (the same answer for unknown emails)",
)
async def forgot_password(
    db: JobPsychDb,
    settings: SettingsDep,
    throttles: ThrottlesDep,
    market: JobPsychMarket,
    ip: ClientIp,
    background: BackgroundTasks,
    body: out.EmailIn,
) -> out.Message:
    return await passwords.forgot_password(
        db,
        settings=settings,
        throttles=throttles,
        market=market,
        email=body.email,
        ip=ip,
        defer=background.add_task,
    )


@router.post(
    "/reset-password",
    summary="JobPsych: `{token, newPassword}` resets; `{email}` only emails a reset link",
    responses={400: {"description": "Invalid or expired token, or a field is missing"}},
)
async def reset_password(
    db: JobPsychDb,
    settings: SettingsDep,
    throttles: ThrottlesDep,
    market: JobPsychMarket,
    ip: ClientIp,
    background: BackgroundTasks,
    body: out.ResetPasswordIn,
) -> out.Message:
    return await passwords.reset_or_send_link(
        db,
        settings=settings,
        throttles=throttles,
        market=market,
        body=body,
        ip=ip,
        defer=background.add_task,
    )


@router.post(
    "/reset-password-with-token",
    summary="JobPsych: set a new password with the emailed token; ends every session",
    responses={400: {"description": "Invalid or expired token"}},
)
async def reset_password_with_token(
    db: JobPsychDb,
    throttles: ThrottlesDep,
    market: JobPsychMarket,
    ip: ClientIp,
    body: out.ResetWithTokenIn,
) -> out.MessageWithData:
    return await passwords.reset_password(
        db,
        throttles=throttles,
        market=market,
        token=body.token,
        new_password=body.newPassword,
        confirm_password=body.confirmPassword,
        ip=ip,
    )


@router.post(
    "/change-password",
    summary="JobPsych: change the password; other devices are signed out",
    responses={400: {"description": "Current password wrong, or new passwords differ"}},
)
async def change_password(
    db: Db,
    throttles: ThrottlesDep,
    caller: Caller,
    ip: ClientIp,
    body: out.ChangePasswordIn,
) -> out.MessageWithData:
    return await passwords.change_password(db, throttles=throttles, caller=caller, body=body, ip=ip)


@router.get("/profile", summary="JobPsych: the signed-in user's profile")
async def profile(db: Db, settings: SettingsDep, caller: Caller) -> out.ProfileOut:
    return await service.profile(db, settings=settings, user_id=caller.user_id)
