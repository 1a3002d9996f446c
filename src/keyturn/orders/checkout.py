"""Checkout: the cart becomes an order in one transaction, or nothing changes.

Order of work, all in one transaction:
1. lock the user's cart row (two devices or a double tap queue here; the second then finds an
   empty cart, or — with the same Idempotency-Key — the order the first one made);
2. replay check for the Idempotency-Key;
3. read the lines, sum quantities per SKU;
4. per SKU in id order (a fixed lock order: no deadlocks between shoppers), one conditional
   `UPDATE skus SET stock = stock - q WHERE id = ? AND stock >= q AND active RETURNING price`
   — never below zero, no read-then-write, and the price comes from the database;
5. order with snapshots, its number, the first history event, `order.created`; empty the cart.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.addresses import service as addresses
from keyturn.cart import service as cart
from keyturn.catalog.models import Product, Sku
from keyturn.errors import Conflict, Forbidden, Invalid
from keyturn.orders import service as orders
from keyturn.orders.models import MAX_TOTAL, Order, OrderItem
from keyturn.orders.schemas import CheckoutIn, OrderRead
from keyturn.sessions.live import Principal


class CartEmpty(Invalid):
    """There is nothing in the cart to order (or another device just ordered it)."""

    code = "order.cart_empty"


class OutOfStock(Conflict):
    """Some lines cannot be supplied; `lines` names them. Nothing was changed."""

    code = "order.out_of_stock"


class IdempotencyKeyReused(Invalid):
    """The Idempotency-Key was already used for a different checkout request."""

    code = "order.idempotency_key_reused"


class OrderTooLarge(Invalid):
    """The order's total would pass the largest amount an order can record."""

    code = "order.total_too_large"


class GuestCannotOrder(Forbidden):
    """Guests shop, but ordering needs an account."""

    code = "order.sign_in_required"


def request_fingerprint(body: CheckoutIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(
    db: AsyncSession, *, user_id: int, key: str | None, fingerprint: str
) -> OrderRead | None:
    if key is None:
        return None
    order = await db.scalar(
        select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
    )
    if order is None:
        return None
    if order.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different checkout; use a new key."
        )
    return await orders.order_read(db, order)


async def _shipping_address(db: AsyncSession, *, user_id: int, body: CheckoutIn) -> dict[str, Any]:
    if body.shipping_address is not None:
        return body.shipping_address.model_dump()
    assert body.address_id is not None
    saved = await addresses.get_address(db, user_id=user_id, address_id=body.address_id)
    return {
        field: getattr(saved, field)
        for field in (
            "full_name",
            "phone",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
        )
    }


async def _take_stock(
    db: AsyncSession, quantities: dict[int, int]
) -> tuple[dict[int, Decimal], list[dict[str, Any]]]:
    """Decrement every SKU in id order. Returns current prices and the lines that failed."""
    prices: dict[int, Decimal] = {}
    failed: list[dict[str, Any]] = []
    for sku_id in sorted(quantities):
        wanted = quantities[sku_id]
        price = await db.scalar(
            update(Sku)
            .where(
                Sku.id == sku_id,
                Sku.stock >= wanted,
                Sku.is_active.is_(True),
                Sku.product_id.in_(select(Product.id).where(Product.is_active.is_(True))),
            )
            .values(stock=Sku.stock - wanted)
            .returning(Sku.price)
        )
        if price is None:
            left = await db.scalar(select(Sku.stock).where(Sku.id == sku_id))
            failed.append({"sku_id": sku_id, "requested": wanted, "available": left or 0})
        else:
            prices[sku_id] = price
    return prices, failed


def _items(
    lines: list[Any], quantities: dict[int, int], prices: dict[int, Decimal]
) -> list[OrderItem]:
    """One order line per SKU, with the name and code as they are now (snapshots)."""
    described = {line.sku_id: line for line in lines}
    return [
        OrderItem(
            sku_id=sku_id,
            product_id=described[sku_id].product_id,
            sku_code=described[sku_id].code,
            product_name=described[sku_id].name,
            quantity=quantity,
            unit_price=prices[sku_id],
            line_total=prices[sku_id] * quantity,
        )
        for sku_id, quantity in sorted(quantities.items())
    ]


async def _save(db: AsyncSession, order: Order, items: list[OrderItem], *, market: str) -> None:
    """Add the order, its number and lines, its first history event and `order.created`."""
    db.add(order)
    await db.flush()
    order.order_number = f"{market.upper()}-{1000 + order.id:06d}"
    for item in items:
        item.order_id = order.id
    db.add_all(items)
    orders.record_status(db, order, actor="customer", actor_user_id=order.user_id)
    orders.announce(
        db,
        "order.created",
        order,
        items=[
            {"sku_id": i.sku_id, "quantity": i.quantity, "unit_price": f"{i.unit_price:.2f}"}
            for i in items
        ],
    )


async def place_order(
    db: AsyncSession,
    *,
    caller: Principal,
    body: CheckoutIn,
    idempotency_key: str | None,
    market: str,
    currency: str,
) -> tuple[OrderRead, bool]:
    """Check the cart out. Returns the order and whether it was created now (False: replay)."""
    if caller.role == "guest":
        raise GuestCannotOrder("Sign in to place an order.")
    fingerprint = request_fingerprint(body)
    cart_id = await cart.lock_for_checkout(db, user_id=caller.user_id)
    replay = await _replay(db, user_id=caller.user_id, key=idempotency_key, fingerprint=fingerprint)
    if replay is not None:
        return replay, False
    lines = await cart.checkout_lines(db, cart_id=cart_id) if cart_id is not None else []
    if cart_id is None or not lines:
        raise CartEmpty("The cart is empty.")
    address = await _shipping_address(db, user_id=caller.user_id, body=body)

    quantities: dict[int, int] = defaultdict(int)
    for line in lines:
        quantities[line.sku_id] += line.quantity
    prices, failed = await _take_stock(db, quantities)
    if failed:
        await db.rollback()
        raise OutOfStock("Some items are out of stock; nothing was ordered.", lines=failed)
    items = _items(lines, quantities, prices)
    total = sum((item.line_total for item in items), Decimal("0"))
    if total > MAX_TOTAL:
        await db.rollback()
        raise OrderTooLarge(
            "This order is larger than one order can be; split it.", max_total=str(MAX_TOTAL)
        )
    order = Order(
        user_id=caller.user_id,
        status="pending",
        total_amount=total,
        currency=currency,
        shipping_address=address,
        note=body.note,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    await _save(db, order, items, market=market)
    await cart.empty_cart(db, cart_id=cart_id)
    await db.commit()
    return await orders.order_read(db, order), True
