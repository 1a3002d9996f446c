"""Orders with their items, statuses and numbers (`#1001` stays `#1001`), ids kept.

Prices, totals and product names are the seed's snapshots. The history gets `pending` at
the order date and, if the order moved on, its status at its last update, both by
`system`. Imported orders announce nothing (no webhook events): they are not new. An order
keyturn already holds under the id must be the same one (same user and number)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.catalog.models import Product, Sku
from keyturn.db import utcnow
from keyturn.orders.models import Order, OrderEvent, OrderItem
from keyturn.seedimport.order_rows import OrderRow
from keyturn.seedimport.people import Counts
from keyturn.users.models import User


async def _refused(db: AsyncSession, row: OrderRow) -> str | None:
    """Why the order cannot be created, if it cannot."""
    if await db.get(User, row.user_id) is None:
        return f"user {row.user_id} is not in users"
    other = await db.scalar(select(Order.id).where(Order.order_number == row.number))
    if other is not None:
        return f"keyturn's order {other} already has the number {row.number!r}"
    for item in row.items:
        if await db.get(Sku, item.sku_id) is None:
            return f"{item.key}: SKU {item.sku_id} is not in skus"
        if await db.get(OrderItem, item.id) is not None:
            return f"{item.key}: keyturn's order item {item.id} is another order's"
    return None


async def write_orders(
    db: AsyncSession,
    orders: list[OrderRow],
    *,
    currency: str,
    counts: dict[str, Counts],
    problems: list[str],
    advance: Callable[[], None],
) -> None:
    for row in orders:
        advance()
        found = await db.get(Order, row.id)
        if found is not None:
            if (found.user_id, found.order_number) == (row.user_id, row.number):
                counts["orders"].add("unchanged")
                counts["order_items"].unchanged += len(row.items)
            else:
                problems.append(f"{row.key}: keyturn's order {row.id} is another order")
            continue
        reason = await _refused(db, row)
        if reason is not None:
            problems.append(f"{row.key}: {reason}")
            continue
        placed = row.placed_at or row.updated_at or utcnow()
        moved = row.updated_at or placed
        db.add(
            Order(
                id=row.id,
                order_number=row.number,
                user_id=row.user_id,
                status=row.status,
                total_amount=row.total,
                currency=currency,
                shipping_address=row.shipping_address,
                note=row.note,
                created_at=placed,
                updated_at=moved,
            )
        )
        await db.flush()
        for item in row.items:
            sku = await db.get(Sku, item.sku_id)
            assert sku is not None
            product = await db.get(Product, sku.product_id)
            db.add(
                OrderItem(
                    id=item.id,
                    order_id=row.id,
                    sku_id=sku.id,
                    product_id=sku.product_id,
                    sku_code=sku.code,
                    product_name=item.product_name or (product.name if product else sku.code),
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                    line_total=item.line_total,
                )
            )
        db.add(OrderEvent(order_id=row.id, status="pending", actor="system", at=placed))
        if row.status != "pending":
            db.add(OrderEvent(order_id=row.id, status=row.status, actor="system", at=moved))
        await db.flush()
        counts["orders"].add("created")
        counts["order_items"].created += len(row.items)
