"""Users: lookup, creation at first sign-in, profile changes; admin search, detail,
enable/disable."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.mfa import proof as second_factor
from keyturn.auth.models import Identity, Passkey
from keyturn.config import MarketConfig
from keyturn.db import MAX_ID
from keyturn.errors import Conflict, NotFound, Unauthorized
from keyturn.events import service as events
from keyturn.markets import Market
from keyturn.sessions import ending, live
from keyturn.sessions.models import Session
from keyturn.sessions.tokens import AccessClaims
from keyturn.users.models import User
from keyturn.users.schemas import (
    AccountStatus,
    AdminUserList,
    AdminUserRead,
    UserRead,
    UserUpdate,
)


class EmailTaken(Conflict):
    """Another account already uses this email address."""

    code = "account.email_taken"


class PhoneTaken(Conflict):
    """Another account already signs in with this phone number."""

    code = "account.phone_taken"


async def get_user(db: AsyncSession, user_id: int) -> User:
    user = await db.get(User, user_id)
    if user is None or user.deleted_at is not None:  # a deleted account's tombstone
        raise NotFound("No such user.")
    return user


async def find_by_phone(db: AsyncSession, phone: str) -> User | None:
    return await db.scalar(select(User).where(User.phone_number == phone))


async def find_by_email(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(User.email == email.lower()))


def new_user(market: MarketConfig, *, role: str = "customer", **fields: object) -> User:
    return User(
        role=role,
        market=market.code,
        language=market.language,
        country=market.country,
        is_active=True,
        is_verified=False,
        email_verified=False,
        **fields,
    )


def announce(db: AsyncSession, type_: str, user: User, **details: object) -> None:
    """A `user.*` event: ids and account state only, never a name, email or phone
    (docs/events.md); `user.updated` names the fields that changed."""
    events.emit(
        db,
        type_,
        {
            "user_id": user.id,
            "market": user.market,
            "role": user.role,
            "is_active": user.is_active,
            **details,
        },
    )


# The profile columns of the caller's user row, found only while the session is live.
_LIVE_PROFILE = (
    select(*(User.__table__.c[name] for name in UserRead.model_fields))
    .select_from(Session)
    .join(User, User.id == Session.user_id)
    .where(*live.LIVE)
)


async def read_profile(market: Market, *, claims: AccessClaims) -> UserRead:
    """The caller's profile, read with the live session check in one statement."""
    rows = await market.reader.all(_LIVE_PROFILE, live.live_params(claims))
    if not rows:
        raise Unauthorized("The session has ended; sign in again.")
    return UserRead.model_validate(dict(rows[0]))


async def update_profile(db: AsyncSession, *, user_id: int, changes: UserUpdate) -> UserRead:
    user = await get_user(db, user_id)
    changed = []
    for field, value in changes.model_dump(exclude_unset=True).items():
        if value is None and field == "full_name":
            continue
        value = str(value) if field == "profile_image_url" and value else value
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        announce(db, "user.updated", user, changed=changed)
    await db.commit()
    return UserRead.model_validate(user)


async def set_account_enabled(
    db: AsyncSession, *, user_id: int, enabled: bool, admin_id: int
) -> AccountStatus:
    """Enable or disable an account. Disabling also ends every session, in one transaction."""
    user = await get_user(db, user_id)
    user.is_active = enabled
    revoked = 0
    if not enabled:
        revoked = await ending.revoke_user_sessions(db, user_id=user.id, reason="account_disabled")
    audit.record(
        db, "account.enabled" if enabled else "account.disabled", user_id=user.id, by=admin_id
    )
    announce(
        db,
        "user.enabled" if enabled else "user.disabled",
        user,
        by_admin_id=admin_id,
        sessions_revoked=revoked,
    )
    await db.commit()
    return AccountStatus(user=UserRead.model_validate(user), sessions_revoked=revoked)


async def sign_in_methods(db: AsyncSession, user: User) -> list[str]:
    """How this account can sign in. Methods that land later add themselves here."""
    methods = []
    if user.phone_number:
        methods.append("phone")
    if user.email and user.password_hash:
        methods.append("password")
    passkeys = await db.scalar(select(func.count()).where(Passkey.user_id == user.id))
    if passkeys:
        methods.append("passkey")
    providers = await db.scalars(
        select(Identity.provider).where(Identity.user_id == user.id).order_by(Identity.provider)
    )
    methods.extend(providers)
    if await second_factor.enabled(db, user_id=user.id):
        methods.append("totp")  # the second step after any of the above but a passkey
    return methods


async def search_users(
    db: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> AdminUserList:
    """Newest first. `q` matches an id exactly, or part of an email or phone number."""
    query = select(User).order_by(User.id.desc())
    if q:
        matches = [User.email.contains(q.casefold(), autoescape=True)]
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 3 and not set(q) - set("+0123456789 -()."):
            matches.append(User.phone_number.contains(digits, autoescape=True))
        if q.isdigit() and int(q) <= MAX_ID:
            matches.append(User.id == int(q))
        query = query.where(or_(*matches))
    if cursor is not None:
        query = query.where(User.id < int(cursor))
    rows = list(await db.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    return AdminUserList(
        items=[UserRead.model_validate(u) for u in page],
        next_cursor=str(page[-1].id) if len(rows) > limit else None,
    )


async def admin_read_user(db: AsyncSession, *, user_id: int) -> AdminUserRead:
    user = await get_user(db, user_id)
    sessions_now = await live.live_sessions(db, user_id=user.id)
    return AdminUserRead(
        **UserRead.model_validate(user).model_dump(),
        sign_in_methods=await sign_in_methods(db, user),
        live_sessions=len(sessions_now),
        updated_at=user.updated_at,
    )
