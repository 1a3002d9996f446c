"""Is this token's session live? Every signed-in request asks, in the same statement as its
own data where it can (docs/hot-path.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.db import utcnow
from keyturn.errors import Unauthorized
from keyturn.sessions.models import Session
from keyturn.sessions.tokens import (
    AccessClaims,
)
from keyturn.users.models import User


@dataclass(frozen=True)
class Principal:
    """Who is calling: the verified token's user and session, checked live against the DB."""

    user_id: int
    session_id: str
    market: str
    role: str
    # From the verified token (no database work): the last proof of identity and its methods.
    auth_time: int = 0
    amr: tuple[str, ...] = ()


async def live_sessions(db: AsyncSession, *, user_id: int) -> list[Session]:
    rows = await db.scalars(
        select(Session)
        .where(
            Session.user_id == user_id,
            Session.revoked_at.is_(None),
            Session.expires_at > utcnow(),
        )
        .order_by(Session.last_seen_at.desc())
    )
    return list(rows)


# The check behind every protected route, as criteria on `sessions JOIN users`: the token's
# session is not revoked, not expired, and its user is active. Run with `live_params(claims)`.
# It is never cached, so a revoked session fails on its very next request on every instance;
# a route that reads data puts it in the same statement as the data (one round trip).
LIVE = (
    Session.id == bindparam("live_session_id"),
    Session.user_id == bindparam("live_user_id"),
    Session.revoked_at.is_(None),
    Session.expires_at > bindparam("live_now"),
    User.is_active,
)
# The caller's user id and role: one row while the session is live, none otherwise.
LIVE_USER = select(Session.user_id, User.role).join(User, User.id == Session.user_id).where(*LIVE)


def live_params(claims: AccessClaims) -> dict[str, object]:
    return {
        "live_session_id": claims.session_id,
        "live_user_id": claims.user_id,
        "live_now": utcnow(),
    }


async def authenticate(db: AsyncSession, claims: AccessClaims) -> Principal:
    """The live check behind every protected route (see `LIVE_USER`)."""
    row = (await db.execute(LIVE_USER, live_params(claims))).one_or_none()
    if row is None:
        raise Unauthorized("The session has ended; sign in again.")
    return Principal(
        user_id=claims.user_id,
        session_id=claims.session_id,
        market=claims.market,
        role=row.role,
        auth_time=claims.auth_time,
        amr=claims.amr,
    )
