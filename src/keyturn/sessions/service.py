"""Sessions: open one per signed-in device, rotate its refresh tokens, revoke it.

Refresh rule (docs/tokens-and-sessions.md). `sessions.last_redeemed_id` is the token the
session redeemed last.
A token T is redeemable while the session has not moved past it, that is when
  T is the last redeemed token (a retry after a lost response), or
  T's parent is the last redeemed token (T is a child issued from it; the first token of a
  session has no parent and the session has redeemed nothing yet).
Anything else was superseded: its presenter is replaying an old token, so the session is
revoked (theft). Concurrent redemptions of one token are retries of each other and all succeed;
the first of their children to be redeemed decides which chain lives on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, case, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.config import Settings
from keyturn.db import fail, market_of, utcnow
from keyturn.errors import NotFound, Unauthorized
from keyturn.events import service as events
from keyturn.sessions.keys import Keyring
from keyturn.sessions.models import RefreshToken, Session
from keyturn.sessions.tokens import (
    AccessClaims,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
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


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str


@dataclass(frozen=True)
class AccessToken:
    """An access token issued without a new refresh token (after a re-authentication)."""

    access_token: str
    expires_in: int
    session_id: str
    auth_time: int
    amr: tuple[str, ...]


@dataclass(frozen=True)
class Device:
    """What a sign-in request tells about the device it comes from."""

    name: str | None = None
    user_agent: str | None = None
    ip: str | None = None
    # A seed client signing in through its compatible API (`jobpsych`): see sessions.tokens.
    compat: str | None = None


def _same_device(device: Device) -> ColumnElement[bool]:
    """What recognises a device: the name the app gives it, else its user agent."""
    if device.name:
        return Session.device_name == device.name[:100]
    if device.user_agent:
        return Session.user_agent == device.user_agent[:512]
    return false()


def device_label(device: Device) -> str:
    return (device.name or device.user_agent or "unknown device")[:80]


@dataclass(frozen=True)
class DeviceHistory:
    signed_in_before: bool  # the account had a session before (any device)
    on_this_device: bool  # ... on this device


async def device_history(db: AsyncSession, *, user_id: int, device: Device) -> DeviceHistory:
    """Whether the user signed in before, and from this device (any session, even ended)."""
    here = func.coalesce(func.max(case((_same_device(device), 1), else_=0)), 0)
    seen, on_device = (
        await db.execute(select(func.count(Session.id), here).where(Session.user_id == user_id))
    ).one()
    return DeviceHistory(signed_in_before=seen > 0, on_this_device=on_device == 1)


def _seconds_until(moment: datetime) -> int:
    return max(0, int((moment - utcnow()).total_seconds()))


async def _issue(
    db: AsyncSession,
    settings: Settings,
    keyring: Keyring,
    *,
    session: Session,
    user: User,
    market: str,
    parent_id: int | None,
) -> IssuedTokens:
    refresh, refresh_hash = new_refresh_token(market)
    expires = min(utcnow() + settings.tokens.refresh_idle_ttl, session.expires_at)
    db.add(
        RefreshToken(
            session_id=session.id, parent_id=parent_id, token_hash=refresh_hash, expires_at=expires
        )
    )
    access, expires_in = issue_access_token(
        settings,
        keyring,
        user_id=user.id,
        session_id=session.id,
        market=market,
        role=user.role,
        session_expires_at=session.expires_at,
        auth_time=session.auth_time,
        amr=tuple(session.amr.split()),
        compat=session.compat,
        email=user.email,
    )
    return IssuedTokens(
        access_token=access,
        expires_in=expires_in,
        refresh_token=refresh,
        refresh_expires_in=_seconds_until(expires),
        session_id=session.id,
    )


async def open_session(
    db: AsyncSession,
    settings: Settings,
    keyring: Keyring,
    *,
    user: User,
    market: str,
    auth_method: str,
    amr: tuple[str, ...],
    device: Device,
    new_device: bool | None = None,
) -> IssuedTokens:
    """A new session with its first refresh token (flushed, not committed). The sign-in that
    opens it is its first proof of identity (`auth_time`, `amr`). `new_device`: whether the
    account had never signed in from this device (None: not asked, a guest)."""
    now = utcnow()
    session = Session(
        id=secrets.token_hex(16),
        user_id=user.id,
        auth_method=auth_method,
        auth_time=now,
        amr=" ".join(amr),
        device_name=(device.name or None) and device.name[:100],
        user_agent=(device.user_agent or None) and device.user_agent[:512],
        ip=device.ip,
        compat=device.compat,
        created_at=now,
        last_seen_at=now,
        expires_at=now + settings.tokens.session_absolute_ttl,
    )
    db.add(session)
    await db.flush()
    events.emit(
        db,
        "session.created",
        {
            "session_id": session.id,
            "user_id": user.id,
            "auth_method": auth_method,
            "new_device": new_device,
            "expires_at": events.timestamp(session.expires_at),
        },
    )
    return await _issue(
        db, settings, keyring, session=session, user=user, market=market, parent_id=None
    )


async def refresh(
    db: AsyncSession,
    settings: Settings,
    keyring: Keyring,
    *,
    refresh_token: str,
    market: str,
    ip: str | None,
) -> tuple[IssuedTokens, User]:
    """Redeem a refresh token for a new pair (flushed; the caller commits), or revoke the
    session if the token was superseded (committed, then refused)."""
    invalid = Unauthorized("Invalid or expired refresh token.")
    found = await db.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
    )
    if found is None:
        metrics.refresh(market, "invalid")
        raise invalid
    # Lock the session row: redemptions of one session queue here (PostgreSQL; SQLite's
    # write lock is taken at BEGIN).
    session = await db.scalar(
        select(Session).where(Session.id == found.session_id).with_for_update()
    )
    user = await db.get(User, session.user_id) if session else None
    now = utcnow()
    if (
        session is None
        or user is None
        or session.revoked_at is not None
        or session.expires_at <= now
        or found.expires_at <= now
        or not user.is_active
    ):
        metrics.refresh(market, "invalid")
        raise invalid
    if session.last_redeemed_id not in (found.id, found.parent_id):
        await _revoke(db, session, reason="refresh_reuse", now=now)
        audit.record(db, "refresh.reuse_detected", user_id=user.id, session_id=session.id, ip=ip)
        metrics.refresh(market, "reuse_detected")
        await fail(db, Unauthorized("Refresh token reuse detected; the session has been ended."))
    # Redeeming the token redeemed last is a retry (a lost response); else a rotation.
    metrics.refresh(market, "retried" if session.last_redeemed_id == found.id else "rotated")
    session.last_redeemed_id = found.id
    session.last_seen_at = now
    if ip:
        session.ip = ip
    issued = await _issue(
        db, settings, keyring, session=session, user=user, market=market, parent_id=found.id
    )
    await db.flush()
    return issued, user


# RFC 8176 methods that are one factor each; a user-verified passkey says `mfa` itself. An
# Apple/Google id_token counts as one: we cannot see how the provider checked the person.
ONE_FACTOR_AMR = ("pwd", "sms", "otp", "apple", "google")


def combined_amr(before: tuple[str, ...], proof: tuple[str, ...]) -> tuple[str, ...]:
    """The methods a session has proven after `proof`: never fewer than before (a password
    re-authentication does not lower a session that passed two factors), and `mfa` once two
    of them are independent factors (a password, a phone code, an authenticator code)."""
    methods = [m for m in dict.fromkeys((*before, *proof)) if m != "mfa"]
    two = "mfa" in before or "mfa" in proof or len(set(methods) & set(ONE_FACTOR_AMR)) >= 2
    return (*methods, "mfa") if two else tuple(methods)


async def record_proof(
    db: AsyncSession,
    settings: Settings,
    keyring: Keyring,
    *,
    caller: Principal,
    amr: tuple[str, ...],
) -> AccessToken:
    """The caller proved who they are again (step-up): the session's `auth_time` is renewed
    and `amr` gains the proof's methods (never loses any, `combined_amr`); a new access token
    carries them; the refresh token is unchanged, and later refreshes keep the new proof
    (flushed, not committed)."""
    session = await db.scalar(
        select(Session).where(Session.id == caller.session_id).with_for_update()
    )
    user = await db.get(User, caller.user_id)
    if session is None or user is None or session.revoked_at is not None:
        raise Unauthorized("The session has ended; sign in again.")
    amr = combined_amr(tuple(session.amr.split()), amr)
    session.auth_time = utcnow()
    session.amr = " ".join(amr)
    session.last_seen_at = session.auth_time
    await db.flush()
    token, expires_in = issue_access_token(
        settings,
        keyring,
        user_id=user.id,
        session_id=session.id,
        market=caller.market,
        role=user.role,
        session_expires_at=session.expires_at,
        auth_time=session.auth_time,
        amr=amr,
    )
    return AccessToken(
        access_token=token,
        expires_in=expires_in,
        session_id=session.id,
        auth_time=int(session.auth_time.timestamp()),
        amr=amr,
    )


def announce_revoked(
    db: AsyncSession,
    *,
    session_id: str,
    user_id: int,
    reason: str,
    revoked_at: datetime,
    expires_at: datetime,
) -> None:
    """`session.revoked`: webhooks and the revocation feed (`sessions.revocations`) read it."""
    events.emit(
        db,
        "session.revoked",
        {
            "session_id": session_id,
            "user_id": user_id,
            "reason": reason,
            "revoked_at": events.timestamp(revoked_at),
            "expires_at": events.timestamp(expires_at),
        },
    )


async def _revoke(db: AsyncSession, session: Session, *, reason: str, now: datetime) -> None:
    session.revoked_at = now
    session.revoke_reason = reason
    announce_revoked(
        db,
        session_id=session.id,
        user_id=session.user_id,
        reason=reason,
        revoked_at=now,
        expires_at=session.expires_at,
    )
    await db.flush()
    metrics.sessions_revoked(market_of(db), reason)


async def revoke_user_sessions(
    db: AsyncSession,
    *,
    user_id: int,
    reason: str,
    keep_session_id: str | None = None,
) -> int:
    """Revoke every live session of a user (but `keep_session_id`); flushed, not committed."""
    now = utcnow()
    stmt = (
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)
        .returning(Session.id, Session.expires_at)
    )
    if keep_session_id is not None:
        stmt = stmt.where(Session.id != keep_session_id)
    revoked = (await db.execute(stmt)).all()
    for session_id, expires_at in revoked:
        announce_revoked(
            db,
            session_id=session_id,
            user_id=user_id,
            reason=reason,
            revoked_at=now,
            expires_at=expires_at,
        )
    metrics.sessions_revoked(market_of(db), reason, len(revoked))
    return len(revoked)


async def end_session(db: AsyncSession, *, user_id: int, session_id: str) -> None:
    """A user signs one of their devices out (DELETE /auth/sessions/{id})."""
    await revoke_session(db, user_id=user_id, session_id=session_id, reason="revoked_by_user")
    audit.record(db, "session.revoked", user_id=user_id, session_id=session_id)
    await db.commit()


async def end_device(
    db: AsyncSession, *, claims: AccessClaims | None, refresh_token: str | None, ip: str | None
) -> int:
    """Sign out the device that sent these credentials, for clients whose logout may carry
    only a refresh cookie (the JobPsych API): the bearer token's session and the refresh
    token's, if live (usually one and the same). Commits; returns how many ended."""
    owners: dict[str, int] = {}
    if claims is not None:
        try:
            caller = await authenticate(db, claims)
            owners[caller.session_id] = caller.user_id
        except Unauthorized:
            pass
    if refresh_token is not None:
        found = (
            await db.execute(
                select(Session.id, Session.user_id)
                .join(RefreshToken, RefreshToken.session_id == Session.id)
                .where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
            )
        ).one_or_none()
        if found is not None:
            owners[found.id] = found.user_id
    ended = 0
    now = utcnow()
    for session_id, user_id in owners.items():
        expires_at = await db.scalar(
            update(Session)
            .where(Session.id == session_id, Session.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason="logout")
            .returning(Session.expires_at)
        )
        if expires_at is not None:
            announce_revoked(
                db,
                session_id=session_id,
                user_id=user_id,
                reason="logout",
                revoked_at=now,
                expires_at=expires_at,
            )
            audit.record(db, "logout", user_id=user_id, session_id=session_id, ip=ip)
            ended += 1
    await db.commit()
    return ended


async def revoke_session(db: AsyncSession, *, user_id: int, session_id: str, reason: str) -> None:
    """Revoke one of the user's own live sessions; someone else's is NotFound."""
    now = utcnow()
    expires_at = await db.scalar(
        update(Session)
        .where(
            Session.id == session_id,
            Session.user_id == user_id,
            Session.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoke_reason=reason)
        .returning(Session.expires_at)
    )
    if expires_at is None:
        raise NotFound("No such session.")
    announce_revoked(
        db,
        session_id=session_id,
        user_id=user_id,
        reason=reason,
        revoked_at=now,
        expires_at=expires_at,
    )
    metrics.sessions_revoked(market_of(db), reason)


async def _admin_target(db: AsyncSession, user_id: int) -> None:
    if await db.get(User, user_id) is None:
        raise NotFound("No such user.")


async def admin_list_sessions(db: AsyncSession, *, user_id: int) -> list[Session]:
    """A user's live sessions, for staff."""
    await _admin_target(db, user_id)
    return await live_sessions(db, user_id=user_id)


async def admin_end_session(
    db: AsyncSession, *, user_id: int, session_id: str, admin_id: int
) -> None:
    """Staff sign one of a user's devices out."""
    await _admin_target(db, user_id)
    await revoke_session(db, user_id=user_id, session_id=session_id, reason="revoked_by_admin")
    audit.record(db, "session.revoked", user_id=user_id, session_id=session_id, by=admin_id)
    await db.commit()


async def admin_end_all_sessions(db: AsyncSession, *, user_id: int, admin_id: int) -> int:
    """Staff sign every device of a user out; the account stays enabled."""
    await _admin_target(db, user_id)
    revoked = await revoke_user_sessions(db, user_id=user_id, reason="revoked_by_admin")
    audit.record(db, "session.revoked", user_id=user_id, by=admin_id, sessions_revoked=revoked)
    await db.commit()
    return revoked


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
