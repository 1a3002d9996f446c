"""Email + password sign-in: register, login, change the password; forgetting it is `reset`
(docs/passwords-and-browser-sessions.md).

Hashing (argon2id, ~tens of ms) runs in a worker thread and never while this request holds a
transaction: lookups end their read (`end_read`) before the password is checked.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.auth import signin
from keyturn.auth.mfa import second_step
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.password import hashing, reset, strength
from keyturn.auth.schemas import PasswordChangedOut, TokenResponse
from keyturn.auth.throttles import LoginThrottled, Throttles
from keyturn.contacts import InvalidEmail, normalize_email
from keyturn.db import end_read, fail, utcnow
from keyturn.errors import BadRequest, Unauthorized
from keyturn.events import service as events
from keyturn.logs import get_logger, mask_email
from keyturn.markets import Market
from keyturn.notices import service as notices
from keyturn.sessions import devices, ending, live
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users
from keyturn.users.service import EmailTaken

log = get_logger("keyturn.auth.password")

# The same whether or not the address was proven; a reset is how its owner takes it back.
TAKEN = "An account with this email already exists; sign in, or reset its password if it is yours."


class InvalidCredentials(Unauthorized):
    """Wrong email or password; the same answer whether or not the email has an account."""

    code = "auth.invalid_credentials"


class WrongCurrentPassword(BadRequest):
    """`current_password` does not match (the session stays signed in)."""

    code = "password.current_invalid"


class NoPassword(BadRequest):
    """The account signs in by phone only; it has no password to change."""

    code = "password.not_set"


async def register(
    db: AsyncSession,
    *,
    context: signin.SignInContext,
    market: Market,
    email: str,
    password: str,
    full_name: str | None,
    company: str | None,
    device: devices.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse:
    email = normalize_email(email)
    password = strength.normalize(password)
    strength.check(password, personal=(email, full_name, company))
    await context.throttles.registration(ip=device.ip)
    password_hash = await hashing.hash_password(password)
    if await users.find_by_email(db, email) is not None:
        raise EmailTaken(TAKEN)
    user = users.new_user(
        market.config,
        email=email,
        password_hash=password_hash,
        full_name=full_name,
        company=company,
        last_login=utcnow(),
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        raise EmailTaken(TAKEN) from None
    tokens = await signin.complete_sign_in(
        db,
        context.issuer,
        user=user,
        market=market.code,
        method="password",
        device=device,
        guest_claims=guest_claims,
        is_new_user=True,
    )
    log.info("registered", email=mask_email(email), market=market.code)
    return tokens


async def login(
    db: AsyncSession,
    *,
    context: signin.SignInContext,
    market: str,
    email: str,
    password: str,
    device: devices.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse | MfaRequiredOut:
    """Sign in; wrong password and unknown email give the same 401 in about the same time.
    An account with a second factor gets an `mfa_token` instead of tokens."""
    hashing.refuse_if_busy()
    try:
        account = normalize_email(email)
    except InvalidEmail:  # cannot match an account, but gets the same answer and cost
        account = email.strip().lower()
    throttles = context.throttles
    try:
        await throttles.login_attempt(market=market, account=account, ip=device.ip)
    except LoginThrottled:
        metrics.sign_in(market, "password", "throttled")
        raise
    user = await users.find_by_email(db, account)
    await end_read(db)
    ok, new_hash = await hashing.check_password(password, user.password_hash if user else None)
    if not ok or user is None:
        metrics.sign_in(market, "password", "invalid_credentials")
        await throttles.login_failed(ip=device.ip)
        audit.record(
            db,
            "login.failed",
            user_id=user.id if user else None,
            ip=device.ip,
            method="password",
            email=mask_email(account),
        )
        await fail(db, InvalidCredentials("Invalid email or password."))
    await db.refresh(user, with_for_update=True)
    await signin.refuse_if_disabled(db, user=user, method="password", ip=device.ip)
    if new_hash:
        user.password_hash = new_hash
    tokens = await second_step.complete_sign_in(
        db,
        context,
        user=user,
        market=market,
        method="password",
        device=device,
        guest_claims=guest_claims,
        is_new_user=False,
        rehashed=bool(new_hash),
    )
    await throttles.login_succeeded(market=market, account=account)
    return tokens


async def change_password(
    db: AsyncSession,
    *,
    throttles: Throttles,
    caller: live.Principal,
    current_password: str,
    new_password: str,
    ip: str | None,
) -> PasswordChangedOut:
    """Needs the current password; ends every session but the caller's."""
    user = await users.get_user(db, caller.user_id)
    if user.password_hash is None:
        raise NoPassword("This account has no password yet; add one with /auth/link/email.")
    account = user.email or f"user:{user.id}"
    await throttles.login_attempt(market=caller.market, account=account, ip=ip)
    await end_read(db)
    ok, _ = await hashing.check_password(current_password, user.password_hash)
    if not ok:
        await throttles.login_failed(ip=ip)
        raise WrongCurrentPassword("The current password is not right.")
    await throttles.login_succeeded(market=caller.market, account=account)
    password_hash = await hashing.new_password_hash(
        new_password, personal=(user.email, user.full_name, user.company)
    )
    await db.refresh(user, with_for_update=True)
    user.password_hash = password_hash
    await reset.spend_tokens(db, user_id=user.id)
    revoked = await ending.revoke_user_sessions(
        db, user_id=user.id, reason="password_changed", keep_session_id=caller.session_id
    )
    audit.record(
        db,
        "password.changed",
        user_id=user.id,
        session_id=caller.session_id,
        ip=ip,
        sessions_revoked=revoked,
    )
    events.emit(
        db, "password.changed", {"user_id": user.id, "how": "change", "sessions_revoked": revoked}
    )
    notices.queue(db, user=user, kind="password_changed")
    await db.commit()
    return PasswordChangedOut(
        message="Password changed; your other devices were signed out.", sessions_revoked=revoked
    )
