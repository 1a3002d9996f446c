"""Forgot / reset password: a single-use token by email, then a new password that ends every
session (docs/passwords-and-browser-sessions.md). A reset proves the mailbox; the first proof
of an address also removes every other way in (docs/email-proof.md)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth import ways_in
from keyturn.auth.models import PasswordReset
from keyturn.auth.password import hashing
from keyturn.auth.schemas import MessageOut, PasswordChangedOut
from keyturn.auth.throttles import Throttles
from keyturn.config import Settings
from keyturn.contacts import normalize_email
from keyturn.db import end_read, utcnow
from keyturn.errors import BadRequest
from keyturn.events import service as events
from keyturn.notices import service as notices
from keyturn.notify import email as mail
from keyturn.sessions import ending
from keyturn.users import service as users
from keyturn.users.models import User


class InvalidResetToken(BadRequest):
    """The reset token is unknown, expired or already used."""

    code = "password.reset_invalid"


FORGOT_MESSAGE = "If an account uses that address, we have emailed a link to reset its password."


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def spend_tokens(db: AsyncSession, *, user_id: int) -> None:
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
    throttles: Throttles,
    market: str,
    email: str,
    ip: str | None,
    defer: mail.Defer,
) -> MessageOut:
    """Email a single-use reset link. The answer never says whether the address is known."""
    email = normalize_email(email)
    await throttles.reset_requested(market=market, email=email, ip=ip)
    user = await users.find_by_email(db, email)
    if user is not None and user.is_active:
        token = secrets.token_urlsafe(32)
        ttl = settings.email.reset_ttl
        db.add(
            PasswordReset(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + ttl)
        )
        await db.flush()
        minutes = int(ttl.total_seconds() // 60)
        link = settings.email.reset_url.format(token=token, market=market)
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
    throttles: Throttles,
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
    password_hash = await hashing.new_password_hash(
        new_password, personal=(user.email, user.full_name, user.company)
    )
    spent = await db.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        raise invalid  # a concurrent reset spent it first
    await spend_tokens(db, user_id=user.id)
    await db.refresh(user, with_for_update=True)
    user.password_hash = password_hash
    # The reset proved the mailbox. If nobody had before, whoever planted the address may
    # have added ways in: they all go (docs/email-proof.md).
    first_proof = not user.email_verified
    removed = await ways_in.remove_all(db, user=user) if first_proof else []
    user.email_verified = True
    revoked = await ending.revoke_user_sessions(db, user_id=user.id, reason="password_reset")
    audit.record(
        db, "password.reset", user_id=user.id, ip=ip, sessions_revoked=revoked, removed=removed
    )
    events.emit(
        db, "password.changed", {"user_id": user.id, "how": "reset", "sessions_revoked": revoked}
    )
    if first_proof:  # passkeys and identities announce their own removal (ways_in)
        phone = ["phone_number"] if "phone" in removed else []
        users.announce(db, "user.updated", user, changed=["email_verified", *phone])
    notices.queue(db, user=user, kind="password_changed")
    await db.commit()
    if user.email:
        await throttles.login_succeeded(market=market, account=user.email)
    return PasswordChangedOut(
        message="Password changed; sign in with the new password.", sessions_revoked=revoked
    )
