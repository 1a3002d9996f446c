"""Every way into an account besides its email and password: the phone, passkeys, second
factors and Apple/Google identities (DESIGN §13).

A completed password reset of an address nobody had proven is its first proof
(docs/email-proof.md). Whoever planted the address may have added any of these meanwhile, so
the reset removes them all. **Each sign-in method that stores a way in adds its removal to
`remove_all`**, or the account-takeover defence has a hole. A removed passkey, identity or
second factor is announced (`passkey.removed`, `identity.unlinked`, `second_factor.removed`,
reason `email_first_proven`); the phone is the caller's `user.updated`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.mfa import service as second_factors
from keyturn.auth.models import EmailProof, Identity, Passkey, TotpFactor
from keyturn.auth.oauth import revocations
from keyturn.events import service as events
from keyturn.users.models import User

FIRST_PROOF = "email_first_proven"  # why the ways in went, in their events
NOT_ME = "not_me"


async def remove_all(db: AsyncSession, *, user: User) -> list[str]:
    """Remove every way in but email + password (flushed); the names of those removed."""
    removed = []
    if user.phone_number is not None:
        user.phone_number = None
        user.is_verified = False
        removed.append("phone")
    passkeys = list(
        await db.scalars(delete(Passkey).where(Passkey.user_id == user.id).returning(Passkey.id))
    )
    for passkey_id in passkeys:
        events.emit(
            db,
            "passkey.removed",
            {"user_id": user.id, "passkey_id": passkey_id, "reason": FIRST_PROOF},
        )
    if passkeys:
        removed.append("passkeys")
    identities = list(await db.scalars(select(Identity).where(Identity.user_id == user.id)))
    for identity in identities:
        events.emit(
            db,
            "identity.unlinked",
            {"user_id": user.id, "provider": identity.provider, "reason": FIRST_PROOF},
        )
        revocations.queue(db, identity)  # Apple's refresh token: revoked there too
        await db.delete(identity)
        removed.append(identity.provider)
    if await second_factors.remove_all(db, user_id=user.id, reason=FIRST_PROOF):
        removed.append("second_factor")
    await db.execute(delete(EmailProof).where(EmailProof.user_id == user.id))
    await db.flush()
    return removed


async def remove_added(db: AsyncSession, *, user_id: int, details: dict[str, Any]) -> str | None:
    """The way in a security notice told was added, named in its `details` (`passkey_id`,
    `identity_id`, `factor_id`), removed for its "this wasn't me" link if it is still the
    user's, and announced with reason `not_me` (flushed); what was removed, if anything."""
    if (passkey_id := details.get("passkey_id")) is not None:
        gone = await db.scalar(
            delete(Passkey)
            .where(Passkey.id == passkey_id, Passkey.user_id == user_id)
            .returning(Passkey.id)
        )
        if gone is None:
            return None
        events.emit(
            db, "passkey.removed", {"user_id": user_id, "passkey_id": gone, "reason": NOT_ME}
        )
        await db.flush()
        return "passkey"
    if (identity_id := details.get("identity_id")) is not None:
        identity = await db.scalar(
            select(Identity).where(Identity.id == identity_id, Identity.user_id == user_id)
        )
        if identity is None:
            return None
        events.emit(
            db,
            "identity.unlinked",
            {"user_id": user_id, "provider": identity.provider, "reason": NOT_ME},
        )
        revocations.queue(db, identity)
        await db.delete(identity)
        await db.flush()
        return identity.provider
    if (factor_id := details.get("factor_id")) is not None:
        factor = await db.scalar(
            select(TotpFactor.id).where(TotpFactor.id == factor_id, TotpFactor.user_id == user_id)
        )
        if factor is not None and await second_factors.remove_all(
            db, user_id=user_id, reason=NOT_ME
        ):
            return "second_factor"
    return None
