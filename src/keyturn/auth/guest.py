"""Guest sessions: a device may shop before it signs in. A guest owns a cart and a wishlist,
nothing else (no files, addresses or orders). At sign-in the guest's data moves to the
account in the sign-in transaction, and the guest (user and session) is deleted; guests idle
past `guests.idle_ttl` are purged by the sweep (`keyturn.housekeeping`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.cart import service as cart
from keyturn.db import utcnow
from keyturn.sessions import ending
from keyturn.sessions.models import Session
from keyturn.users.models import User
from keyturn.wishlist import service as wishlist


async def merge_into(db: AsyncSession, *, guest_id: int, user_id: int) -> None:
    """Move everything the guest owns to `user_id`, then delete the guest and its sessions
    (flushed only; `session.revoked` tells other services its tokens are done)."""
    if guest_id == user_id:
        return
    await cart.merge_guest(db, guest_id=guest_id, user_id=user_id)
    await wishlist.merge_guest(db, guest_id=guest_id, user_id=user_id)
    live = await db.execute(
        select(Session.id, Session.expires_at).where(
            Session.user_id == guest_id, Session.revoked_at.is_(None)
        )
    )
    now = utcnow()
    for session_id, expires_at in live.all():
        ending.announce_revoked(
            db,
            session_id=session_id,
            user_id=guest_id,
            reason="guest_signed_in",
            revoked_at=now,
            expires_at=expires_at,
        )
    await db.execute(delete(User).where(User.id == guest_id, User.role == "guest"))


async def purge_idle(db: AsyncSession, *, idle_since: datetime, limit: int) -> int:
    """Delete up to `limit` guests created and last seen (signed in or refreshed) before
    `idle_since`, with their sessions, cart and wishlist (ON DELETE CASCADE); flushed only."""
    seen = select(Session.id).where(Session.user_id == User.id, Session.last_seen_at >= idle_since)
    idle = (User.role == "guest", User.created_at < idle_since, ~seen.exists())
    ids = list(await db.scalars(select(User.id).where(*idle).order_by(User.id).limit(limit)))
    if ids:
        await db.execute(delete(User).where(User.id.in_(ids), *idle))
    return len(ids)
