"""Reading the event table in commit order, so a reader that remembers where it stopped never
misses an event (the webhook fan-out, the revocation feed).

Ids are taken when a row is inserted, not when its transaction commits: on PostgreSQL the
transaction holding id 10 may commit after id 11 was read, and "the last id I saw" would skip
it for ever. So every row records the id of the transaction that wrote it (`txid`), readers
order by (txid, id), and a position only moves past rows whose transaction is older than every
transaction still running (the snapshot's xmin, the *horizon*): nothing can ever appear behind
such a position. Rows beyond the horizon that are already visible come back as `early`, without
moving the position, so a slow writer elsewhere delays no one; a reader sees them again later
and must be idempotent. SQLite runs one writer at a time: there id order is commit order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, Text, cast, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.db import MAX_ID
from keyturn.events.models import Event


@dataclass(frozen=True, order=True)
class Position:
    txid: int
    event_id: int


START = Position(0, 0)


@dataclass
class Page:
    settled: list[Event] = field(default_factory=list)  # in commit order; position is past them
    early: list[Event] = field(default_factory=list)  # visible, but an older writer still runs
    position: Position = START  # where the next read continues


def _is_postgres(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"


async def _horizon(db: AsyncSession) -> int:
    """The oldest transaction still running: every transaction before it has ended."""
    xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
    return int(await db.scalar(select(cast(cast(xmin, Text), BigInteger))) or 0)


async def head(db: AsyncSession) -> Position:
    """A position past everything committed now: where a reader with no history starts."""
    if _is_postgres(db):
        return Position(await _horizon(db) - 1, MAX_ID)
    return Position(0, int(await db.scalar(select(func.max(Event.id))) or 0))


async def read(
    db: AsyncSession,
    *,
    after: Position,
    limit: int,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
) -> Page:
    """Up to `limit` events past `after` (of `types`, created at or after `since`)."""
    query = select(Event).limit(limit)
    if types is not None:
        query = query.where(Event.type.in_(types))
    if since is not None:
        query = query.where(Event.created_at >= since)
    if not _is_postgres(db):
        newest = int(await db.scalar(select(func.max(Event.id))) or 0)
        rows = list(await db.scalars(query.where(Event.id > after.event_id).order_by(Event.id)))
        if len(rows) == limit:
            return Page(settled=rows, position=Position(0, rows[-1].id))
        last = max([newest, *(r.id for r in rows)])
        return Page(settled=rows, position=max(after, Position(0, last)))
    # The horizon first: every row of a transaction before it is visible to the next statement.
    horizon = await _horizon(db)
    rows = list(
        await db.scalars(
            query.where(tuple_(Event.txid, Event.id) > tuple_(after.txid, after.event_id)).order_by(
                Event.txid, Event.id
            )
        )
    )
    settled = [r for r in rows if r.txid is not None and r.txid < horizon]
    early = rows[len(settled) :]
    if len(rows) < limit:  # everything before the horizon was read
        position = max(after, Position(horizon - 1, MAX_ID))
    elif settled:
        position = Position(int(settled[-1].txid or 0), settled[-1].id)
    else:
        position = after
    return Page(settled=settled, early=early, position=position)
