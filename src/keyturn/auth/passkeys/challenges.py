"""WebAuthn challenges in the market database, so any instance can check an answer: random,
single-use (answering deletes the row, whatever the verdict), expiring after
`passkeys.challenge_ttl`, and tied to what asked for them: a purpose and, for registration and
re-authentication, the session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.models import PasskeyChallenge
from keyturn.auth.passkeys.ceremony import PasskeyRefused, challenge_hash
from keyturn.config import PasskeySettings
from keyturn.db import utcnow


class ChallengeUnknown(PasskeyRefused):
    """The answer's challenge is unknown, already used, or was issued for something else."""

    code = "passkey.challenge_invalid"


class ChallengeExpired(PasskeyRefused):
    """The answer's challenge is older than its lifetime (5 minutes by default)."""

    code = "passkey.challenge_expired"


@dataclass(frozen=True)
class Answered:
    """What a consumed challenge was issued for."""

    user_id: int | None
    user_handle: str | None


async def issue(
    db: AsyncSession,
    settings: PasskeySettings,
    *,
    purpose: str,
    session_id: str | None = None,
    user_id: int | None = None,
    user_handle: str | None = None,
) -> bytes:
    """A fresh challenge (flushed). Expired ones are swept on the way."""
    now = utcnow()
    await db.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at < now))
    challenge = secrets.token_bytes(32)
    db.add(
        PasskeyChallenge(
            challenge_hash=challenge_hash(challenge),
            purpose=purpose,
            session_id=session_id,
            user_id=user_id,
            user_handle=user_handle,
            created_at=now,
            expires_at=now + settings.challenge_ttl,
        )
    )
    await db.flush()
    return challenge


async def consume(
    db: AsyncSession, *, challenge: bytes, purpose: str, session_id: str | None
) -> Answered:
    """Delete the challenge and say what it was for (flushed), or refuse. Two answers to one
    challenge race for the one row: the second finds nothing."""
    row = (
        await db.execute(
            delete(PasskeyChallenge)
            .where(PasskeyChallenge.challenge_hash == challenge_hash(challenge))
            .returning(
                PasskeyChallenge.purpose,
                PasskeyChallenge.session_id,
                PasskeyChallenge.user_id,
                PasskeyChallenge.user_handle,
                PasskeyChallenge.expires_at,
            )
        )
    ).one_or_none()
    if row is None or row.purpose != purpose or row.session_id != session_id:
        raise ChallengeUnknown(
            "This passkey answer's challenge is unknown or already used; start again."
        )
    expires_at: datetime = row.expires_at
    if expires_at <= utcnow():
        raise ChallengeExpired("This passkey request expired; start again.")
    return Answered(user_id=row.user_id, user_handle=row.user_handle)
