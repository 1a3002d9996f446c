"""Email + password accounts: register, login, forgot/reset, change (DESIGN §5).

Hashing (argon2id, ~tens of ms) runs in a worker thread and never while this request holds
SQLite's write lock: lookups end their read transaction before the password is checked.
"""

from __future__ import annotations

import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth import passwords, strength, throttle
from keyturn.auth.models import PasswordReset
from keyturn.auth.schemas import MessageOut, PasswordChangedOut, TokenResponse
from keyturn.auth.service import complete_sign_in, refuse_if_disabled
from keyturn.config import Settings
from keyturn.db import end_read, fail, utcnow
from keyturn.errors import BadRequest, Conflict, Invalid, Unauthorized
from keyturn.logs import get_logger, mask_email
from keyturn.notify import email as mail
from keyturn.ratelimit import Limit, RateLimiter
from keyturn.sessions import service as sessions
from keyturn.sessions.keys import Keyring
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users
from keyturn.users.models import User

log = get_logger("keyturn.auth.password")


class InvalidEmail(Invalid):
    """The email address is not a valid address."""

    code = "email.invalid"


class EmailTaken(Conflict):
    """Another account already uses this email address."""

    code = "account.email_taken"


class InvalidCredentials(Unauthorized):
    """Wrong email or password; the same answer whether or not the email has an account."""

    code = "auth.invalid_credentials"


class WrongCurrentPassword(BadRequest):
    """`current_password` does not match (the session stays signed in)."""

    code = "password.current_invalid"


class NoPassword(BadRequest):
    """The account signs in by phone only; it has no password to change."""

    code = "password.not_set"


class InvalidResetToken(BadRequest):
    """The reset token is unknown, expired or already used."""

    code = "password.reset_invalid"


FORGOT_MESSAGE = "If an account uses that address, we have emailed a link to reset its password."


def normalize_email(raw: str) -> str:
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"Not a valid email address: {exc}") from None
    return checked.normalized.lower()


async def register(
    db: AsyncSession,
    *,
    settings: Settings,
    keyring: Keyring,
    limiter: RateLimiter,
    market: str,
    email: str,
    password: str,
    full_name: str | None,
    company: str | None,
    device: sessions.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse:
    email = normalize_email(email)
    password = strength.normalize(password)
    strength.check(password, personal=(email, full_name, company))
    await limiter.hit(
        Limit("ip", settings.login.register_per_ip, ("register-ip", device.ip or "unknown")),
        detail="Too many accounts created from this address; try again later.",
    )
    password_hash = await passwords.hash_password(password)
    if await users.find_by_email(db, email) is not None:
        raise EmailTaken("An account with this email already exists; sign in instead.")
    user = users.new_user(
        settings.market(market),
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
        raise EmailTaken("An account with this email already exists; sign in instead.") from None
    tokens = await complete_sign_in(
        db,
        settings,
        keyring,
        user=user,
        market=market,
        method="password",
        device=device,
        guest_claims=guest_claims,
        is_new_user=True,
    )
    log.info("registered", email=mask_email(email), market=market)
    return tokens


async def login(
    db: AsyncSession,
    *,
    settings: Settings,
    keyring: Keyring,
    limiter: RateLimiter,
    market: str,
    email: str,
    password: str,
    device: sessions.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse:
    """Sign in; wrong password and unknown email give the same 401 in about the same time."""
    try:
        account = normalize_email(email)
    except InvalidEmail:  # cannot match an account, but gets the same answer and cost
        account = email.strip().lower()
    await throttle.begin_attempt(limiter, settings, market=market, account=account, ip=device.ip)
    user = await users.find_by_email(db, account)
    await end_read(db)
    ok, new_hash = await passwords.check_password(password, user.password_hash if user else None)
    if not ok or user is None:
        await throttle.failed(limiter, settings, ip=device.ip)
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
    await refuse_if_disabled(db, user=user, ip=device.ip)
    if new_hash:
        user.password_hash = new_hash
    tokens = await complete_sign_in(
        db,
        settings,
        keyring,
        user=user,
        market=market,
        method="password",
        device=device,
        guest_claims=guest_claims,
        is_new_user=False,
        rehashed=bool(new_hash),
    )
    await throttle.succeeded(limiter, settings, market=market, account=account)
    return tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _spend_reset_tokens(db: AsyncSession, *, user_id: int) -> None:
    """A new password makes every outstanding reset link useless."""
    await db.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )


async def forgot_password(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    market: str,
    email: str,
    ip: str | None,
    defer: mail.Defer,
) -> MessageOut:
    """Email a single-use reset link. The answer never says whether the address is known."""
    email = normalize_email(email)
    await limiter.hit(
        Limit("email", settings.login.forgot_per_email, ("forgot-email", market, email)),
        Limit("ip", settings.login.forgot_per_ip, ("forgot-ip", ip or "unknown")),
        detail="Too many reset requests; try again later.",
    )
    user = await users.find_by_email(db, email)
    if user is not None and user.is_active:
        token = secrets.token_urlsafe(32)
        ttl = settings.email.reset_ttl
        db.add(
            PasswordReset(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + ttl)
        )
        await db.flush()
        minutes = int(ttl.total_seconds() // 60)
        link = settings.email.reset_url.format(token=token)
        await mail.make_mailer(settings).send(
            db,
            mail.Email(
                to=email,
                subject="Reset your keyturn password",
                body=f"Someone asked to reset the password of this account.\n\n"
                f"Open this link within {minutes} minutes to choose a new password:\n{link}\n\n"
                f"Or send this token to the app: {token}\n\n"
                "If it was not you, ignore this email; your password stays as it is.",
                kind="password_reset",
                token=token,
            ),
            defer=defer,
        )
    await db.commit()
    return MessageOut(message=FORGOT_MESSAGE)


async def reset_password(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    market: str,
    token: str,
    new_password: str,
    ip: str | None,
) -> PasswordChangedOut:
    """Spend the token, set the password, end every session; all or nothing."""
    invalid = InvalidResetToken("This reset link is invalid, expired or already used.")
    reset = await db.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    )
    user = await db.get(User, reset.user_id) if reset else None
    if reset is None or user is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise invalid
    await end_read(db)
    password_hash = await passwords.new_password_hash(
        new_password, personal=(user.email, user.full_name, user.company)
    )
    spent = await db.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        raise invalid  # a concurrent reset spent it first
    await _spend_reset_tokens(db, user_id=user.id)
    user.password_hash = password_hash
    user.email_verified = True  # the reset proved the mailbox is theirs
    revoked = await sessions.revoke_user_sessions(db, user_id=user.id, reason="password_reset")
    audit.record(db, "password.reset", user_id=user.id, ip=ip, sessions_revoked=revoked)
    await db.commit()
    if user.email:
        await throttle.succeeded(limiter, settings, market=market, account=user.email)
    return PasswordChangedOut(
        message="Password changed; sign in with the new password.", sessions_revoked=revoked
    )


async def change_password(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    caller: sessions.Principal,
    current_password: str,
    new_password: str,
    ip: str | None,
) -> PasswordChangedOut:
    """Needs the current password; ends every session but the caller's."""
    user = await users.get_user(db, caller.user_id)
    if user.password_hash is None:
        raise NoPassword("This account has no password yet; add one with /auth/link/email.")
    account = user.email or f"user:{user.id}"
    await throttle.begin_attempt(limiter, settings, market=caller.market, account=account, ip=ip)
    await end_read(db)
    ok, _ = await passwords.check_password(current_password, user.password_hash)
    if not ok:
        await throttle.failed(limiter, settings, ip=ip)
        raise WrongCurrentPassword("The current password is not right.")
    await throttle.succeeded(limiter, settings, market=caller.market, account=account)
    password_hash = await passwords.new_password_hash(
        new_password, personal=(user.email, user.full_name, user.company)
    )
    await db.refresh(user, with_for_update=True)
    user.password_hash = password_hash
    await _spend_reset_tokens(db, user_id=user.id)
    revoked = await sessions.revoke_user_sessions(
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
    await db.commit()
    return PasswordChangedOut(
        message="Password changed; your other devices were signed out.", sessions_revoked=revoked
    )
