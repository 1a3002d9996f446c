"""HTTP for second factors: manage them under /profile/mfa, the second step of a sign-in at
/auth/mfa/verify, an administrator's reset."""

from fastapi import APIRouter, Request, Response

from keyturn.auth import cookies
from keyturn.auth.mfa import second_step, service
from keyturn.auth.mfa.schemas import (
    MfaResetOut,
    MfaStatusOut,
    MfaVerifyIn,
    RecoveryCodesOut,
    TotpConfirmIn,
    TotpEnrolmentOut,
)
from keyturn.auth.schemas import MessageOut, TokenResponse
from keyturn.deps import (
    STEP_UP_RESPONSES,
    Admin,
    Caller,
    ClientIp,
    Db,
    Market,
    MfaCipher,
    PathId,
    SettingsDep,
    SignInDep,
    StepUp,
    UserAgent,
)
from keyturn.sessions.devices import Device

router = APIRouter(prefix="/auth/mfa", tags=["second factors"])
profile_router = APIRouter(prefix="/profile/mfa", tags=["second factors"])
admin_router = APIRouter(prefix="/admin/users", tags=["admin"])


@router.post(
    "/verify",
    summary="The second step of a sign-in: an authenticator or recovery code",
    description="After a password or phone sign-in answered `mfa_required`, send its "
    "`mfa_token` with the app's `code` or a `recovery_code`, from the same device. Returns "
    'the token response of every sign-in; `"refresh_transport": "cookie"` as there.',
    responses={
        400: {
            "description": "Wrong or reused code (`attempts_remaining`), or the `mfa_token` is "
            "unknown, used, expired or another device's"
        },
        403: {"description": "The account is disabled"},
        429: {"description": "Too many wrong codes (Retry-After)"},
    },
)
async def verify(
    request: Request,
    response: Response,
    db: Db,
    context: SignInDep,
    cipher: MfaCipher,
    market: Market,
    ip: ClientIp,
    body: MfaVerifyIn,
    user_agent: UserAgent = None,
) -> TokenResponse:
    tokens = await second_step.verify(
        db,
        context=context,
        cipher=cipher,
        market=market,
        mfa_token=body.mfa_token,
        code=body.code,
        recovery_code=body.recovery_code,
        device=Device(name=None, user_agent=user_agent, ip=ip),
    )
    return cookies.respond(request, response, tokens, body.refresh_transport)


@profile_router.get("", summary="Your second factors: the authenticator app, codes left")
async def status(db: Db, caller: Caller) -> MfaStatusOut:
    return await service.status(db, caller=caller)


@profile_router.post(
    "/totp",
    summary="Start adding an authenticator app: its secret and QR code (step-up)",
    description="Scan `qr_svg` (or type `secret`) into the app, then confirm with a code.",
    responses={
        **STEP_UP_RESPONSES,
        409: {"description": "An authenticator app is already set up"},
    },
)
async def start_totp(
    db: Db, settings: SettingsDep, cipher: MfaCipher, caller: StepUp
) -> TotpEnrolmentOut:
    return await service.start_totp(db, settings=settings, cipher=cipher, caller=caller)


@profile_router.post(
    "/totp/confirm",
    summary="Finish adding the app with a code from it; returns 10 recovery codes, once",
    responses={
        400: {"description": "Wrong code: nothing is turned on"},
        409: {"description": "No enrolment, an expired one, or the app is already set up"},
    },
)
async def confirm_totp(
    db: Db,
    settings: SettingsDep,
    cipher: MfaCipher,
    caller: Caller,
    ip: ClientIp,
    body: TotpConfirmIn,
) -> RecoveryCodesOut:
    return await service.confirm_totp(
        db, settings=settings, cipher=cipher, caller=caller, code=body.code, ip=ip
    )


@profile_router.delete(
    "/totp",
    summary="Remove the authenticator app and its recovery codes (step-up)",
    responses={**STEP_UP_RESPONSES, 409: {"description": "There is no authenticator app"}},
)
async def remove_totp(db: Db, caller: StepUp, ip: ClientIp) -> MessageOut:
    return await service.remove_totp(db, caller=caller, ip=ip)


@profile_router.post(
    "/recovery-codes",
    summary="Replace your recovery codes; the old ones stop working (step-up)",
    responses={**STEP_UP_RESPONSES, 409: {"description": "There is no authenticator app"}},
)
async def replace_recovery_codes(db: Db, caller: StepUp, ip: ClientIp) -> RecoveryCodesOut:
    return await service.replace_recovery_codes(db, caller=caller, ip=ip)


@admin_router.post(
    "/{user_id}/mfa/reset",
    summary="Remove a customer's second factor (after verifying them some other way)",
)
async def reset(db: Db, admin: Admin, user_id: PathId) -> MfaResetOut:
    return await service.admin_reset(db, user_id=user_id, admin_id=admin.user_id)
