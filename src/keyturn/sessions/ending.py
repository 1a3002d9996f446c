"""Ending sessions early: logout (this device, others, all), a device, one session, an
admin's action, theft. Each is announced as `session.revoked` for webhooks and the
revocation feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.db import market_of, utcnow
from keyturn.errors import NotFound, Unauthorized
from keyturn.events import service as events
from keyturn.sessions.live import authenticate, live_sessions
from keyturn.sessions.models import RefreshToken, Session
from keyturn.sessions.tokens import (
    AccessClaims,
    hash_refresh_token,
)
from keyturn.users.models import User


def announce_revoked(
    db: AsyncSession,
    *,
    session_id: str,
    user_id: int,
    reason: str,
    revoked_at: datetime,
    expires_at: datetime,
) -> None:
    """`session.revoked`: webhooks and the revocation feed (`sessions.revocations`) read it."""
    events.emit(
        db,
        "session.revoked",
        {
            "session_id": session_id,
            "user_id": user_id,
            "reason": reason,
            "revoked_at": events.timestamp(revoked_at),
            "expires_at": events.timestamp(expires_at),
        },
    )


async def revoke(db: AsyncSession, session: Session, *, reason: str, now: datetime) -> None:
    session.revoked_at = now
    session.revoke_reason = reason
    announce_revoked(
        db,
        session_id=session.id,
        user_id=session.user_id,
        reason=reason,
        revoked_at=now,
        expires_at=session.expires_at,
    )
    await db.flush()
    metrics.sessions_revoked(market_of(db), reason)


async def revoke_user_sessions(
    db: AsyncSession,
    *,
    user_id: int,
    reason: str,
    keep_session_id: str | None = None,
) -> int:
    """Revoke every live session of a user (but `keep_session_id`); flushed, not committed."""
    now = utcnow()
    stmt = (
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)
        .returning(Session.id, Session.expires_at)
    )
    if keep_session_id is not None:
        stmt = stmt.where(Session.id != keep_session_id)
    revoked = (await db.execute(stmt)).all()
    for session_id, expires_at in revoked:
        announce_revoked(
            db,
            session_id=session_id,
            user_id=user_id,
            reason=reason,
            revoked_at=now,
            expires_at=expires_at,
        )
    metrics.sessions_revoked(market_of(db), reason, len(revoked))
    return len(revoked)


async def end_session(db: AsyncSession, *, user_id: int, session_id: str) -> None:
    """A user signs one of their devices out (DELETE /auth/sessions/{id})."""
    await revoke_session(db, user_id=user_id, session_id=session_id, reason="revoked_by_user")
    audit.record(db, "session.revoked", user_id=user_id, session_id=session_id)
    await db.commit()


async def end_device(
    db: AsyncSession, *, claims: AccessClaims | None, refresh_token: str | None, ip: str | None
) -> int:
    """Sign out the device that sent these credentials, for clients whose logout may carry
    only a refresh cookie (the JobPsych API): the bearer token's session and the refresh
    token's, if live (usually one and the same). Commits; returns how many ended."""
    owners: dict[str, int] = {}
    if claims is not None:
        try:
            caller = await authenticate(db, claims)
            owners[caller.session_id] = caller.user_id
        except Unauthorized:
            pass
    if refresh_token is not None:
        found = (
            await db.execute(
                select(Session.id, Session.user_id)
                .join(RefreshToken, RefreshToken.session_id == Session.id)
                .where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
            )
        ).one_or_none()
        if found is not None:
            owners[found.id] = found.user_id
    ended = 0
    now = utcnow()
    for session_id, user_id in owners.items():
        expires_at = await db.scalar(
            update(Session)
            .where(Session.id == session_id, Session.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason="logout")
            .returning(Session.expires_at)
        )
        if expires_at is not None:
            announce_revoked(
                db,
                session_id=session_id,
                user_id=user_id,
                reason="logout",
                revoked_at=now,
                expires_at=expires_at,
            )
            audit.record(db, "logout", user_id=user_id, session_id=session_id, ip=ip)
            ended += 1
    await db.commit()
    return ended


async def revoke_session(db: AsyncSession, *, user_id: int, session_id: str, reason: str) -> None:
    """Revoke one of the user's own live sessions; someone else's is NotFound."""
    now = utcnow()
    expires_at = await db.scalar(
        update(Session)
        .where(
            Session.id == session_id,
            Session.user_id == user_id,
            Session.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoke_reason=reason)
        .returning(Session.expires_at)
    )
    if expires_at is None:
        raise NotFound("No such session.")
    announce_revoked(
        db,
        session_id=session_id,
        user_id=user_id,
        reason=reason,
        revoked_at=now,
        expires_at=expires_at,
    )
    metrics.sessions_revoked(market_of(db), reason)


async def _admin_target(db: AsyncSession, user_id: int) -> None:
    if await db.get(User, user_id) is None:
        raise NotFound("No such user.")


async def admin_list_sessions(db: AsyncSession, *, user_id: int) -> list[Session]:
    """A user's live sessions, for staff."""
    await _admin_target(db, user_id)
    return await live_sessions(db, user_id=user_id)


async def admin_end_session(
    db: AsyncSession, *, user_id: int, session_id: str, admin_id: int
) -> None:
    """Staff sign one of a user's devices out."""
    await _admin_target(db, user_id)
    await revoke_session(db, user_id=user_id, session_id=session_id, reason="revoked_by_admin")
    audit.record(db, "session.revoked", user_id=user_id, session_id=session_id, by=admin_id)
    await db.commit()


async def admin_end_all_sessions(db: AsyncSession, *, user_id: int, admin_id: int) -> int:
    """Staff sign every device of a user out; the account stays enabled."""
    await _admin_target(db, user_id)
    revoked = await revoke_user_sessions(db, user_id=user_id, reason="revoked_by_admin")
    audit.record(db, "session.revoked", user_id=user_id, by=admin_id, sessions_revoked=revoked)
    await db.commit()
    return revoked
