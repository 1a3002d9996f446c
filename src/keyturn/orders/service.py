"""Orders after checkout: reading, the status machine, cancellation.

Every status change is one conditional update (`... WHERE status IN (allowed)`) plus a history
event and an `order.*` event, in one transaction. Repeating a change already made is harmless:
it answers the order as it is and records nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.catalog.models import Sku
from keyturn.db import utcnow
from keyturn.errors import Conflict, NotFound
from keyturn.events import service as events
from keyturn.orders.models import Order, OrderEvent, OrderItem
from keyturn.orders.schemas import (
    OrderEventRead,
    OrderItemRead,
    OrderList,
    OrderRead,
    OrderSummary,
)

# Which statuses an order may enter each status from.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "processing": ("pending",),
    "shipped": ("processing",),
    "delivered": ("shipped",),
    "cancelled": ("pending", "processing"),
}


def next_statuses(status: str) -> list[str]:
    """Where an order in `status` may go next (customers may only cancel)."""
    return [to for to, sources in ALLOWED_FROM.items() if status in sources]


class OrderNotFound(NotFound):
    """No such order of yours (someone else's order is not found either)."""

    code = "order.not_found"


class IllegalTransition(Conflict):
    """The order cannot move to that status from where it is."""

    code = "order.illegal_transition"


def record_status(db: AsyncSession, order: Order, *, actor: str, actor_user_id: int | None) -> None:
    db.add(
        OrderEvent(order_id=order.id, status=order.status, actor=actor, actor_user_id=actor_user_id)
    )


def announce(db: AsyncSession, type_: str, order: Order, **extra: Any) -> None:
    events.emit(
        db,
        type_,
        {
            "order_id": order.id,
            "order_number": order.order_number,
            "user_id": order.user_id,
            "status": order.status,
            "total_amount": f"{order.total_amount:.2f}",
            "currency": order.currency,
            **extra,
        },
    )


async def order_read(db: AsyncSession, order: Order) -> OrderRead:
    items = (
        await db.scalars(
            select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)
        )
    ).all()
    history = (
        await db.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        )
    ).all()
    assert order.order_number is not None
    return OrderRead(
        id=order.id,
        order_number=order.order_number,
        status=order.status,
        items=[
            OrderItemRead(
                sku_id=i.sku_id,
                product_id=i.product_id,
                sku_code=i.sku_code,
                product_name=i.product_name,
                quantity=i.quantity,
                unit_price=i.unit_price,
                line_total=i.line_total,
            )
            for i in items
        ],
        total_amount=order.total_amount,
        currency=order.currency,
        item_count=sum(i.quantity for i in items),
        shipping_address=order.shipping_address,
        note=order.note,
        created_at=order.created_at,
        updated_at=order.updated_at,
        history=[OrderEventRead(status=e.status, at=e.at, actor=e.actor) for e in history],
        next_statuses=next_statuses(order.status),
        user_id=order.user_id,
    )


async def _get(db: AsyncSession, order_id: int, *, user_id: int | None) -> Order:
    query = select(Order).where(Order.id == order_id)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    order = await db.scalar(query.execution_options(populate_existing=True))
    if order is None:
        raise OrderNotFound("No such order.")
    return order


async def read_order(db: AsyncSession, *, order_id: int, user_id: int | None) -> OrderRead:
    """One order; `user_id` None means an admin reading any order."""
    return await order_read(db, await _get(db, order_id, user_id=user_id))


async def list_orders(
    db: AsyncSession,
    *,
    user_id: int | None,
    status: str | None,
    cursor: str | None,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
    number: str | None = None,
) -> OrderList:
    """Newest first; the cursor is the last id seen. `until` is exclusive; `number` matches
    the start of an order number."""
    counts = (
        select(OrderItem.order_id, func.sum(OrderItem.quantity).label("n"))
        .group_by(OrderItem.order_id)
        .subquery()
    )
    query = (
        select(Order, counts.c.n)
        .outerjoin(counts, counts.c.order_id == Order.id)
        .order_by(Order.id.desc())
        .limit(limit + 1)
    )
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status:
        query = query.where(Order.status == status)
    if since is not None:
        query = query.where(Order.created_at >= since)
    if until is not None:
        query = query.where(Order.created_at < until)
    if number:
        query = query.where(Order.order_number.startswith(number.upper(), autoescape=True))
    if cursor:
        query = query.where(Order.id < int(cursor))
    rows = (await db.execute(query)).all()
    page = rows[:limit]
    return OrderList(
        items=[
            OrderSummary(
                id=o.id,
                order_number=o.order_number or "",
                status=o.status,
                total_amount=o.total_amount,
                currency=o.currency,
                item_count=int(n or 0),
                created_at=o.created_at,
                user_id=o.user_id,
            )
            for o, n in page
        ],
        next_cursor=str(page[-1][0].id) if len(rows) > limit else None,
    )


async def change_status(
    db: AsyncSession,
    *,
    order_id: int,
    new_status: str,
    actor: str,
    actor_user_id: int | None,
    owner_id: int | None = None,
) -> OrderRead:
    """Move an order along pending → processing → shipped → delivered, or cancel it.

    Cancelling restores stock, exactly once: only the update that actually changed the status
    restores it, and concurrent twins find the order already cancelled.
    """
    allowed = ALLOWED_FROM.get(new_status)
    query = update(Order).where(Order.id == order_id)
    if owner_id is not None:
        query = query.where(Order.user_id == owner_id)
    changed = None
    if allowed:
        changed = await db.scalar(
            query.where(Order.status.in_(allowed))
            .values(status=new_status, updated_at=utcnow())
            .returning(Order.id)
        )
    order = await _get(db, order_id, user_id=owner_id)
    if changed is None:
        if order.status == new_status:
            return await order_read(db, order)
        raise IllegalTransition(
            f"An order that is {order.status} cannot become {new_status}.",
            current_status=order.status,
            allowed_from=list(allowed or ()),
        )
    if new_status == "cancelled":
        await _restore_stock(db, order_id)
    record_status(db, order, actor=actor, actor_user_id=actor_user_id)
    announce(
        db,
        "order.cancelled" if new_status == "cancelled" else "order.status_changed",
        order,
        actor=actor,
    )
    await db.commit()
    return await order_read(db, order)


async def _restore_stock(db: AsyncSession, order_id: int) -> None:
    items = (
        await db.execute(
            select(OrderItem.sku_id, OrderItem.quantity)
            .where(OrderItem.order_id == order_id)
            .order_by(OrderItem.sku_id)
        )
    ).all()
    for sku_id, quantity in items:
        await db.execute(update(Sku).where(Sku.id == sku_id).values(stock=Sku.stock + quantity))
