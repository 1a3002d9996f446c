"""One user row of an export (import-users, import-seed): the names its fields may go by,
checked and normalized, ready to create the user or to fill an existing user's empty fields.

A row needs an `email` or a `phone` (E.164; a number without `+` is read in the market's
country). Passwords come as bcrypt (`$2a$/$2b$/$2y$`) or argon2id hashes; plaintext is
refused. A `country` that is not a two-letter code (the shop seed stored "United States")
becomes the phone's country, else the market's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keyturn.config import MarketConfig
from keyturn.contacts import InvalidEmail, InvalidPhone, normalize_email, normalize_phone
from keyturn.tabular import as_bool, as_datetime, as_int, pick
from keyturn.users import service as users
from keyturn.users.models import User

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "email": ("email",),
    "phone_number": ("phone_number", "phone"),
    "full_name": ("full_name", "name"),
    "company": ("company", "company_name", "companyName"),
    "password_hash": ("password_hash", "hashed_password", "password", "hash", "bcrypt_hash"),
    "files_uploaded": ("files_uploaded", "filesUploaded", "files_uploaded_so_far"),
    "profile_image_url": ("profile_image_url", "profileImageUrl", "image_url", "avatar_url"),
    "language": ("language",),
    "country": ("country",),
    "is_verified": ("is_verified", "isVerified"),
    "last_login": ("last_login", "lastLogin"),
    "created_at": ("created_at", "createdAt"),
}
_HASH = re.compile(r"^(\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2id\$.+)$")
_LIMITS = {"full_name": 200, "company": 200, "profile_image_url": 2048, "language": 16}


@dataclass(frozen=True)
class UserRecord:
    id: int | None
    email: str | None
    phone_number: str | None
    full_name: str | None
    company: str | None
    password_hash: str | None
    profile_image_url: str | None
    language: str | None
    country: str | None
    is_verified: bool
    last_login: datetime | None
    created_at: datetime | None
    files_uploaded: int


# Fields a later import may fill in when the user's own value is still empty.
FILLABLE = (
    "email",
    "phone_number",
    "full_name",
    "company",
    "password_hash",
    "profile_image_url",
    "last_login",
)


def parse_user(row: Any, market: MarketConfig) -> UserRecord:
    """The row as a UserRecord; raises ValueError saying what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError("expected an object with an `email` or a `phone`")
    raw = {name: pick(row, aliases) for name, aliases in ALIASES.items()}
    email, number, region = _email(raw["email"]), None, None
    if raw["phone_number"] is not None:
        try:
            number, region = normalize_phone(str(raw["phone_number"]), market.country)
        except InvalidPhone as exc:
            raise ValueError(f"phone {raw['phone_number']!r}: {exc.detail}") from None
    if email is None and number is None:
        raise ValueError("`email` or `phone` is missing")
    password_hash = raw["password_hash"]
    if password_hash is not None and not _HASH.match(str(password_hash)):
        raise ValueError("the password is not a bcrypt or argon2id hash (plaintext is refused)")
    texts = {name: _text(raw[name], name) for name in _LIMITS}
    country = str(raw["country"] or "")
    return UserRecord(
        id=as_int(raw["id"], "id", minimum=1) if raw["id"] is not None else None,
        email=email,
        phone_number=number,
        full_name=texts["full_name"],
        company=texts["company"],
        password_hash=password_hash,
        profile_image_url=texts["profile_image_url"],
        language=texts["language"],
        country=country.upper() if re.fullmatch(r"[A-Za-z]{2}", country) else region or None,
        is_verified=as_bool(raw["is_verified"], "is_verified") if raw["is_verified"] else False,
        last_login=as_datetime(raw["last_login"], "last_login") if raw["last_login"] else None,
        created_at=as_datetime(raw["created_at"], "created_at") if raw["created_at"] else None,
        files_uploaded=as_int(raw["files_uploaded"] or 0, "files_uploaded"),
    )


def _email(raw: Any) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_email(str(raw))
    except InvalidEmail as exc:
        raise ValueError(f"invalid email {raw!r}: {exc.__cause__}") from None


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    text = str(value)
    if len(text) > _LIMITS[name]:
        raise ValueError(f"`{name}` is longer than {_LIMITS[name]} characters")
    return text


def new_user(record: UserRecord, market: MarketConfig) -> User:
    """A user made from the row, keeping its id when it has one (flush to insert)."""
    user = users.new_user(
        market, **{name: getattr(record, name) for name in FILLABLE if getattr(record, name)}
    )
    if record.id is not None:
        user.id = record.id
    user.is_verified = record.is_verified
    user.language = record.language or market.language
    user.country = record.country or market.country
    if record.created_at is not None:
        user.created_at = record.created_at
    return user


def fill_empty(user: User, record: UserRecord) -> list[str]:
    """Fill the user's empty fields from the row; never overwrite (a password re-hashed at
    login, a name the person changed). The fields that changed (as `user.updated` names them)."""
    changed = []
    for name in FILLABLE:
        value = getattr(record, name)
        if value is not None and getattr(user, name) is None:
            setattr(user, name, value)
            changed.append(name.removesuffix("_hash"))
    if record.is_verified and not user.is_verified:
        user.is_verified = True
        changed.append("is_verified")
    return changed
