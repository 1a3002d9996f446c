"""Account deletion (`DELETE /profile`, `DELETE /admin/users/{id}`), docs/privacy.md.

One transaction ends every session and deletes what hangs off the user (every table whose
`user_id` references `users` with ON DELETE CASCADE: sessions and their refresh tokens, cart,
wishlist, addresses, files, usage counters, identities, password resets, and the passkeys and
second factors of the sign-in methods that store them), anonymises the orders kept for
accounting, scrubs the user's audit rows, and leaves the `users` row as an empty tombstone the
orders still point at; it announces `user.deleted` (after a `session.revoked` per session).
Apple is asked to revoke its refresh tokens before that transaction (no transaction waits on
Apple; a failure is queued in it and retried), and the stored file bytes are removed after it
commits (a failure is an orphan the housekeeping sweep removes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.audit.models import AuditEvent
from keyturn.auth.models import AppleRevocation, Identity, PasskeyChallenge, PhoneChallenge
from keyturn.auth.oauth import revocations
from keyturn.auth.oauth.clients import OAuth
from keyturn.db import Base, end_read, utcnow
from keyturn.errors import NotFound
from keyturn.files import service as files
from keyturn.files.models import StoredFile
from keyturn.files.storage import Storage
from keyturn.logs import get_logger
from keyturn.notify.models import DevMessage
from keyturn.orders.models import Order
from keyturn.sessions import ending
from keyturn.users import service as users
from keyturn.users.models import User

log = get_logger("keyturn.privacy")

# Audit details that say nothing about the person; everything else is dropped on deletion.
AUDIT_KEEPS = frozenset({"method", "reason", "new_user", "scope", "by", "provider", "created"})
# What an anonymised order's shipping address keeps: the country (tax records).
DELETED_NAME = "Deleted customer"


async def delete_account(
    db: AsyncSession,
    oauth: OAuth,
    storage: Storage,
    *,
    user_id: int,
    admin_id: int | None = None,
    session_id: str | None = None,
    ip: str | None = None,
) -> None:
    """Delete the account `user_id`, by its owner or the administrator `admin_id`."""
    by = "self" if admin_id is None else f"admin:{admin_id}"
    await users.get_user(db, user_id)
    tokens = await _apple_tokens(db, user_id)
    await end_read(db)
    revoked = {
        sealed
        for client_id, sealed in tokens
        if await revocations.revoke_now(oauth, client_id=client_id, sealed=sealed)
    }
    user = await db.scalar(
        select(User).where(User.id == user_id, User.deleted_at.is_(None)).with_for_update()
    )
    if user is None:
        raise NotFound("No such user.")
    for client_id, sealed in await _apple_tokens(db, user_id):
        if sealed not in revoked:
            db.add(AppleRevocation(client_id=client_id, token_sealed=sealed))
    keys = list(
        await db.scalars(select(StoredFile.storage_key).where(StoredFile.user_id == user_id))
    )
    kept = await _anonymise_orders(db, user_id)
    await ending.revoke_user_sessions(db, user_id=user_id, reason="account_deleted")
    await _forget_contacts(db, user)
    for table, column in _owned_tables():
        await db.execute(delete(table).where(column == user_id))
    # An unanswered passkey challenge names the account by id only (no foreign key): it goes too.
    await db.execute(delete(PasskeyChallenge).where(PasskeyChallenge.user_id == user_id))
    await _scrub_audit(db, user_id)
    _empty(user)
    users.announce(
        db, "user.deleted", user, by="self" if admin_id is None else "admin", by_admin_id=admin_id
    )
    audit.record(
        db,
        "account.deleted",
        user_id=user_id,
        session_id=session_id,
        ip=ip if by != "self" else None,
        by=by,
        orders_kept=kept,
        files=len(keys),
        apple_revocations_queued=len(tokens) - len(revoked),
    )
    await db.commit()
    log.info("account_deleted", user_id=user_id, by=by, orders_kept=kept, files=len(keys))
    for key in keys:
        await files.discard(storage, key)


async def _apple_tokens(db: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    rows = await db.execute(
        select(Identity.client_id, Identity.refresh_token_sealed).where(
            Identity.user_id == user_id,
            Identity.provider == "apple",
            Identity.refresh_token_sealed.is_not(None),
        )
    )
    return [(client_id, sealed) for client_id, sealed in rows.all() if sealed is not None]


def _owned_tables() -> list[tuple[Any, Any]]:
    """(table, user_id column) of every table that hangs off `users` with ON DELETE CASCADE:
    a sign-in method that stores rows per user declares them so, and deletion takes them."""
    owned = []
    for table in reversed(Base.metadata.sorted_tables):
        for fk in table.foreign_keys:
            if fk.column.table.name == "users" and (fk.ondelete or "").upper() == "CASCADE":
                owned.append((table, fk.parent))
    return owned


async def _anonymise_orders(db: AsyncSession, user_id: int) -> int:
    """Orders keep their items, amounts and history; who and where is replaced."""
    rows = (
        await db.execute(select(Order.id, Order.shipping_address).where(Order.user_id == user_id))
    ).all()
    for order_id, address in rows:
        country = address.get("country") if isinstance(address, dict) else None
        await db.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(
                shipping_address={"full_name": DELETED_NAME, "country": country},
                note=None,
                idempotency_key=None,
                request_hash=None,
            )
        )
    return len(rows)


async def _forget_contacts(db: AsyncSession, user: User) -> None:
    """Codes and development messages sent to the account's phone and email."""
    if user.phone_number is not None:
        await db.execute(
            delete(PhoneChallenge).where(PhoneChallenge.phone_number == user.phone_number)
        )
    recipients = [c for c in (user.phone_number, user.email) if c]
    if recipients:
        await db.execute(
            delete(DevMessage).where(or_(*(DevMessage.recipient == c for c in recipients)))
        )


async def _scrub_audit(db: AsyncSession, user_id: int) -> None:
    """The trail keeps what happened and when; not where from, nor anything personal."""
    rows = (
        await db.execute(
            select(AuditEvent.id, AuditEvent.details).where(AuditEvent.user_id == user_id)
        )
    ).all()
    for event_id, details in rows:
        kept = {k: v for k, v in (details or {}).items() if k in AUDIT_KEEPS}
        await db.execute(
            update(AuditEvent).where(AuditEvent.id == event_id).values(ip=None, details=kept)
        )


def _empty(user: User) -> None:
    """The tombstone: an id, a market and a date; nothing that names or reaches a person."""
    user.phone_number = None
    user.email = None
    user.password_hash = None
    user.full_name = None
    user.profile_image_url = None
    user.company = None
    user.is_active = False
    user.is_verified = False
    user.email_verified = False
    user.last_login = None
    user.deleted_at = utcnow()
