"""HTTP for step-up: prove who you are again in this session (RFC 9470)."""

from typing import Any

from fastapi import APIRouter

from keyturn.auth.passkeys import service as passkeys
from keyturn.auth.stepup import service
from keyturn.auth.stepup.schemas import ReauthenticatedOut, ReauthenticateIn
from keyturn.deps import (
    Caller,
    ClientIp,
    Db,
    MfaCipher,
    OAuthDep,
    OtpDep,
    RelyingParty,
    SignInDep,
)

router = APIRouter(prefix="/auth/reauthenticate", tags=["step-up"])


@router.post(
    "",
    summary="Prove it is you again: renews this session's auth_time, returns an access token",
    description="Answer a 401 `insufficient_user_authentication` with any method the account "
    "has (its problem body lists them): `password`; `sms` with a code texted to the "
    "account's phone by `POST /auth/send-verification`; `passkey` with an answer to "
    "`POST /auth/reauthenticate/passkey/options`; `totp` with a `code` from the "
    "authenticator app, or `recovery_code` (spent); `apple` or `google` with a fresh "
    "id_token of the account linked to yours. The session, its refresh token and its "
    "other devices stay as they are; later refreshes keep the new proof, and `amr` keeps "
    "every method this session proved (a password does not undo two factors).",
    responses={
        400: {
            "description": "Wrong password or code, a refused passkey, an Apple/Google account "
            "not linked to yours, or no such method"
        },
        401: {"description": "Signed out, or the Apple/Google id_token is invalid"},
        429: {"description": "Too many wrong passwords or codes (Retry-After)"},
    },
)
async def reauthenticate(
    db: Db,
    rp: RelyingParty,
    context: SignInDep,
    otp: OtpDep,
    cipher: MfaCipher,
    oauth: OAuthDep,
    caller: Caller,
    ip: ClientIp,
    body: ReauthenticateIn,
) -> ReauthenticatedOut:
    return await service.reauthenticate(
        db,
        context=context,
        otp=otp,
        cipher=cipher,
        oauth=oauth,
        rp=rp,
        caller=caller,
        proof=body,
        ip=ip,
    )


@router.post(
    "/passkey/options",
    summary="Request options to re-authenticate with one of your passkeys",
    description="A challenge for this session only, listing your passkeys.",
    responses={400: {"description": "The account has no passkey"}},
)
async def passkey_options(db: Db, rp: RelyingParty, caller: Caller) -> dict[str, Any]:
    return await passkeys.reauthentication_options(db, rp=rp, caller=caller)
