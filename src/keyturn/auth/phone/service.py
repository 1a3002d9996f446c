"""Phone sign-in: text a 6-digit code, then sign in with it; the user is created at its first
sign-in. The code rules live in `otp`, the SMS cost budget in `auth.throttles`; linking a phone to
an account (`auth.linking`) sends its code through `send_code` too."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.auth import signin
from keyturn.auth.mfa import second_step
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.phone.otp import Otp, ResendTooSoon, TooManyAttempts, WrongCode
from keyturn.auth.schemas import SendVerificationOut, TokenResponse
from keyturn.auth.throttles import Throttles
from keyturn.config import MarketConfig
from keyturn.contacts import InvalidPhone, normalize_phone, receives_sms
from keyturn.db import fail, market_of
from keyturn.errors import AppError, Invalid, TooManyRequests
from keyturn.logs import get_logger, mask_phone
from keyturn.markets import Market
from keyturn.notify.sms import SmsRejected, SmsUnavailable
from keyturn.sessions import devices
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users

log = get_logger("keyturn.auth")


class PhoneCountryNotAllowed(Invalid):
    """This market does not send SMS to the number's country (SMS-pumping defence)."""

    code = "phone.country_not_allowed"


class PhoneNotMobile(Invalid):
    """The number cannot receive SMS codes (premium-rate, toll-free, landline, ...)."""

    code = "phone.not_mobile"


def sms_number(raw: str, market: MarketConfig) -> tuple[str, str]:
    """E.164 and country of a number this market may text (`phone.invalid`,
    `phone.country_not_allowed`, else `phone.not_mobile`)."""
    number, region = normalize_phone(raw, market.country)
    if market.sms_countries and region not in market.sms_countries:
        metrics.sms_code_refused(market.code, "country")
        raise PhoneCountryNotAllowed(
            "This service does not send codes to that country.", allowed=market.sms_countries
        )
    if not receives_sms(number):
        metrics.sms_code_refused(market.code, "premium_number")
        raise PhoneNotMobile("Codes are sent to mobile numbers only.")
    return number, region


async def send_code(
    db: AsyncSession,
    *,
    throttles: Throttles,
    otp: Otp,
    number: str,
    region: str,
    ip: str | None,
) -> SendVerificationOut:
    """Refuse a resend too soon, spend the SMS budget, issue and send the code (flushed)."""
    try:
        await otp.check_cooldown(db, phone=number)
        await throttles.sms_sent(phone=number, region=region, ip=ip)
        await otp.issue(db, phone=number)
    except AppError as refused:
        reason = _refusal(refused)
        if reason:
            metrics.sms_code_refused(market_of(db), reason)
        raise
    metrics.sms_code_sent(market_of(db))
    return SendVerificationOut(
        message="Verification code sent.",
        expires_in=int(otp.rules.ttl.total_seconds()),
        resend_after=int(otp.rules.resend_cooldown.total_seconds()),
    )


# Why a code was not sent, by error code (`keyturn_sms_codes_refused_total{reason}`); the SMS
# budgets name their limit instead (`per_phone`, `per_ip`, `per_country`, `global`).
SMS_REFUSALS = {
    ResendTooSoon.code: "cooldown",
    SmsRejected.code: "provider_refused",
    InvalidPhone.code: "provider_refused",  # the provider will not text this number
    SmsUnavailable.code: "provider_error",
}


def _refusal(error: AppError) -> str | None:
    limit = error.extra.get("limit")
    if limit:
        return "global" if limit == "global" else f"per_{limit}"
    return SMS_REFUSALS.get(error.code)


async def send_verification(
    db: AsyncSession,
    *,
    throttles: Throttles,
    otp: Otp,
    market: Market,
    raw_phone: str,
    ip: str | None,
) -> SendVerificationOut:
    """Send a code. The answer is the same whether or not the number has an account."""
    number, region = sms_number(raw_phone, market.config)
    sent = await send_code(db, throttles=throttles, otp=otp, number=number, region=region, ip=ip)
    await db.commit()
    log.info("verification_sent", phone=mask_phone(number), market=market.code)
    return sent


async def verify_code(
    db: AsyncSession,
    *,
    context: signin.SignInContext,
    otp: Otp,
    market: Market,
    raw_phone: str,
    code: str,
    device: devices.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse | MfaRequiredOut:
    """Check the code, create the user on first sign-in, open a session, merge a guest; or,
    for an account with a second factor, hand out its `mfa_token`."""
    number, _ = normalize_phone(raw_phone, market.config.country)
    try:
        await context.throttles.code_guess(ip=device.ip)
    except TooManyRequests:
        metrics.sign_in(market.code, "phone", "throttled")
        raise
    try:
        await otp.consume(db, phone=number, code=code, ip=device.ip)
    except (WrongCode, TooManyAttempts) as refused:  # provider outages are not failed sign-ins
        metrics.sign_in(market.code, "phone", _outcome(refused))
        audit.record(db, "login.failed", ip=device.ip, method="phone", phone=mask_phone(number))
        await fail(db, refused)
    user = await users.find_by_phone(db, number)
    is_new_user = user is None
    if user is None:
        user = users.new_user(market.config, phone_number=number)
        db.add(user)
        await db.flush()
    await signin.refuse_if_disabled(db, user=user, method="phone", ip=device.ip)
    user.is_verified = True
    return await second_step.complete_sign_in(
        db,
        context,
        user=user,
        market=market.code,
        method="phone",
        device=device,
        guest_claims=guest_claims,
        is_new_user=is_new_user,
    )


def _outcome(refused: WrongCode | TooManyAttempts) -> str:
    if isinstance(refused, TooManyAttempts):
        return "throttled"
    return "expired" if refused.expired else "wrong_code"
