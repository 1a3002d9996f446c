"""Emitting events: the one way a use case says what it decided (docs/events.md).

    from keyturn.events import service as events
    events.emit(db, "order.created", {"order_id": order.id, ...})

`emit` only adds a row to the caller's session: it is committed with the change it announces,
or rolled back with it, and costs no query of its own. Payloads carry ids, states and amounts,
never secrets, and personal data only where a receiver needs it (docs/events.md says which).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.events.models import Event
from keyturn.events.schemas import EventList, EventRead

# Every event type, with when it is emitted. docs/events.md documents each payload (a test
# checks that the two agree); webhook endpoints subscribe to these names.
TYPES: dict[str, str] = {
    "user.created": "An account was created (first sign-in, registration, import, create-admin).",
    "user.updated": "Profile fields, an email or a phone of an account changed.",
    "user.disabled": "An administrator disabled an account; its sessions were ended.",
    "user.enabled": "An administrator enabled an account again.",
    "user.deleted": "An account was deleted (by its owner or an administrator).",
    "session.created": "Someone signed in: a new session (one device).",
    "session.revoked": "A session was ended before its expiry (logout, theft, admin, ...).",
    "password.changed": "An account's password was changed or reset.",
    "passkey.added": "A passkey was added to an account.",
    "passkey.removed": "A passkey was removed from an account.",
    "identity.linked": "An Apple or Google account was linked to an account (a new way in).",
    "identity.unlinked": "An Apple or Google account was unlinked from an account.",
    "second_factor.added": "An authenticator app became an account's second sign-in step.",
    "second_factor.removed": "An account's authenticator app (second sign-in step) was removed.",
    "order.created": "A checkout placed an order.",
    "order.status_changed": "An order moved along pending → processing → shipped → delivered.",
    "order.cancelled": "An order was cancelled (its stock went back).",
    "file.uploaded": "A file was uploaded (one `uploads` unit consumed).",
    "file.deleted": "A file was deleted by its owner.",
    "usage.limit_reached": "A usage counter reached its limit.",
}


def emit(db: AsyncSession, type_: str, payload: dict[str, Any]) -> None:
    """Add the event to the caller's transaction (nothing is sent from here)."""
    assert type_ in TYPES, type_
    db.add(Event(type=type_, payload=payload))


def timestamp(moment: datetime) -> str:
    """How payloads write a moment: UTC, ISO 8601, `Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def matches(pattern: str, type_: str) -> bool:
    """`order.created`, `order.*` or `*`."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return type_.startswith(pattern[:-1])
    return pattern == type_


async def list_events(db: AsyncSession, *, after: int, type_: str | None, limit: int) -> EventList:
    """The event log in id order (an admin's view; readers that must not miss an event
    follow `events.positions` instead)."""
    query = select(Event).where(Event.id > after).order_by(Event.id).limit(limit)
    if type_ is not None and type_ != "*":
        if type_.endswith(".*"):
            query = query.where(Event.type.startswith(type_[:-1], autoescape=True))
        else:
            query = query.where(Event.type == type_)
    rows = (await db.scalars(query)).all()
    return EventList(
        items=[EventRead.model_validate(r) for r in rows],
        next_cursor=str(rows[-1].id) if len(rows) == limit else None,
    )


async def purge(db: AsyncSession, *, before: datetime, limit: int) -> int:
    """Delete up to `limit` events created before `before`, with their deliveries; flushed."""
    ids = list(
        await db.scalars(
            select(Event.id).where(Event.created_at < before).order_by(Event.id).limit(limit)
        )
    )
    if ids:
        await db.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)
