"""Users into keyturn with their seed ids: created, or (on a later run) their empty fields
filled; a keyturn user already holding the id must be the same person (same phone or email).
JobPsych users bring their upload count (`filesUploaded` becomes the `uploads` counter)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import Settings
from keyturn.errors import AppError
from keyturn.seedimport.records import UserRow
from keyturn.users import records
from keyturn.users import service as users
from keyturn.users.importer import raise_uploads
from keyturn.users.models import User


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _same_person(user: User, row: UserRow) -> bool:
    record = row.user
    return bool(
        (record.phone_number and user.phone_number == record.phone_number)
        or (record.email and user.email == record.email)
    )


async def _taken(db: AsyncSession, row: UserRow, user: User | None) -> str | None:
    """Why the row's phone or email cannot be the user's: another keyturn user has it."""
    record = row.user
    for label, value, find, own in (
        ("phone", record.phone_number, users.find_by_phone, user and user.phone_number),
        ("email", record.email, users.find_by_email, user and user.email),
    ):
        if value and not own:  # the row would set it
            other = await find(db, value)
            if other is not None and other is not user:
                return f"its {label} belongs to keyturn user {other.id}"
    return None


async def write_users(
    db: AsyncSession,
    rows: list[UserRow],
    *,
    settings: Settings,
    market: str,
    counts: Counts,
    problems: list[str],
    advance: Callable[[], None],
) -> list[tuple[UserRow, User]]:
    """Create or fill each user (flushed); the users written, for their upload counts."""
    written = []
    for row in rows:
        advance()
        assert row.user.id is not None
        user = await db.get(User, row.user.id)
        if user is not None and not _same_person(user, row):
            problems.append(f"{row.key}: keyturn's user {user.id} is someone else")
            continue
        clash = await _taken(db, row, user)
        if clash:
            problems.append(f"{row.key}: {clash}")
            continue
        if user is None:
            user = records.new_user(row.user, settings.market(market))
            db.add(user)
            await db.flush()
            users.announce(db, "user.created", user, via="import")
            counts.add("created")
        elif changed := records.fill_empty(user, row.user):
            await db.flush()
            users.announce(db, "user.updated", user, changed=changed)
            counts.add("updated")
        else:
            counts.add("unchanged")
        written.append((row, user))
    return written


async def write_uploads(
    db: AsyncSession,
    written: list[tuple[UserRow, User]],
    *,
    settings: Settings,
    counts: Counts,
    problems: list[str],
) -> None:
    """Raise each user's `uploads` counter to their `filesUploaded` (never lower it)."""
    for row, user in written:
        if not row.user.files_uploaded:
            continue
        try:
            moved = await raise_uploads(
                db, settings=settings, user_id=user.id, to=row.user.files_uploaded
            )
        except AppError as exc:  # more than the plan allows: raise the limit, or fix the row
            problems.append(f"{row.key}: filesUploaded {row.user.files_uploaded}: {exc.detail}")
            continue
        counts.add("updated" if moved else "unchanged")
