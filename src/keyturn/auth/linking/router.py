"""HTTP for account linking: add email + password, or a phone, to your account; each is added
only once its code comes back (the emailed one, the texted one)."""

from typing import Any

from fastapi import APIRouter, BackgroundTasks, status

from keyturn.auth.linking import email
from keyturn.auth.linking import service as linking
from keyturn.auth.schemas import (
    EmailProofIn,
    EmailProofSent,
    LinkEmailIn,
    LinkPhoneVerifyIn,
    SendVerificationIn,
    SendVerificationOut,
)
from keyturn.deps import (
    STEP_UP_RESPONSES,
    Caller,
    ClientIp,
    Db,
    OtpDep,
    RequestMarket,
    SettingsDep,
    StepUp,
    ThrottlesDep,
)
from keyturn.users.schemas import UserRead

router = APIRouter(prefix="/auth/link", tags=["account linking"])

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "It belongs to another account, or this account already has one"}
}


@router.post(
    "/email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Add email + password to your (phone) account: emails the address a code",
    description="Nothing is added until `POST /auth/link/email/verify` answers the code, so "
    "the address must be yours. The answer is the same for every address (if it already has "
    "an account, its owner is told instead of sent a code). docs/email-proof.md",
    responses={
        **STEP_UP_RESPONSES,
        409: {"description": "This account already has an email address"},
        422: {"description": "Invalid email, or the password breaks a rule"},
        429: {"description": "Too many codes for this account, address or client (Retry-After)"},
    },
)
async def claim_email(
    db: Db,
    settings: SettingsDep,
    throttles: ThrottlesDep,
    otp: OtpDep,
    caller: StepUp,
    ip: ClientIp,
    background: BackgroundTasks,
    body: LinkEmailIn,
) -> EmailProofSent:
    return await email.claim_email(
        db,
        settings=settings,
        throttles=throttles,
        otp=otp,
        caller=caller,
        email=body.email,
        password=body.password,
        ip=ip,
        defer=background.add_task,
    )


@router.post(
    "/email/send",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a code that proves your account's own address",
    description="An address signs in with its password before it is proven, but a password "
    "reset of a never-proven address removes every other way in (docs/email-proof.md).",
    responses={
        400: {"description": "The account has no email address"},
        409: {"description": "The address is already proven"},
        429: {"description": "Too many codes for this account, address or client (Retry-After)"},
    },
)
async def send_email_proof(
    db: Db,
    settings: SettingsDep,
    throttles: ThrottlesDep,
    otp: OtpDep,
    caller: Caller,
    ip: ClientIp,
    background: BackgroundTasks,
) -> EmailProofSent:
    return await email.send_email_proof(
        db,
        settings=settings,
        throttles=throttles,
        otp=otp,
        caller=caller,
        ip=ip,
        defer=background.add_task,
    )


@router.post(
    "/email/verify",
    summary="Answer the emailed code: the address joins (or is proven on) your account",
    description="Afterwards `POST /auth/login` with this email reaches the same account.",
    responses={
        **CONFLICT,
        400: {"description": "Wrong, expired or used-up code, with `attempts_remaining`"},
    },
)
async def verify_email(
    db: Db, settings: SettingsDep, otp: OtpDep, caller: Caller, ip: ClientIp, body: EmailProofIn
) -> UserRead:
    return await email.verify_email(
        db, settings=settings, otp=otp, caller=caller, code=body.code, ip=ip
    )


@router.post(
    "/phone/send",
    summary="Text a code to the phone you want to add to your account",
    responses={
        **CONFLICT,
        **STEP_UP_RESPONSES,
        422: {"description": "Not a valid phone number, or a country this market does not serve"},
        429: {"description": "Resend cooldown or SMS budget exhausted (Retry-After)"},
    },
)
async def send_phone_code(
    db: Db,
    throttles: ThrottlesDep,
    otp: OtpDep,
    market: RequestMarket,
    caller: StepUp,
    ip: ClientIp,
    body: SendVerificationIn,
) -> SendVerificationOut:
    return await linking.send_phone_code(
        db,
        throttles=throttles,
        otp=otp,
        market=market,
        caller=caller,
        raw_phone=body.phone,
        ip=ip,
    )


@router.post(
    "/phone/verify",
    summary="Prove the phone with its code and add it to your account",
    description="Afterwards phone sign-in with this number reaches the same account.",
    responses={
        **CONFLICT,
        **STEP_UP_RESPONSES,
        400: {"description": "Wrong or expired code"},
    },
)
async def verify_phone(
    db: Db,
    throttles: ThrottlesDep,
    otp: OtpDep,
    market: RequestMarket,
    caller: StepUp,
    ip: ClientIp,
    body: LinkPhoneVerifyIn,
) -> UserRead:
    return await linking.verify_phone(
        db,
        throttles=throttles,
        otp=otp,
        market=market,
        caller=caller,
        raw_phone=body.phone,
        code=body.verification_code,
        ip=ip,
    )
