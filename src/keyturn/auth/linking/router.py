"""HTTP for account linking: add email + password, or a proven phone, to your account."""

from typing import Any

from fastapi import APIRouter

from keyturn.auth.linking import service as linking
from keyturn.auth.schemas import (
    LinkEmailIn,
    LinkPhoneVerifyIn,
    SendVerificationIn,
    SendVerificationOut,
)
from keyturn.deps import Caller, ClientIp, Db, Limiter, OtpDep, SettingsDep
from keyturn.users.schemas import UserRead

router = APIRouter(prefix="/auth/link", tags=["account linking"])

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "It belongs to another account, or this account already has one"}
}


@router.post(
    "/email",
    summary="Add email + password to your (phone) account",
    description="Afterwards `POST /auth/login` with this email reaches the same account.",
    responses={**CONFLICT, 422: {"description": "Invalid email, or the password breaks a rule"}},
)
async def link_email(db: Db, caller: Caller, ip: ClientIp, body: LinkEmailIn) -> UserRead:
    return await linking.link_email(
        db, caller=caller, email=body.email, password=body.password, ip=ip
    )


@router.post(
    "/phone/send",
    summary="Text a code to the phone you want to add to your account",
    responses={
        **CONFLICT,
        422: {"description": "Not a valid phone number, or a country this market does not serve"},
        429: {"description": "Resend cooldown or SMS budget exhausted (Retry-After)"},
    },
)
async def send_phone_code(
    db: Db,
    settings: SettingsDep,
    limiter: Limiter,
    otp: OtpDep,
    caller: Caller,
    ip: ClientIp,
    body: SendVerificationIn,
) -> SendVerificationOut:
    return await linking.send_phone_code(
        db,
        settings=settings,
        limiter=limiter,
        otp=otp,
        caller=caller,
        raw_phone=body.phone,
        ip=ip,
    )


@router.post(
    "/phone/verify",
    summary="Prove the phone with its code and add it to your account",
    description="Afterwards phone sign-in with this number reaches the same account.",
    responses={**CONFLICT, 400: {"description": "Wrong or expired code"}},
)
async def verify_phone(
    db: Db,
    settings: SettingsDep,
    limiter: Limiter,
    otp: OtpDep,
    caller: Caller,
    ip: ClientIp,
    body: LinkPhoneVerifyIn,
) -> UserRead:
    return await linking.verify_phone(
        db,
        settings=settings,
        limiter=limiter,
        otp=otp,
        caller=caller,
        raw_phone=body.phone,
        code=body.verification_code,
        ip=ip,
    )
