"""`keyturn create-admin`: create an administrator, or promote an existing user, by email
(with a password) or by phone (who then signs in with an SMS code)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.password.hashing import new_password_hash
from keyturn.config import Settings
from keyturn.contacts import normalize_email, normalize_phone
from keyturn.errors import Invalid
from keyturn.users import service as users
from keyturn.users.models import User


class PasswordRequired(Invalid):
    """A new email admin needs a password to sign in with."""

    code = "password.required"


@dataclass(frozen=True)
class AdminResult:
    user_id: int
    created: bool


async def create_admin(
    db: AsyncSession,
    *,
    settings: Settings,
    market: str,
    email: str | None = None,
    password: str | None = None,
    phone: str | None = None,
) -> AdminResult:
    """Exactly one of `email` / `phone`. An existing user keeps their data and becomes an
    admin (and is enabled); a given password replaces theirs (the usual rules apply)."""
    assert (email is None) != (phone is None), "give an email or a phone"
    config = settings.market(market)
    user: User | None
    if email is not None:
        email = normalize_email(email)
        user = await users.find_by_email(db, email)
        if user is None and password is None:
            raise PasswordRequired("A new admin signing in by email needs --password.")
        password_hash = (
            await new_password_hash(password, personal=(email,)) if password is not None else None
        )
        if user is None:
            user = users.new_user(config, email=email)
            db.add(user)
        if password_hash:
            user.password_hash = password_hash
    else:
        assert phone is not None
        number, _ = normalize_phone(phone, config.country)
        user = await users.find_by_phone(db, number)
        if user is None:
            user = users.new_user(config, phone_number=number)
            db.add(user)
    created = user.id is None
    changed = [
        name
        for name, value in (("role", "admin"), ("is_active", True))
        if getattr(user, name) != value
    ]
    user.role = "admin"
    user.is_active = True
    await db.flush()
    if created:
        users.announce(db, "user.created", user, via="admin")
    elif changed:
        users.announce(db, "user.updated", user, changed=changed)
    audit.record(db, "account.promoted", user_id=user.id, by="cli", created=created)
    await db.commit()
    return AdminResult(user_id=user.id, created=created)
