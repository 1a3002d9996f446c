""" "This wasn't me": a security notice's single-use link ends every session of the account
and every outstanding password-reset link, and removes the way in the notice told was added
(docs/security-notices.md)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth import ways_in
from keyturn.auth.password import reset
from keyturn.db import utcnow
from keyturn.errors import BadRequest
from keyturn.notices.models import SecurityNotice
from keyturn.notices.schemas import SecuredOut
from keyturn.notices.service import token_hash
from keyturn.sessions import ending


class LinkInvalid(BadRequest):
    """The "this wasn't me" link is unknown, expired or already used."""

    code = "notice.link_invalid"


def _usable(notice: SecurityNotice | None) -> SecurityNotice | None:
    if (
        notice is None
        or notice.link_used_at is not None
        or notice.link_expires_at is None
        or notice.link_expires_at <= utcnow()
    ):
        return None
    return notice


async def find_link(db: AsyncSession, *, token: str) -> SecurityNotice | None:
    """The notice whose link this is, while the link may still be used."""
    return _usable(
        await db.scalar(
            select(SecurityNotice).where(SecurityNotice.token_hash == token_hash(token))
        )
    )


async def secure_account(db: AsyncSession, *, token: str, ip: str | None) -> SecuredOut:
    """ "This wasn't me": spend the link, remove the way in the notice told was added (a
    passkey, an Apple/Google link, an authenticator app) if it is still there, end every
    session of the account and every outstanding password-reset link, in one transaction."""
    notice = _usable(
        await db.scalar(
            select(SecurityNotice)
            .where(SecurityNotice.token_hash == token_hash(token))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if notice is None:
        raise LinkInvalid("This link is invalid, expired or already used.")
    notice.link_used_at = utcnow()
    removed = await ways_in.remove_added(db, user_id=notice.user_id, details=notice.details)
    revoked = await ending.revoke_user_sessions(db, user_id=notice.user_id, reason="not_me")
    await reset.spend_tokens(db, user_id=notice.user_id)
    audit.record(
        db,
        "account.secured",
        user_id=notice.user_id,
        ip=ip,
        sessions_revoked=revoked,
        removed=removed,
    )
    await db.commit()
    return SecuredOut(
        message="Every session of your account has ended. Sign in again; if you use a "
        "password, change it.",
        sessions_revoked=revoked,
    )
