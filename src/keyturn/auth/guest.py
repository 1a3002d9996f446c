"""Guest sessions: a device may shop before it signs in. At sign-in the guest's data moves
to the account in the sign-in transaction, and the guest (user and session) is deleted."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.users.models import User


async def merge_into(db: AsyncSession, *, guest_id: int, user_id: int) -> None:
    """Move everything the guest owns to `user_id`, then delete the guest (flushed only)."""
    if guest_id == user_id:
        return
    await db.execute(delete(User).where(User.id == guest_id, User.role == "guest"))
