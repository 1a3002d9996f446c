"""The sweep that keeps the stores tidy, run by `keyturn purge-guests` and every
`guests.sweep_every` inside `serve`: guests idle past `guests.idle_ttl` are deleted with what
they own, stored objects no file row refers to (a guest's or deleted user's files, an
upload that crashed between its storage write and its commit) are removed, Apple refresh
tokens still queued for revocation are retried, and events (with their webhook deliveries)
and security notices older than `webhooks.retention` go."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from keyturn.auth import guest
from keyturn.auth.oauth import revocations
from keyturn.auth.oauth.clients import OAuth, make_oauth
from keyturn.config import Settings
from keyturn.db import Databases, transaction, utcnow
from keyturn.events import service as events
from keyturn.files import service as files
from keyturn.files.storage import Storage
from keyturn.logs import get_logger
from keyturn.notices import service as notices

log = get_logger("keyturn.housekeeping")

GUEST_BATCH = 500
EVENT_BATCH = 1000


@dataclass
class Swept:
    guests: dict[str, int] = field(default_factory=dict)
    orphans: int = 0
    apple_revoked: int = 0
    events: dict[str, int] = field(default_factory=dict)


async def sweep(
    settings: Settings,
    databases: Databases,
    storage: Storage,
    oauth: OAuth | None = None,
    *,
    idle: timedelta | None = None,
) -> Swept:
    """One pass over every market; each batch of guests is its own short transaction."""
    idle_since = utcnow() - (idle if idle is not None else settings.guests.idle_ttl)
    swept = Swept()
    for market in settings.market_codes:
        swept.guests[market] = 0
        while True:
            async with transaction(databases, market) as db:
                removed = await guest.purge_idle(db, idle_since=idle_since, limit=GUEST_BATCH)
            swept.guests[market] += removed
            if removed < GUEST_BATCH:
                break
        swept.events[market] = await _purge_events(settings, databases, market)
    swept.orphans = await files.sweep_orphans(
        databases, storage, markets=settings.market_codes, grace=settings.files.orphan_grace
    )
    own_oauth = oauth is None
    oauth = oauth or make_oauth(settings)
    try:
        swept.apple_revoked = await revocations.deliver_due(databases, settings.market_codes, oauth)
    finally:
        if own_oauth:
            await oauth.aclose()
    log.info(
        "housekeeping.swept",
        guests=swept.guests,
        orphans=swept.orphans,
        apple_revoked=swept.apple_revoked,
        events=swept.events,
    )
    return swept


async def _purge_events(settings: Settings, databases: Databases, market: str) -> int:
    before = utcnow() - settings.webhooks.retention
    purged = 0
    while True:
        async with transaction(databases, market) as db:
            removed = await events.purge(db, before=before, limit=EVENT_BATCH)
            if removed < EVENT_BATCH:
                await notices.purge(db, before=before)
        purged += removed
        if removed < EVENT_BATCH:
            return purged


async def sweep_forever(
    settings: Settings, databases: Databases, storage: Storage, oauth: OAuth
) -> None:
    """The loop inside `serve`; a failed pass (a database down) is logged and retried."""
    every = settings.guests.sweep_every.total_seconds()
    while True:
        await asyncio.sleep(every)
        try:
            await sweep(settings, databases, storage, oauth)
        except Exception as exc:
            log.warning("housekeeping.failed", error=type(exc).__name__)
