"""Delivering events to webhook endpoints, at least once (docs/webhooks.md).

Three steps, none holding a transaction or a pooled connection while a receiver is waited on:

1. **fan out**: new events, read in commit order (`events.positions`) behind a cursor row that
   one worker at a time holds, become one delivery per subscribed, enabled endpoint that
   existed when the event happened;
2. **claim**: due deliveries are taken with `FOR UPDATE SKIP LOCKED` (SQLite: its one writer
   at a time) and moved past their attempt's timeout plus `worker.claim_grace`, an attempt row
   is written, and the transaction commits, so no other worker or instance takes them;
3. **send** (no database), then **record** the outcome in a short transaction: delivered, or
   due again after an exponential backoff with jitter, or failed once `webhooks.retry_for`
   has passed. A worker that dies between 2 and 3 leaves a delivery that becomes due again
   when its claim runs out; its attempt is logged as `lost` (it may have arrived: receivers
   deduplicate by `webhook-id`, as the Standard Webhooks spec asks).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import __version__, metrics
from keyturn.cart.service import dialect_insert
from keyturn.config import Settings
from keyturn.db import Databases, transaction, utcnow
from keyturn.events import positions
from keyturn.events import service as events
from keyturn.events.models import Event, EventCursor
from keyturn.logs import get_logger
from keyturn.retry import backoff
from keyturn.webhooks import signing, targets
from keyturn.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = get_logger("keyturn.webhooks")

CURSOR = "webhooks"
FAN_OUT_BATCH = 500
USER_AGENT = f"keyturn-webhooks/{__version__}"
# A delivery's status after an attempt → the attempt's outcome in metrics.
OUTCOMES = {"delivered": "delivered", "pending": "retrying", "failed": "failed"}


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt: everything the send needs, so it needs no database."""

    market: str
    delivery_id: int
    endpoint_id: int
    attempt: int
    url: str
    keys: list[str]  # the endpoint's secrets (in memory only); empty if they cannot be opened
    msg_id: str
    event_type: str
    body: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_code: int | None
    duration_ms: int
    error: str | None


def body_of(event: Event, market: str) -> str:
    """The signed body: Standard Webhooks' `{type, timestamp, data}`, plus the market."""
    document = {
        "type": event.type,
        "timestamp": events.timestamp(event.created_at),
        "market": market,
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


async def _take_cursor(db: AsyncSession) -> EventCursor | None:
    """The fan-out cursor, locked; None while another worker holds it."""
    query = select(EventCursor).where(EventCursor.name == CURSOR).with_for_update(skip_locked=True)
    cursor = await db.scalar(query)
    if cursor is None:
        await db.execute(
            dialect_insert(db, EventCursor)
            .values(name=CURSOR, txid=0, event_id=0, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        cursor = await db.scalar(query)
    return cursor


async def fan_out(settings: Settings, databases: Databases, market: str) -> int:
    """Turn events committed since the last fan-out into deliveries; the number of events."""
    async with transaction(databases, market) as db:
        cursor = await _take_cursor(db)
        if cursor is None:
            return 0
        after = positions.Position(cursor.txid, cursor.event_id)
        page = await positions.read(db, after=after, limit=FAN_OUT_BATCH)
        if not page.settled:
            return 0
        endpoints = list(
            await db.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)))
        )
        now = utcnow()
        for event in page.settled:
            for endpoint in endpoints:
                if event.created_at >= endpoint.created_at and any(
                    events.matches(p, event.type) for p in endpoint.event_types
                ):
                    db.add(
                        WebhookDelivery(
                            endpoint_id=endpoint.id,
                            event_id=event.id,
                            next_attempt_at=now,
                            give_up_at=now + settings.webhooks.retry_for,
                        )
                    )
        cursor.txid, cursor.event_id = page.position.txid, page.position.event_id
        return len(page.settled)


def _keys(endpoint: WebhookEndpoint, master: bytes, now: datetime) -> list[str]:
    sealed = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        sealed.append(endpoint.previous_secret)
    try:
        return [signing.unseal(master, s) for s in sealed]
    except signing.SecretUnreadable:
        return []


async def claim(
    settings: Settings, databases: Databases, market: str, *, master: bytes, limit: int
) -> list[Claimed]:
    """Take up to `limit` due deliveries for one attempt each (committed before returning)."""
    now = utcnow()
    lease = settings.webhooks.timeout + settings.worker.claim_grace
    claimed: list[Claimed] = []
    async with transaction(databases, market) as db:
        rows = (
            await db.execute(
                select(WebhookDelivery, WebhookEndpoint, Event)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookEndpoint.enabled.is_(True),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
        ).all()
        if not rows:
            return []
        lost = await db.execute(
            update(WebhookAttempt)
            .where(
                WebhookAttempt.delivery_id.in_([d.id for d, _, _ in rows]),
                WebhookAttempt.outcome == "sending",
            )
            .values(outcome="lost", error="the sending worker stopped", finished_at=now)
        )
        given_up = 0
        for delivery, endpoint, event in rows:
            if now >= delivery.give_up_at:
                delivery.status, delivery.finished_at = "failed", now
                given_up += 1
                continue
            delivery.attempts += 1
            delivery.next_attempt_at = now + lease
            db.add(
                WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, started_at=now)
            )
            claimed.append(
                Claimed(
                    market=market,
                    delivery_id=delivery.id,
                    endpoint_id=endpoint.id,
                    attempt=delivery.attempts,
                    url=endpoint.url,
                    keys=_keys(endpoint, master, now),
                    msg_id=f"msg_{event.uid}",
                    event_type=event.type,
                    body=body_of(event, market),
                )
            )
    metrics.webhook_deliveries(market, "lost", int(lost.rowcount))  # type: ignore[attr-defined]
    metrics.webhook_deliveries(market, "failed", given_up)
    return claimed


async def send(settings: Settings, claimed: Claimed) -> Outcome:
    """One HTTP attempt, bounded by `webhooks.timeout` from resolving to the status line."""
    started = time.perf_counter()

    def outcome(code: int | None, error: str | None) -> Outcome:
        elapsed = int((time.perf_counter() - started) * 1000)
        ok = error is None and code is not None and 200 <= code < 300
        return Outcome(ok=ok, response_code=code, duration_ms=elapsed, error=error)

    if not claimed.keys:
        return outcome(None, "the endpoint's secret cannot be opened (KEYTURN_SECRET_KEY?)")
    seconds = settings.webhooks.timeout.total_seconds()
    try:
        async with asyncio.timeout(seconds):
            target = await targets.resolve(
                claimed.url, allow_networks=settings.webhooks.allow_networks
            )
            headers = signing.headers(
                msg_id=claimed.msg_id, timestamp=utcnow(), body=claimed.body, keys=claimed.keys
            )
            headers |= {
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "host": target.host_header,
            }
            async with (
                httpx.AsyncClient(timeout=seconds, follow_redirects=False, trust_env=False) as http,
                http.stream(
                    "POST",
                    target.url,
                    content=claimed.body.encode(),
                    headers=headers,
                    extensions=target.extensions,
                ) as response,
            ):
                code = response.status_code
    except targets.TargetRefused as exc:
        return outcome(None, f"refused: {exc}")
    except TimeoutError:
        return outcome(None, "timed out")
    except httpx.HTTPError as exc:
        return outcome(None, f"connection failed: {type(exc).__name__}")
    if 300 <= code < 400:
        return outcome(code, "redirects are not followed")
    return outcome(code, None if 200 <= code < 300 else f"HTTP {code}")


async def record(
    settings: Settings, databases: Databases, claimed: Claimed, result: Outcome
) -> str:
    """Write the attempt's outcome; the delivery's status after it."""
    now = utcnow()
    async with transaction(databases, claimed.market) as db:
        await db.execute(
            update(WebhookAttempt)
            .where(
                WebhookAttempt.delivery_id == claimed.delivery_id,
                WebhookAttempt.number == claimed.attempt,
            )
            .values(
                outcome="succeeded" if result.ok else "failed",
                response_code=result.response_code,
                duration_ms=result.duration_ms,
                error=result.error,
                finished_at=now,
            )
        )
        delivery = await db.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == claimed.delivery_id)
            .with_for_update()
        )
        # Gone (endpoint deleted), or taken over after this worker's claim ran out.
        if delivery is None or delivery.attempts != claimed.attempt:
            return "superseded"
        if delivery.status != "pending":
            return delivery.status
        if result.ok:
            delivery.status, delivery.finished_at = "delivered", now
        else:
            wait = backoff(
                claimed.attempt,
                first=settings.webhooks.backoff_first,
                maximum=settings.webhooks.backoff_max,
            )
            if now + wait > delivery.give_up_at:
                delivery.status, delivery.finished_at = "failed", now
            else:
                delivery.next_attempt_at = now + wait
        status = delivery.status
    metrics.webhook_deliveries(claimed.market, OUTCOMES[status])
    log.info(
        "webhook.attempt",
        market=claimed.market,
        endpoint_id=claimed.endpoint_id,
        delivery_id=claimed.delivery_id,
        attempt=claimed.attempt,
        event_type=claimed.event_type,
        response_code=result.response_code,
        duration_ms=result.duration_ms,
        ok=result.ok,
        status=status,
    )
    return status


async def deliver(settings: Settings, databases: Databases, claimed: Claimed) -> str:
    return await record(settings, databases, claimed, await send(settings, claimed))
