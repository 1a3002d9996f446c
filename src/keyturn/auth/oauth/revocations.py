"""The queue of Apple refresh tokens to revoke: tried right away where they arise, retried by
the housekeeping sweep (inside `serve`, or `keyturn purge-guests`) with backoff until Apple
confirms. Each call to Apple happens with no transaction open."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.models import AppleRevocation, Identity
from keyturn.auth.oauth import apple
from keyturn.auth.oauth.clients import OAuth
from keyturn.db import Databases, transaction, utcnow
from keyturn.logs import get_logger

log = get_logger("keyturn.auth.oauth.revocations")

BATCH = 100
LEASE = timedelta(minutes=5)  # a claimed row is not retried by another instance meanwhile
MAX_ATTEMPTS = 40  # about a month of tries at the backoff's ceiling


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2**attempts), timedelta(days=1))


def queue(db: AsyncSession, identity: Identity) -> None:
    """Queue the identity's Apple refresh token (if it has one) for revocation at Apple; the
    caller is removing the identity in the same transaction."""
    if identity.refresh_token_sealed is not None:
        db.add(
            AppleRevocation(
                client_id=identity.client_id, token_sealed=identity.refresh_token_sealed
            )
        )


async def revoke_now(oauth: OAuth, *, client_id: str, sealed: str) -> bool:
    """One attempt, no database: True when Apple confirmed (or the token was already dead)."""
    try:
        token = oauth.sealer.unseal(sealed)
    except (InvalidTag, ValueError):
        log.error("apple.revocation_unreadable")  # sealed under another secret key
        return True
    result = await apple.revoke(oauth.http, oauth.settings, client_id=client_id, token=token)
    if not result.done:
        log.warning("apple.revocation_failed", error=result.error)
    return result.done


async def deliver_due(
    databases: Databases, markets: list[str], oauth: OAuth, *, now: datetime | None = None
) -> int:
    """Retry every queued revocation due by `now`; the number Apple confirmed."""
    confirmed = 0
    for market in markets:
        async with transaction(databases, market) as db:
            due = list(
                await db.scalars(
                    select(AppleRevocation)
                    .where(AppleRevocation.next_attempt_at <= (now or utcnow()))
                    .order_by(AppleRevocation.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            claimed = [(row.id, row.client_id, row.token_sealed, row.attempts) for row in due]
            for row in due:
                row.next_attempt_at = utcnow() + LEASE
        for row_id, client_id, sealed, attempts in claimed:
            done = await revoke_now(oauth, client_id=client_id, sealed=sealed)
            async with transaction(databases, market) as db:
                if done or attempts + 1 >= MAX_ATTEMPTS:
                    await db.execute(delete(AppleRevocation).where(AppleRevocation.id == row_id))
                else:
                    await db.execute(
                        update(AppleRevocation)
                        .where(AppleRevocation.id == row_id)
                        .values(
                            attempts=attempts + 1,
                            next_attempt_at=utcnow() + backoff(attempts + 1),
                            last_error="unconfirmed",
                        )
                    )
            if not done and attempts + 1 >= MAX_ATTEMPTS:
                log.error("apple.revocation_given_up", attempts=attempts + 1)
            confirmed += done
    return confirmed
