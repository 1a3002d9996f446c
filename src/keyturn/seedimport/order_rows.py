"""Seed orders and their items, read and checked (writing them: seedimport.orders).

Statuses keep their names; `canceled`, `confirmed` and `completed` become `cancelled`,
`processing` and `delivered`; any other status is a problem. An order without a number gets
`#<id>`; an item without a line total gets quantity x unit price."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from keyturn.seedimport.rows import each, row_id, text
from keyturn.seedimport.sources import Rows
from keyturn.tabular import as_datetime, as_int, as_money, pick

STATUSES = {
    "pending": "pending",
    "processing": "processing",
    "shipped": "shipped",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "confirmed": "processing",
    "completed": "delivered",
}


@dataclass(frozen=True)
class OrderItemRow:
    key: str
    id: int
    sku_id: int
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    product_name: str | None


@dataclass
class OrderRow:
    key: str
    id: int
    user_id: int
    number: str
    status: str
    total: Decimal
    placed_at: datetime | None
    updated_at: datetime | None
    shipping_address: dict[str, Any]
    note: str | None
    items: list[OrderItemRow] = field(default_factory=list)


def _order(key: str, row: dict[str, Any]) -> OrderRow:
    order_id = row_id(row)
    raw_status = str(pick(row, ("status",)) or "pending").strip().lower()
    if raw_status not in STATUSES:
        raise ValueError(f"unknown status {raw_status!r} (known: {', '.join(STATUSES)})")
    placed = pick(row, ("order_date", "created_at"))
    updated = pick(row, ("updated_at",))
    total = pick(row, ("total_amount", "total"))
    if total is None:
        raise ValueError("`total_amount` is missing")
    return OrderRow(
        key=key,
        id=order_id,
        user_id=row_id(row, "user_id"),
        number=text(row, ("order_number",), 32) or f"#{order_id}",
        status=STATUSES[raw_status],
        total=as_money(total, "total_amount"),
        placed_at=as_datetime(placed, "order_date") if placed else None,
        updated_at=as_datetime(updated, "updated_at") if updated else None,
        shipping_address=_address(row),
        note=text(row, ("note", "notes"), 2000),
    )


def _address(row: dict[str, Any]) -> dict[str, Any]:
    """`shipping_address` (an object) or the `shipping_*` columns, as they were."""
    whole = row.get("shipping_address")
    if isinstance(whole, dict):
        return whole
    parts = {
        name.removeprefix("shipping_"): str(value)
        for name, value in row.items()
        if name.startswith("shipping_") and value not in (None, "")
    }
    if isinstance(whole, str) and whole.strip():
        parts["line1"] = whole.strip()
    return parts


def read_orders(tables: dict[str, Rows], problems: list[str]) -> list[OrderRow]:
    orders = {
        o.id: o for o in each("orders", tables.get("orders", []), _order, problems, lambda o: o.id)
    }

    def item(key: str, row: dict[str, Any]) -> tuple[int, OrderItemRow]:
        order_id = row_id(row, "order_id")
        if order_id not in orders:
            raise ValueError(f"order {order_id} is not in orders")
        quantity = as_int(row.get("quantity"), "quantity", minimum=1)
        unit = as_money(pick(row, ("unit_price", "price")), "unit_price")
        line_total = pick(row, ("line_total", "total_price", "subtotal"))
        return order_id, OrderItemRow(
            key=key,
            id=row_id(row),
            sku_id=row_id(row, "sku_id"),
            quantity=quantity,
            unit_price=unit,
            line_total=as_money(line_total, "line_total")
            if line_total is not None
            else unit * quantity,
            product_name=text(row, ("product_name", "name"), 200),
        )

    lines = each("order_items", tables.get("order_items", []), item, problems, lambda p: p[1].id)
    for order_id, line in lines:
        orders[order_id].items.append(line)
    return list(orders.values())
