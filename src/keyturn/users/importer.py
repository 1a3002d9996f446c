"""`keyturn import-users`: bring an existing user base (e.g. the JobPsych Express API's
`users` table) into one market.

Input is CSV with a header row, a JSON array of objects, or JSON Lines. Columns: `email`
(required), `name`/`full_name`, `company`, `password_hash`/`password` (bcrypt `$2a$/$2b$/$2y$`
or argon2id; plaintext is refused), `files_uploaded`/`filesUploaded`.

All or nothing: every row is checked first and errors are reported with their line numbers;
then the rows are written in one transaction. Re-running is harmless: users are matched by
email and only empty fields are filled, so a password changed (or re-hashed to argon2id at
login) since the last run is never overwritten. `files_uploaded` becomes the `uploads` usage
counter's `used` (raised to it, never lowered).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import Settings
from keyturn.contacts import InvalidEmail, normalize_email
from keyturn.errors import AppError
from keyturn.usage import service as usage
from keyturn.users import service as users

ALIASES = {
    "email": ("email",),
    "full_name": ("full_name", "name"),
    "company": ("company",),
    "password_hash": ("password_hash", "password", "hash", "bcrypt_hash"),
    "files_uploaded": ("files_uploaded", "filesUploaded", "files_uploaded_so_far"),
}
_HASH = re.compile(r"^(\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2id\$.+)$")


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str
    full_name: str | None
    company: str | None
    password_hash: str | None
    files_uploaded: int


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def read_rows(path: Path) -> tuple[list[ImportRow], list[str]]:
    """Every valid row and every problem (`line N: ...`); nothing is written here."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        records = list(_csv_records(text) if path.suffix.lower() == ".csv" else _json_records(text))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [], [f"{path}: {exc}"]
    rows: list[ImportRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, record in records:
        try:
            row = _row(line, record)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if row.email in seen:
            errors.append(f"line {line}: {row.email} already appears on line {seen[row.email]}")
            continue
        seen[row.email] = line
        rows.append(row)
    return rows, errors


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    for record in reader:
        yield reader.line_num, record


def _json_records(text: str) -> Iterator[tuple[int, Any]]:
    """Objects of a JSON array (or JSON Lines) with the line each one starts on."""
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return pos

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = skip(0)
    array = text.startswith("[", pos)
    pos = pos + 1 if array else pos
    while (pos := skip(pos)) < len(text):
        if array and text[pos] == "]":
            return
        try:
            record, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
        yield line_of(pos), record
        pos = skip(end)
        if array and pos < len(text) and text[pos] == ",":
            pos += 1
    if array:
        raise ValueError("the JSON array is not closed")


def _field(record: dict[str, Any], name: str) -> Any:
    for alias in ALIASES[name]:
        value = record.get(alias)
        if value not in (None, ""):
            return value.strip() if isinstance(value, str) else value
    return None


def _row(line: int, record: Any) -> ImportRow:
    if not isinstance(record, dict):
        raise ValueError("expected an object with an `email`")
    raw_email = _field(record, "email")
    if not isinstance(raw_email, str):
        raise ValueError("`email` is missing")
    try:
        email = normalize_email(raw_email)
    except InvalidEmail as exc:
        raise ValueError(f"invalid email {raw_email!r}: {exc.__cause__}") from None
    password_hash = _field(record, "password_hash")
    if password_hash is not None and not _HASH.match(str(password_hash)):
        raise ValueError("the password is not a bcrypt or argon2id hash (plaintext is refused)")
    files = _field(record, "files_uploaded") or 0
    try:
        files_uploaded = int(files)
    except (TypeError, ValueError):
        raise ValueError(f"`files_uploaded` must be a whole number, not {files!r}") from None
    if files_uploaded < 0:
        raise ValueError("`files_uploaded` cannot be negative")
    name, company = _field(record, "full_name"), _field(record, "company")
    for label, value in (("name", name), ("company", company)):
        if value is not None and len(str(value)) > 200:
            raise ValueError(f"`{label}` is longer than 200 characters")
    return ImportRow(
        line=line,
        email=email,
        full_name=str(name) if name is not None else None,
        company=str(company) if company is not None else None,
        password_hash=password_hash,
        files_uploaded=files_uploaded,
    )


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
        user = await users.find_by_email(db, row.email)
        if user is None:
            user = users.new_user(settings.market(market), email=row.email)
            db.add(user)
            result.created += 1
        else:
            changed = any(
                getattr(user, name) is None and getattr(row, name) is not None
                for name in ("full_name", "company", "password_hash")
            )
            result.updated += changed
            result.unchanged += not changed
        for name in ("full_name", "company", "password_hash"):
            if getattr(user, name) is None:
                setattr(user, name, getattr(row, name))
        await db.flush()
        try:
            await _raise_uploads(db, settings=settings, user_id=user.id, to=row.files_uploaded)
        except AppError as exc:  # over the plan's uploads limit, or no such counter
            result.errors.append(f"line {row.line}: files_uploaded {row.files_uploaded}: {exc}")
        advance()
    if result.errors:
        await db.rollback()
        return ImportResult(errors=result.errors)
    await db.commit()
    return result


async def _raise_uploads(db: AsyncSession, *, settings: Settings, user_id: int, to: int) -> None:
    if to == 0:
        return
    counters = await usage.read_usage(db, user_id=user_id, settings=settings.usage)
    used = next((c.used for c in counters.counters if c.name == "uploads"), 0)
    if to > used:
        await usage.consume(
            db, user_id=user_id, name="uploads", amount=to - used, settings=settings.usage
        )
