"""Seed 004's `/api/auth/*` sign-in and account calls (docs/compat-jobpsych.md)."""

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from keyturn.auth import cookies as keyturn_cookies
from keyturn.compat.jobpsych import cookies, passwords, service
from keyturn.compat.jobpsych import schemas as out
from keyturn.compat.jobpsych.deps import JobPsychDb, JobPsychDevice, JobPsychMarket
from keyturn.compat.jobpsych.errors import JobPsychRoute
from keyturn.deps import (
    Caller,
    ClientIp,
    Db,
    KeyringDep,
    Limiter,
    MarketsDep,
    OptionalClaims,
    RequestedMarket,
    SettingsDep,
)
from keyturn.errors import Unauthorized

PREFIX = "/api/auth"
router = APIRouter(prefix=PREFIX, tags=["jobpsych"], route_class=JobPsychRoute)


def _signed_in(
    request: Request, response: Response, settings: SettingsDep, done: service.SignedIn
) -> out.AuthOut:
    cookies.deliver(request, response, settings, done.refresh_token, done.refresh_expires_in)
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
    keyring: KeyringDep,
    limiter: Limiter,
    market: JobPsychMarket,
    device: JobPsychDevice,
    body: out.RegisterIn,
) -> out.AuthOut:
    done = await service.register(
        db,
        settings=settings,
        keyring=keyring,
        limiter=limiter,
        market=market,
        body=body,
        device=device,
    )
    return _signed_in(request, response, settings, done)


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
    keyring: KeyringDep,
    limiter: Limiter,
    market: JobPsychMarket,
    device: JobPsychDevice,
    body: out.LoginIn,
) -> out.AuthOut:
    done = await service.login(
        db,
        settings=settings,
        keyring=keyring,
        limiter=limiter,
        market=market,
        body=body,
        device=device,
    )
    return _signed_in(request, response, settings, done)


@router.post(
    "/refresh",
    summary="JobPsych: new access token for the `refreshToken` cookie (rotated)",
    responses={401: {"description": "No, invalid, expired or reused refresh token"}},
)
async def refresh(
    request: Request,
    response: Response,
    markets: MarketsDep,
    settings: SettingsDep,
    keyring: KeyringDep,
    requested: RequestedMarket,
    ip: ClientIp,
) -> out.RefreshOut:
    token = cookies.read(request)
    if token is None:
        raise Unauthorized("Refresh token required")
    keyturn_cookies.check_origin(request, settings)
    try:
        body, new_token, max_age = await service.refresh(
            markets,
            settings=settings,
            keyring=keyring,
            requested=requested,
            refresh_token=token,
            ip=ip,
        )
    except Unauthorized as refused:
        refused.headers["Set-Cookie"] = cookies.clearing_header(request, settings)
        raise
    cookies.deliver(request, response, settings, new_token, max_age)
    return body


@router.post("/logout", summary="JobPsych: sign this device out and clear the cookie")
async def logout(
    request: Request,
    response: Response,
    markets: MarketsDep,
    settings: SettingsDep,
    claims: OptionalClaims,
    ip: ClientIp,
) -> out.Message:
    result = await service.logout(
        markets, claims=claims, refresh_token=cookies.read(request), ip=ip
    )
    cookies.clear(request, response, settings)
    return result


@router.post(
    "/forgot-password",
    summary="JobPsych: email a reset link (the same answer for unknown emails)",
)
async def forgot_password(
    db: JobPsychDb,
    settings: SettingsDep,
    limiter: Limiter,
    market: JobPsychMarket,
    ip: ClientIp,
    background: BackgroundTasks,
    body: out.EmailIn,
) -> out.Message:
    return await passwords.forgot_password(
        db,
        settings=settings,
        limiter=limiter,
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
    limiter: Limiter,
    market: JobPsychMarket,
    ip: ClientIp,
    background: BackgroundTasks,
    body: out.ResetPasswordIn,
) -> out.Message:
    return await passwords.reset_or_send_link(
        db,
        settings=settings,
        limiter=limiter,
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
    settings: SettingsDep,
    limiter: Limiter,
    market: JobPsychMarket,
    ip: ClientIp,
    body: out.ResetWithTokenIn,
) -> out.MessageWithData:
    return await passwords.reset_password(
        db,
        settings=settings,
        limiter=limiter,
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
    settings: SettingsDep,
    limiter: Limiter,
    caller: Caller,
    ip: ClientIp,
    body: out.ChangePasswordIn,
) -> out.MessageWithData:
    return await passwords.change_password(
        db, settings=settings, limiter=limiter, caller=caller, body=body, ip=ip
    )


@router.get("/profile", summary="JobPsych: the signed-in user's profile")
async def profile(db: Db, settings: SettingsDep, caller: Caller) -> out.ProfileOut:
    return await service.profile(db, settings=settings, user_id=caller.user_id)
