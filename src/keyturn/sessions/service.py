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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.db import fail, utcnow
from keyturn.errors import Unauthorized
from keyturn.events import service as events
from keyturn.sessions import ending
from keyturn.sessions.devices import Device
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.live import Principal
from keyturn.sessions.models import RefreshToken, Session
from keyturn.sessions.tokens import hash_refresh_token, new_refresh_token
from keyturn.users.models import User


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


def _seconds_until(moment: datetime) -> int:
    return max(0, int((moment - utcnow()).total_seconds()))


async def _issue(
    db: AsyncSession,
    issuer: TokenIssuer,
    *,
    session: Session,
    user: User,
    market: str,
    parent_id: int | None,
) -> IssuedTokens:
    refresh, refresh_hash = new_refresh_token(market)
    expires = issuer.refresh_expiry(session.expires_at)
    db.add(
        RefreshToken(
            session_id=session.id, parent_id=parent_id, token_hash=refresh_hash, expires_at=expires
        )
    )
    access, expires_in = issuer.access_token(
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
    issuer: TokenIssuer,
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
        expires_at=issuer.session_expiry(now),
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
    return await _issue(db, issuer, session=session, user=user, market=market, parent_id=None)


async def refresh(
    db: AsyncSession,
    issuer: TokenIssuer,
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
        await ending.revoke(db, session, reason="refresh_reuse", now=now)
        audit.record(db, "refresh.reuse_detected", user_id=user.id, session_id=session.id, ip=ip)
        metrics.refresh(market, "reuse_detected")
        await fail(db, Unauthorized("Refresh token reuse detected; the session has been ended."))
    # Redeeming the token redeemed last is a retry (a lost response); else a rotation.
    metrics.refresh(market, "retried" if session.last_redeemed_id == found.id else "rotated")
    session.last_redeemed_id = found.id
    session.last_seen_at = now
    if ip:
        session.ip = ip
    issued = await _issue(db, issuer, session=session, user=user, market=market, parent_id=found.id)
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
    issuer: TokenIssuer,
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
    token, expires_in = issuer.access_token(
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
