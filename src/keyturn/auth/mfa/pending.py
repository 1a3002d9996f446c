"""The `mfa_token` between a sign-in's first factor and its second: a random token the client
holds, stored as its SHA-256 in the market database (any instance finishes the sign-in).
Single-use, `mfa.token_ttl` long, `mfa.token_attempts` tries, bound to the first step's
method and device (the same User-Agent must finish it)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.models import MfaChallenge
from keyturn.config import MfaSettings
from keyturn.db import utcnow
from keyturn.errors import BadRequest
from keyturn.sessions.devices import Device
from keyturn.sessions.tokens import AccessClaims


class MfaTokenInvalid(BadRequest):
    """The `mfa_token` is unknown, used up, or from another sign-in or device; sign in again."""

    code = "mfa.token_invalid"


class MfaTokenExpired(BadRequest):
    """The `mfa_token` is older than 5 minutes; sign in again."""

    code = "mfa.token_expired"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    db: AsyncSession,
    rules: MfaSettings,
    *,
    user_id: int,
    method: str,
    device: Device,
    guest_claims: AccessClaims | None,
) -> str:
    """A new `mfa_token` for a sign-in whose first factor `method` was just proven (flushed).
    Expired ones are swept on the way."""
    now = utcnow()
    await db.execute(delete(MfaChallenge).where(MfaChallenge.expires_at <= now))
    token = secrets.token_urlsafe(32)
    guest = guest_claims if guest_claims is not None and guest_claims.role == "guest" else None
    db.add(
        MfaChallenge(
            token_hash=_digest(token),
            user_id=user_id,
            method=method,
            device_name=(device.name or None) and device.name[:100],
            user_agent=(device.user_agent or None) and device.user_agent[:512],
            guest_session_id=guest.session_id if guest else None,
            guest_user_id=guest.user_id if guest else None,
            attempts=0,
            created_at=now,
            expires_at=now + rules.token_ttl,
        )
    )
    await db.flush()
    return token


async def take(db: AsyncSession, *, token: str, device: Device) -> MfaChallenge:
    """The open challenge of `token`, locked, if `device` may answer it; else refuse. Refusing
    an expired challenge or a foreign device spends it (flushed; the caller keeps that with
    `fail`)."""
    challenge = await db.scalar(
        select(MfaChallenge).where(MfaChallenge.token_hash == _digest(token)).with_for_update()
    )
    if challenge is None:
        raise MfaTokenInvalid("This sign-in step is unknown or finished; sign in again.")
    user_agent = (device.user_agent or None) and device.user_agent[:512]
    if challenge.expires_at <= utcnow() or challenge.user_agent != user_agent:
        await db.delete(challenge)
        await db.flush()
        if challenge.expires_at <= utcnow():
            raise MfaTokenExpired("This sign-in step has expired; sign in again.")
        raise MfaTokenInvalid("This sign-in step belongs to another device; sign in again.")
    return challenge


def guest_claims(challenge: MfaChallenge, *, market: str) -> AccessClaims | None:
    """The guest session the first step came from, as its token said then: the sign-in's
    common end checks it is still live and merges its cart and wishlist."""
    if challenge.guest_session_id is None or challenge.guest_user_id is None:
        return None
    return AccessClaims(
        user_id=challenge.guest_user_id,
        session_id=challenge.guest_session_id,
        market=market,
        role="guest",
        issued_at=0,
        expires_at=0,
        jti="",
        kid="",  # rebuilt from the challenge, not a token: nothing checks its signature again
    )


async def remove_all(db: AsyncSession, *, user_id: int) -> None:
    """End every sign-in waiting for this user's second factor (the factor changed)."""
    await db.execute(delete(MfaChallenge).where(MfaChallenge.user_id == user_id))
