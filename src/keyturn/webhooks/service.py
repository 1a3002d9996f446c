"""Webhook endpoints as administrators manage them, and their delivery log (docs/webhooks.md).
Sending is `webhooks.delivery`'s, run by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import WebhookSettings
from keyturn.db import utcnow
from keyturn.errors import Conflict, NotFound
from keyturn.events.models import Event
from keyturn.webhooks import signing, targets
from keyturn.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from keyturn.webhooks.schemas import (
    AttemptRead,
    DeliveryList,
    DeliveryRead,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
    WebhookUpdate,
)


class WebhookNotFound(NotFound):
    """No such webhook endpoint in this market."""

    code = "webhook.not_found"


class DeliveryNotFound(NotFound):
    """No such delivery of this webhook endpoint."""

    code = "webhook.delivery_not_found"


class DeliveryInFlight(Conflict):
    """The delivery is being sent right now; replay it once the attempt has finished."""

    code = "webhook.delivery_in_flight"


@dataclass(frozen=True)
class WebhookRules:
    """What managing endpoints needs, built once (`create_app`): the key that seals their
    signing secrets, which URLs may receive deliveries, the retry period and the overlap of
    a rotated secret."""

    master: bytes
    production: bool
    settings: WebhookSettings

    def check_url(self, url: str) -> str:
        return targets.check_url(
            url, production=self.production, allow_networks=self.settings.allow_networks
        )


async def _get(db: AsyncSession, webhook_id: int, *, lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == webhook_id)
    endpoint = await db.scalar(query.with_for_update() if lock else query)
    if endpoint is None:
        raise WebhookNotFound("No such webhook.")
    return endpoint


async def create_webhook(
    db: AsyncSession, *, rules: WebhookRules, body: WebhookCreate
) -> WebhookCreated:
    url = rules.check_url(body.url)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        description=body.description,
        event_types=body.event_types,
        enabled=body.enabled,
        secret=signing.seal(rules.master, secret),
    )
    db.add(endpoint)
    await db.commit()
    return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=secret)


async def list_webhooks(db: AsyncSession) -> WebhookList:
    rows = await db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return WebhookList(items=[WebhookRead.model_validate(e) for e in rows])


async def read_webhook(db: AsyncSession, *, webhook_id: int) -> WebhookRead:
    return WebhookRead.model_validate(await _get(db, webhook_id))


async def update_webhook(
    db: AsyncSession, *, rules: WebhookRules, webhook_id: int, body: WebhookUpdate
) -> WebhookRead:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        changes["url"] = rules.check_url(changes["url"])
    endpoint = await _get(db, webhook_id, lock=True)
    for field, value in changes.items():
        if value is not None or field == "description":
            setattr(endpoint, field, value)
    await db.commit()
    return WebhookRead.model_validate(endpoint)


async def delete_webhook(db: AsyncSession, *, webhook_id: int) -> None:
    """The endpoint and its delivery log; attempts in flight finish and record nothing."""
    await db.delete(await _get(db, webhook_id))
    await db.commit()


async def rotate_secret(
    db: AsyncSession, *, rules: WebhookRules, webhook_id: int, overlap: timedelta | None
) -> SecretRotated:
    """A new secret; the current one keeps signing too for `overlap`, so receivers can switch
    at their pace. A secret older than the current one stops at once."""
    endpoint = await _get(db, webhook_id, lock=True)
    overlap = rules.settings.secret_overlap if overlap is None else overlap
    secret = signing.new_secret()
    if overlap > timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = utcnow() + overlap
    else:
        endpoint.previous_secret = endpoint.previous_secret_expires_at = None
    endpoint.secret = signing.seal(rules.master, secret)
    await db.commit()
    return SecretRotated(
        secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at
    )


async def _delivery_reads(
    db: AsyncSession, rows: list[tuple[WebhookDelivery, Event]]
) -> list[DeliveryRead]:
    ids = [d.id for d, _ in rows]
    attempts: dict[int, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        for attempt in await db.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
        ):
            attempts[attempt.delivery_id].append(attempt)
    reads = []
    for delivery, event in rows:
        log = attempts[delivery.id]
        finished = [a for a in log if a.outcome != "sending"]
        last = finished[-1] if finished else None
        reads.append(
            DeliveryRead(
                id=delivery.id,
                event_id=event.id,
                event_type=event.type,
                webhook_id=f"msg_{event.uid}",
                status=delivery.status,
                attempt=delivery.attempts,
                response_code=last.response_code if last else None,
                duration_ms=last.duration_ms if last else None,
                next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
                give_up_at=delivery.give_up_at,
                created_at=delivery.created_at,
                finished_at=delivery.finished_at,
                attempts=[AttemptRead.model_validate(a) for a in log],
            )
        )
    return reads


async def list_deliveries(
    db: AsyncSession, *, webhook_id: int, status: str | None, cursor: str | None, limit: int
) -> DeliveryList:
    """Newest first, each with its attempts."""
    await _get(db, webhook_id)
    query = (
        select(WebhookDelivery, Event)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor is not None:
        query = query.where(WebhookDelivery.id < int(cursor))
    rows = [(d, e) for d, e in (await db.execute(query)).all()]
    page = rows[:limit]
    return DeliveryList(
        items=await _delivery_reads(db, page),
        next_cursor=str(page[-1][0].id) if len(rows) > limit else None,
    )


async def replay(
    db: AsyncSession, *, rules: WebhookRules, webhook_id: int, delivery_id: int
) -> DeliveryRead:
    """Send a delivery again now (same `webhook-id`), with a fresh `webhooks.retry_for`."""
    row = (
        await db.execute(
            select(WebhookDelivery, Event)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == webhook_id)
            .with_for_update(of=WebhookDelivery)
        )
    ).one_or_none()
    if row is None:
        await _get(db, webhook_id)
        raise DeliveryNotFound("No such delivery of this webhook.")
    delivery, event = row
    now = utcnow()
    in_flight = await db.scalar(
        select(WebhookAttempt.id).where(
            WebhookAttempt.delivery_id == delivery.id, WebhookAttempt.outcome == "sending"
        )
    )
    if in_flight is not None and delivery.next_attempt_at > now:
        raise DeliveryInFlight("This delivery is being sent right now; try again shortly.")
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.give_up_at = now + rules.settings.retry_for
    delivery.finished_at = None
    await db.commit()
    return (await _delivery_reads(db, [(delivery, event)]))[0]
