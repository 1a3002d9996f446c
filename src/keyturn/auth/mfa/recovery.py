"""Recovery codes: 10 single-use codes that stand in for the authenticator app when the phone
is lost. Shown once, stored as SHA-256 (80 random bits each, so a leaked table cannot be
searched), spent with one conditional update (two requests never both spend one)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.models import RecoveryCode
from keyturn.db import utcnow

COUNT = 10
# 32 letters and digits without the look-alikes l, o, 0, 1: 5 bits a character.
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
LENGTH = 16


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def _digest(user_id: int, code: str) -> str:
    """Of the code as typed or printed: case, spaces and dashes do not matter."""
    plain = "".join(ch for ch in code.lower() if ch not in "- ")
    return hashlib.sha256(f"{user_id}:{plain}".encode()).hexdigest()


async def replace(db: AsyncSession, *, user_id: int) -> list[str]:
    """A new set of codes; the old set stops working (flushed)."""
    await remove(db, user_id=user_id)
    codes = [_new_code() for _ in range(COUNT)]
    db.add_all(RecoveryCode(user_id=user_id, code_hash=_digest(user_id, c)) for c in codes)
    await db.flush()
    return codes


async def spend(db: AsyncSession, *, user_id: int, code: str) -> bool:
    """Use one code if it is one of the user's unused ones (flushed)."""
    result = await db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _digest(user_id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def remaining(db: AsyncSession, *, user_id: int) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


async def remove(db: AsyncSession, *, user_id: int) -> None:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
