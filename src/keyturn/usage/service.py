"""Usage counters: read, consume atomically, and let an admin set a user's limit.

`consume` only flushes, so the work a unit pays for (an upload's row) commits or rolls back
with it; `consume_counter` is the HTTP use case and commits.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.config import UsageSettings
from keyturn.db import dialect_insert, utcnow
from keyturn.errors import NotFound, TooManyRequests
from keyturn.events import service as events
from keyturn.logs import get_logger
from keyturn.usage.models import UsageCounter
from keyturn.usage.schemas import CounterRead, UsageRead
from keyturn.users import service as users

log = get_logger(__name__)


class QuotaExceeded(TooManyRequests):
    """A usage counter would pass its limit; the body carries the counter."""

    code, title = "usage.quota_exceeded", "Usage limit reached"


class UnknownCounter(NotFound):
    """No such counter for this user: not a plan default and never set by an admin."""

    code = "usage.unknown_counter"


def _view(counter: UsageCounter, now: datetime) -> CounterRead:
    used, resets_at = counter.used, counter.resets_at
    if resets_at is not None and resets_at <= now:
        # The period is over; the next consume starts a fresh one.
        used, resets_at = 0, None
    return CounterRead(
        name=counter.name,
        used=used,
        limit=counter.limit,
        remaining=max(0, counter.limit - used),
        resets_at=resets_at,
    )


def _default(settings: UsageSettings, user_id: int, name: str) -> UsageCounter | None:
    if name not in settings.limits:
        return None
    period = settings.periods.get(name)
    return UsageCounter(
        user_id=user_id,
        name=name,
        used=0,
        limit=settings.limits[name],
        period_seconds=int(period.total_seconds()) if period else None,
        resets_at=None,
    )


async def _load(db: AsyncSession, user_id: int, name: str) -> UsageCounter | None:
    return await db.scalar(
        select(UsageCounter)
        .where(UsageCounter.user_id == user_id, UsageCounter.name == name)
        .execution_options(populate_existing=True)
    )


async def _ensure_row(db: AsyncSession, template: UsageCounter) -> None:
    """Create the counter row if it is missing; concurrent creators do not conflict."""
    values = {
        "user_id": template.user_id,
        "name": template.name,
        "used": 0,
        "limit": template.limit,
        "period_seconds": template.period_seconds,
        "resets_at": None,
        "updated_at": utcnow(),
    }
    await db.execute(
        dialect_insert(db, UsageCounter)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "name"])
    )


async def _start_period_if_due(db: AsyncSession, counter: UsageCounter, now: datetime) -> None:
    """Periodic counters: begin a new period when none is running (compare-and-set)."""
    if counter.period_seconds is None:
        return
    if counter.resets_at is not None and counter.resets_at > now:
        return
    await db.execute(
        update(UsageCounter)
        .where(
            UsageCounter.user_id == counter.user_id,
            UsageCounter.name == counter.name,
            UsageCounter.resets_at.is_(None)
            if counter.resets_at is None
            else UsageCounter.resets_at == counter.resets_at,
        )
        .values(used=0, resets_at=now + timedelta(seconds=counter.period_seconds), updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _retry_after(counter: CounterRead, settings: UsageSettings, now: datetime) -> int:
    if counter.resets_at is None:
        return settings.retry_after_without_period
    return max(1, math.ceil((counter.resets_at - now).total_seconds()))


def _exceeded(counter: CounterRead, settings: UsageSettings, now: datetime) -> QuotaExceeded:
    """The refusal to raise (and count: every caller raises it)."""
    metrics.rate_limited("usage-quota")
    return QuotaExceeded(
        f"The {counter.name!r} limit of {counter.limit} is reached.",
        retry_after=_retry_after(counter, settings, now),
        counter=counter.model_dump(mode="json"),
    )


async def check_available(
    db: AsyncSession, *, user_id: int, name: str, amount: int, settings: UsageSettings
) -> None:
    """A cheap early refusal (before an upload is read); `consume` is the real check."""
    now = utcnow()
    counter = await _load(db, user_id, name) or _default(settings, user_id, name)
    if counter is None:
        raise UnknownCounter(f"No usage counter named {name!r}.")
    view = _view(counter, now)
    if view.remaining < amount:
        raise _exceeded(view, settings, now)


async def consume(
    db: AsyncSession, *, user_id: int, name: str, amount: int, settings: UsageSettings
) -> CounterRead:
    """Take `amount` units in the caller's transaction, or raise QuotaExceeded. Flushes only."""
    now = utcnow()
    counter = await _load(db, user_id, name)
    if counter is None:
        template = _default(settings, user_id, name)
        if template is None:
            raise UnknownCounter(f"No usage counter named {name!r}.")
        await _ensure_row(db, template)
        counter = await _load(db, user_id, name)
        assert counter is not None
    await _start_period_if_due(db, counter, now)
    taken = await db.execute(
        update(UsageCounter)
        .where(
            UsageCounter.user_id == user_id,
            UsageCounter.name == name,
            UsageCounter.used + amount <= UsageCounter.limit,
        )
        .values(used=UsageCounter.used + amount, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    counter = await _load(db, user_id, name)
    assert counter is not None
    view = _view(counter, now)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise _exceeded(view, settings, now)
    if view.used >= view.limit:
        events.emit(
            db,
            "usage.limit_reached",
            {
                "user_id": user_id,
                "counter": name,
                "used": view.used,
                "limit": view.limit,
                "resets_at": events.timestamp(view.resets_at) if view.resets_at else None,
            },
        )
    return view


async def consume_counter(
    db: AsyncSession, *, user_id: int, name: str, amount: int, settings: UsageSettings
) -> CounterRead:
    counter = await consume(db, user_id=user_id, name=name, amount=amount, settings=settings)
    await db.commit()
    return counter


async def read_usage(db: AsyncSession, *, user_id: int, settings: UsageSettings) -> UsageRead:
    """Every counter of the user, plan defaults included before their first use."""
    now = utcnow()
    rows = {
        c.name: c
        for c in await db.scalars(select(UsageCounter).where(UsageCounter.user_id == user_id))
    }
    for name in settings.limits:
        if name not in rows:
            default = _default(settings, user_id, name)
            assert default is not None
            rows[name] = default
    return UsageRead(counters=[_view(rows[name], now) for name in sorted(rows)])


async def set_limit(
    db: AsyncSession,
    *,
    user_id: int,
    name: str,
    limit: int,
    admin_id: int,
    settings: UsageSettings,
) -> CounterRead:
    """Set one user's limit for a counter, creating the counter if needed."""
    await users.get_user(db, user_id)
    template = _default(settings, user_id, name) or UsageCounter(
        user_id=user_id, name=name, used=0, limit=limit, period_seconds=None
    )
    template.limit = limit
    await _ensure_row(db, template)
    await db.execute(
        update(UsageCounter)
        .where(UsageCounter.user_id == user_id, UsageCounter.name == name)
        .values(limit=limit, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    counter = await _load(db, user_id, name)
    assert counter is not None
    view = _view(counter, utcnow())
    await db.commit()
    log.info("usage.limit_set", user_id=user_id, counter=name, limit=limit, by=admin_id)
    return view
