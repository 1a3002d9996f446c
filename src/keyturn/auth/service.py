"""Proving who you are: phone sign-in, guest sessions, refresh and logout."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth import firewall, guest, phone
from keyturn.auth.otp import Otp, TooManyAttempts, WrongCode
from keyturn.auth.schemas import MessageOut, SendVerificationOut, TokenResponse
from keyturn.config import Settings
from keyturn.db import Databases, fail, utcnow
from keyturn.errors import Forbidden, Unauthorized
from keyturn.logs import get_logger, mask_phone
from keyturn.ratelimit import RateLimiter
from keyturn.sessions import service as sessions
from keyturn.sessions.keys import Keyring
from keyturn.sessions.tokens import AccessClaims, refresh_token_market
from keyturn.users import service as users
from keyturn.users.models import User
from keyturn.users.schemas import UserRead

log = get_logger("keyturn.auth")


class AccountDisabled(Forbidden):
    """The account was disabled by an administrator; signing in does not re-enable it."""

    code = "auth.account_disabled"


def token_response(
    issued: sessions.IssuedTokens, user: User, *, is_new_user: bool | None = None
) -> TokenResponse:
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
        session_id=issued.session_id,
        user=UserRead.model_validate(user),
        is_new_user=is_new_user,
    )


async def send_verification(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    otp: Otp,
    market: str,
    raw_phone: str,
    ip: str | None,
) -> SendVerificationOut:
    """Send a code. The answer is the same whether or not the number has an account."""
    market_config = settings.market(market)
    number, region = phone.normalize(raw_phone, market_config)
    phone.check_country(region, market_config)
    await otp.check_cooldown(db, phone=number)
    await firewall.spend_sms_budget(limiter, settings, phone=number, region=region, ip=ip)
    await otp.issue(db, phone=number)
    await db.commit()
    log.info("verification_sent", phone=mask_phone(number), market=market)
    return SendVerificationOut(
        message="Verification code sent.",
        expires_in=int(settings.otp.ttl.total_seconds()),
        resend_after=int(settings.otp.resend_cooldown.total_seconds()),
    )


async def verify_code(
    db: AsyncSession,
    *,
    settings: Settings,
    keyring: Keyring,
    limiter: RateLimiter,
    otp: Otp,
    market: str,
    raw_phone: str,
    code: str,
    device: sessions.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse:
    """Check the code, create the user on first sign-in, open a session, merge a guest."""
    market_config = settings.market(market)
    number, _ = phone.normalize(raw_phone, market_config)
    await firewall.spend_verify_budget(limiter, settings, ip=device.ip)
    try:
        await otp.consume(db, phone=number, code=code)
    except (WrongCode, TooManyAttempts) as refused:  # provider outages are not failed sign-ins
        audit.record(db, "login.failed", ip=device.ip, method="phone", phone=mask_phone(number))
        await fail(db, refused)
    user = await users.find_by_phone(db, number)
    is_new_user = user is None
    if user is None:
        user = users.new_user(market_config, phone_number=number)
        db.add(user)
        await db.flush()
    await refuse_if_disabled(db, user=user, ip=device.ip)
    user.is_verified = True
    return await complete_sign_in(
        db,
        settings,
        keyring,
        user=user,
        market=market,
        method="phone",
        device=device,
        guest_claims=guest_claims,
        is_new_user=is_new_user,
    )


async def refuse_if_disabled(db: AsyncSession, *, user: User, ip: str | None) -> None:
    """A disabled account cannot sign in, and signing in never re-enables it."""
    if not user.is_active:
        audit.record(db, "login.failed", user_id=user.id, ip=ip, reason="disabled")
        await fail(db, AccountDisabled("This account is disabled."))


async def complete_sign_in(
    db: AsyncSession,
    settings: Settings,
    keyring: Keyring,
    *,
    user: User,
    market: str,
    method: str,
    device: sessions.Device,
    guest_claims: AccessClaims | None,
    is_new_user: bool,
    **audit_details: object,
) -> TokenResponse:
    """The last step of every sign-in, in its transaction: merge a guest's data, open the
    session, audit, commit."""
    user.last_login = utcnow()
    await absorb_guest(db, claims=guest_claims, user=user)
    issued = await sessions.open_session(
        db, settings, keyring, user=user, market=market, auth_method=method, device=device
    )
    audit.record(
        db,
        "login.succeeded",
        user_id=user.id,
        session_id=issued.session_id,
        ip=device.ip,
        method=method,
        new_user=is_new_user,
        **audit_details,
    )
    await db.commit()
    return token_response(issued, user, is_new_user=is_new_user)


async def absorb_guest(db: AsyncSession, *, claims: AccessClaims | None, user: User) -> None:
    """If the device signed in from a live guest session, the guest's data joins the user."""
    if claims is None or claims.role != "guest" or claims.user_id == user.id:
        return
    try:
        await sessions.authenticate(db, claims)
    except Unauthorized:
        return
    await guest.merge_into(db, guest_id=claims.user_id, user_id=user.id)


async def start_guest(
    db: AsyncSession,
    *,
    settings: Settings,
    keyring: Keyring,
    market: str,
    device: sessions.Device,
) -> TokenResponse:
    user = users.new_user(settings.market(market), role="guest")
    db.add(user)
    await db.flush()
    issued = await sessions.open_session(
        db, settings, keyring, user=user, market=market, auth_method="guest", device=device
    )
    await db.commit()
    return token_response(issued, user, is_new_user=True)


async def refresh(
    databases: Databases,
    *,
    settings: Settings,
    keyring: Keyring,
    requested_market: str | None,
    refresh_token: str,
    ip: str | None,
) -> TokenResponse:
    """Redeem on the token's own market; an `X-Market` naming another one is refused."""
    market = refresh_token_market(refresh_token)
    if market not in settings.market_codes:
        raise Unauthorized("Invalid or expired refresh token.")
    if requested_market is not None and requested_market != market:
        raise Forbidden("This token belongs to another market.")
    async with databases.session(market) as db:
        issued, user = await sessions.refresh(
            db, settings, keyring, refresh_token=refresh_token, market=market, ip=ip
        )
        await db.commit()
    return token_response(issued, user)


LOGOUT_MESSAGES = {
    "current": "Logged out of this device.",
    "others": "Logged out of every other device.",
    "all": "Logged out of every device.",
}


async def logout(
    db: AsyncSession, *, caller: sessions.Principal, scope: str, ip: str | None
) -> MessageOut:
    """End this session, the others, or all. Carts, orders and the account are untouched."""
    if scope == "current":
        await sessions.revoke_session(
            db, user_id=caller.user_id, session_id=caller.session_id, reason="logout"
        )
    else:
        await sessions.revoke_user_sessions(
            db,
            user_id=caller.user_id,
            reason=f"logout_{scope}",
            keep_session_id=caller.session_id if scope == "others" else None,
        )
    audit.record(
        db, "logout", user_id=caller.user_id, session_id=caller.session_id, ip=ip, scope=scope
    )
    await db.commit()
    return MessageOut(message=LOGOUT_MESSAGES[scope])
