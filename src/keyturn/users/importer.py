"""`keyturn import-users`: bring an existing user base (the JobPsych API's `users`, the shop
app's phone users) into one market.

Input is CSV with a header row, a JSON array of objects, or JSON Lines; the columns are those
of `users.records` (`email` and/or `phone`, `name`, `company`, a bcrypt or argon2id
`password`, `files_uploaded`, ...). Ids are not kept here (`keyturn import-seed` keeps them).

All or nothing: every row is checked first and errors are reported with their line numbers;
then the rows are written in one transaction. Re-running is harmless: users are matched by
email, else by phone, and only empty fields are filled, so a password changed (or re-hashed
to argon2id at login) since the last run is never overwritten. `files_uploaded` becomes the
`uploads` usage counter's `used` (raised to it, never lowered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import MarketConfig, Settings
from keyturn.errors import AppError
from keyturn.tabular import read_records
from keyturn.usage import service as usage
from keyturn.users import records
from keyturn.users import service as users
from keyturn.users.models import User
from keyturn.users.records import UserRecord


@dataclass(frozen=True)
class ImportRow:
    line: int
    user: UserRecord


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def read_rows(path: Path, market: MarketConfig) -> tuple[list[ImportRow], list[str]]:
    """Every valid row and every problem (`line N: ...`); nothing is written here."""
    try:
        found = read_records(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [], [f"{path}: {exc}"]
    rows: list[ImportRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, record in found:
        try:
            user = records.parse_user(record, market)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        # Ids belong to import-seed; here a row is found by its email or phone.
        user = replace(user, id=None)
        keys = [k for k in (user.email, user.phone_number) if k]
        again = next((k for k in keys if k in seen), None)
        if again is not None:
            errors.append(f"line {line}: {again} already appears on line {seen[again]}")
            continue
        seen.update(dict.fromkeys(keys, line))
        rows.append(ImportRow(line, user))
    return rows, errors


async def _find(db: AsyncSession, row: ImportRow) -> User | None:
    """The user this row is about: by email, else by phone; both must agree."""
    by_email = await users.find_by_email(db, row.user.email) if row.user.email else None
    by_phone = (
        await users.find_by_phone(db, row.user.phone_number) if row.user.phone_number else None
    )
    if by_email and by_phone and by_email.id != by_phone.id:
        raise ValueError("its email and its phone belong to two different users")
    return by_email or by_phone


async def import_users(
    db: AsyncSession,
    *,
    settings: Settings,
    market: str,
    rows: list[ImportRow],
    advance: Callable[[], None] = lambda: None,
) -> ImportResult:
    """Upsert every row in one transaction; any error rolls all of them back."""
    result = ImportResult()
    for row in rows:
        try:
            user = await _find(db, row)
        except ValueError as exc:
            result.errors.append(f"line {row.line}: {exc}")
            continue
        if user is None:
            user = records.new_user(row.user, settings.market(market))
            db.add(user)
            await db.flush()
            users.announce(db, "user.created", user, via="import")
            result.created += 1
        elif changed := records.fill_empty(user, row.user):
            await db.flush()
            users.announce(db, "user.updated", user, changed=changed)
            result.updated += 1
        else:
            result.unchanged += 1
        try:
            await raise_uploads(db, settings=settings, user_id=user.id, to=row.user.files_uploaded)
        except AppError as exc:  # over the plan's uploads limit, or no such counter
            result.errors.append(
                f"line {row.line}: files_uploaded {row.user.files_uploaded}: {exc}"
            )
        advance()
    if result.errors:
        await db.rollback()
        return ImportResult(errors=result.errors)
    await db.commit()
    return result


async def raise_uploads(db: AsyncSession, *, settings: Settings, user_id: int, to: int) -> bool:
    """Raise the `uploads` counter's `used` to `to` (never lower it); True if it moved.
    Past the plan's limit it raises QuotaExceeded: raise the limit first, or fix the row."""
    if to == 0:
        return False
    counters = await usage.read_usage(db, user_id=user_id, settings=settings.usage)
    used = next((c.used for c in counters.counters if c.name == "uploads"), 0)
    if to <= used:
        return False
    await usage.consume(
        db, user_id=user_id, name="uploads", amount=to - used, settings=settings.usage
    )
    return True
