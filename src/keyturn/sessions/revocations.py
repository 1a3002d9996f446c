"""The revocation feed: revoked sessions, for services that verify tokens locally
(`GET /api/v1/auth/revocations`, docs/revocation-feed.md).

It reads `session.revoked` events of every market in commit order (`events.positions`). The
cursor holds, per market, the position reached and a digest of the "early" revocations already
sent (committed while an older transaction still ran): a long-poll answers as soon as a market
has anything past its position or its early set changed, and otherwise checks again every
`revocations.check_every`, with no transaction or pooled connection held in between.
Items may repeat (early ones come again once settled); a follower keeps a set.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from keyturn.config import Settings
from keyturn.db import Databases, utcnow
from keyturn.errors import Invalid
from keyturn.events import positions
from keyturn.events.models import Event
from keyturn.sessions.schemas import RevocationList, RevokedSession

TYPES = ["session.revoked"]
PAGE = 1000  # revocations per market per answer
# A verifier accepts a token until `exp` + its leeway; clocks differ. Items stay listed this
# much longer than the last token of their session can live.
CLOCK_SLACK = timedelta(seconds=60)
_PART = re.compile(r"^([a-z]{2,8}):([0-9]{1,19}):([0-9]{1,19}):([0-9a-f]{0,16})$")


class CursorInvalid(Invalid):
    """`since` is not a cursor this feed gave out."""

    code = "revocations.cursor_invalid"


@dataclass(frozen=True)
class MarketCursor:
    position: positions.Position
    early: str  # digest of the early revocations already sent ("" if none)


def parse_cursor(text: str) -> dict[str, MarketCursor]:
    cursors = {}
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if match is None:
            raise CursorInvalid("`since` must be the `next_cursor` of an earlier answer.")
        market, txid, event_id, early = match.groups()
        cursors[market] = MarketCursor(positions.Position(int(txid), int(event_id)), early)
    return cursors


def format_cursor(cursors: dict[str, MarketCursor]) -> str:
    return ",".join(
        f"{m}:{c.position.txid}:{c.position.event_id}:{c.early}" for m, c in cursors.items()
    )


def _digest(rows: list[Event]) -> str:
    if not rows:
        return ""
    ids = ",".join(str(r.id) for r in sorted(rows, key=lambda r: r.id))
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def _item(settings: Settings, market: str, event: Event) -> RevokedSession:
    data = event.payload
    revoked_at = datetime.fromisoformat(data["revoked_at"])
    session_end = datetime.fromisoformat(data["expires_at"])
    last_token_end = min(session_end, revoked_at + settings.tokens.access_ttl)
    return RevokedSession(
        session_id=data["session_id"],
        market=market,
        reason=data["reason"],
        revoked_at=revoked_at,
        expires_at=last_token_end + CLOCK_SLACK,
    )


async def _read_market(
    settings: Settings, databases: Databases, market: str, cursor: MarketCursor | None
) -> tuple[list[RevokedSession], MarketCursor, bool]:
    """This market's revocations past `cursor`, its next cursor, and whether it has news."""
    async with databases.session(market) as db:
        if cursor is None:  # a new follower: what may still have live tokens
            since = utcnow() - settings.tokens.access_ttl - CLOCK_SLACK
            page = await positions.read(
                db, after=positions.START, limit=PAGE, types=TYPES, since=since
            )
        else:
            page = await positions.read(db, after=cursor.position, limit=PAGE, types=TYPES)
    rows = page.settled + page.early
    following = MarketCursor(page.position, _digest(page.early))
    news = cursor is None or bool(page.settled) or following.early != cursor.early
    return [_item(settings, market, r) for r in rows], following, news


async def follow(
    settings: Settings, databases: Databases, *, since: str | None, wait: float
) -> RevocationList:
    """Revocations after `since` (none: those whose tokens may still be live), waiting up to
    `wait` seconds for one to happen."""
    cursors: dict[str, MarketCursor | None] = dict.fromkeys(settings.market_codes)
    if since:
        known = parse_cursor(since)
        cursors.update({m: c for m, c in known.items() if m in cursors})
    deadline = time.monotonic() + wait
    check_every = settings.revocations.check_every.total_seconds()
    while True:
        items: list[RevokedSession] = []
        news = False
        for market, cursor in cursors.items():
            found, cursors[market], has_news = await _read_market(
                settings, databases, market, cursor
            )
            items += found
            news = news or has_news
        left = deadline - time.monotonic()
        if news or left <= 0:
            following = {m: c for m, c in cursors.items() if c is not None}
            return RevocationList(items=items, next_cursor=format_cursor(following))
        await asyncio.sleep(min(check_every, left))
