"""Guest sessions: a device may shop before it signs in. At sign-in the guest's data moves
to the account in the sign-in transaction, and the guest (user and session) is deleted."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.cart import service as cart
from keyturn.users.models import User
from keyturn.wishlist import service as wishlist


async def merge_into(db: AsyncSession, *, guest_id: int, user_id: int) -> None:
    """Move everything the guest owns to `user_id`, then delete the guest (flushed only)."""
    if guest_id == user_id:
        return
    await cart.merge_guest(db, guest_id=guest_id, user_id=user_id)
    await wishlist.merge_guest(db, guest_id=guest_id, user_id=user_id)
    await db.execute(delete(User).where(User.id == guest_id, User.role == "guest"))
