"""Cart: one per user, one line per SKU. Every write is race-free without locks: the cart row
and its lines are upserts on unique constraints, so two devices adding at once sum up.

The cart's lock protocol lives here, both sides of it: writers share-lock the cart row
(`ensure_cart`), checkout locks it exclusively (`lock_for_checkout`), so a line changed during
a checkout is either in the order or still in the cart, never lost."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.cart.models import MAX_QUANTITY, Cart, CartItem
from keyturn.cart.schemas import CartLine, CartRead
from keyturn.catalog import service as catalog
from keyturn.catalog.models import Product, Sku
from keyturn.db import dialect_insert, utcnow
from keyturn.errors import Invalid, NotFound, Unauthorized
from keyturn.markets import Market
from keyturn.reader import Row
from keyturn.sessions import live
from keyturn.sessions.tokens import AccessClaims


class CartSkuNotFound(NotFound):
    """The SKU to add does not exist in this market."""

    code = "cart.sku_not_found"


class SkuInactive(Invalid):
    """The SKU (or its product) is no longer for sale."""

    code = "cart.sku_inactive"


class CartItemNotFound(NotFound):
    """No such line in the caller's cart (someone else's line is not found either)."""

    code = "cart.item_not_found"


async def ensure_cart(db: AsyncSession, user_id: int) -> int:
    """The user's cart id, creating the cart if needed; a concurrent creator is harmless.

    The cart row is share-locked until commit (PostgreSQL; SQLite serialises writers anyway):
    cart writes run side by side, but checkout's `FOR UPDATE` waits for them and they wait
    for it, so a line changed during a checkout is never emptied out unordered."""
    mine = select(Cart.id).where(Cart.user_id == user_id).with_for_update(read=True)
    cart_id = await db.scalar(mine)
    if cart_id is None:
        await db.execute(
            dialect_insert(db, Cart)
            .values(user_id=user_id, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[Cart.user_id])
        )
        cart_id = await db.scalar(mine)
    assert cart_id is not None
    return int(cart_id)


def _capped(total: ColumnElement[int]) -> ColumnElement[int]:
    return case((total > MAX_QUANTITY, MAX_QUANTITY), else_=total)


async def _upsert_line(db: AsyncSession, *, cart_id: int, sku_id: int, quantity: int) -> None:
    now = utcnow()
    insert = dialect_insert(db, CartItem).values(
        cart_id=cart_id, sku_id=sku_id, quantity=quantity, added_at=now, updated_at=now
    )
    await db.execute(
        insert.on_conflict_do_update(
            index_elements=[CartItem.cart_id, CartItem.sku_id],
            set_={
                "quantity": _capped(CartItem.quantity + insert.excluded.quantity),
                "updated_at": now,
            },
        )
    )


async def put_in_cart(db: AsyncSession, *, user_id: int, sku_id: int, quantity: int) -> int:
    """Add `quantity` of an SKU for sale to the user's cart (capped at 99); flushed only."""
    found = await catalog.find_sku(db, sku_id)
    if found is None:
        raise CartSkuNotFound("No such SKU.", sku_id=sku_id)
    sku, product = found
    if not (sku.is_active and product.is_active):
        raise SkuInactive("This item is no longer for sale.", sku_id=sku_id)
    cart_id = await ensure_cart(db, user_id)
    await _upsert_line(db, cart_id=cart_id, sku_id=sku_id, quantity=quantity)
    return cart_id


# What a cart line shows, read as columns (no ORM objects on the hot path).
_LINE_COLUMNS = (
    CartItem.id.label("item_id"),
    CartItem.quantity,
    Sku.id.label("sku_id"),
    Sku.code.label("sku_code"),
    Sku.price,
    Sku.stock,
    Sku.is_active.label("sku_active"),
    Product.id.label("product_id"),
    Product.name.label("product_name"),
    Product.is_active.label("product_active"),
)


def _line(row: Row) -> CartLine:
    return CartLine(
        id=row["item_id"],
        sku_id=row["sku_id"],
        sku_code=row["sku_code"],
        product_id=row["product_id"],
        product_name=row["product_name"],
        quantity=row["quantity"],
        unit_price=row["price"],
        line_total=row["price"] * row["quantity"],
        in_stock=row["sku_active"] and row["product_active"] and row["stock"] >= row["quantity"],
    )


def _view(cart_id: int, rows: Iterable[Row], currency: str) -> CartRead:
    lines = [_line(row) for row in rows]
    return CartRead(
        id=cart_id,
        items=lines,
        subtotal=sum((line.line_total for line in lines), Decimal("0.00")),
        currency=currency,
        item_count=sum(line.quantity for line in lines),
    )


async def cart_view(db: AsyncSession, *, cart_id: int, currency: str) -> CartRead:
    """The cart at current prices, as this transaction sees it."""
    rows = await db.execute(
        select(*_LINE_COLUMNS)
        .join(Sku, Sku.id == CartItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(CartItem.cart_id == cart_id)
        .order_by(CartItem.id)
    )
    return _view(cart_id, rows.mappings(), currency)


# The caller's cart lines, one row per line (one row of NULLs for an empty cart, no row at
# all when the session is not live); run with `live.live_params(claims)`.
_caller = live.LIVE_USER.subquery()
_LIVE_CART = (
    select(Cart.id.label("cart_id"), *_LINE_COLUMNS)
    .select_from(_caller)
    .outerjoin(Cart, Cart.user_id == _caller.c.user_id)
    .outerjoin(CartItem, CartItem.cart_id == Cart.id)
    .outerjoin(Sku, Sku.id == CartItem.sku_id)
    .outerjoin(Product, Product.id == Sku.product_id)
    .order_by(CartItem.id)
)


async def read_cart(market: Market, *, claims: AccessClaims) -> CartRead:
    """The caller's cart, read with the live session check in one statement and no
    transaction. Only a user's very first look writes: it creates the cart (its id is part
    of the answer)."""
    rows = await market.reader.all(_LIVE_CART, live.live_params(claims))
    if not rows:
        raise Unauthorized("The session has ended; sign in again.")
    cart_id = rows[0]["cart_id"]
    if cart_id is not None:
        lines = [row for row in rows if row["item_id"] is not None]
        return _view(cart_id, lines, market.currency)
    async with market.session() as db:
        cart_id = await ensure_cart(db, claims.user_id)
        view = await cart_view(db, cart_id=cart_id, currency=market.currency)
        await db.commit()
    return view


async def add_item(
    db: AsyncSession, *, user_id: int, sku_id: int, quantity: int, currency: str
) -> CartRead:
    cart_id = await put_in_cart(db, user_id=user_id, sku_id=sku_id, quantity=quantity)
    view = await cart_view(db, cart_id=cart_id, currency=currency)
    await db.commit()
    return view


def _owned(user_id: int, item_id: int) -> list[ColumnElement[bool]]:
    mine = select(Cart.id).where(Cart.user_id == user_id).scalar_subquery()
    return [CartItem.id == item_id, CartItem.cart_id == mine]


async def read_item(db: AsyncSession, *, user_id: int, item_id: int) -> CartLine:
    row = (
        await db.execute(
            select(*_LINE_COLUMNS)
            .join(Sku, Sku.id == CartItem.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(*_owned(user_id, item_id))
        )
    ).one_or_none()
    if row is None:
        raise CartItemNotFound("No such item in your cart.")
    return _line(row._mapping)


async def set_quantity(
    db: AsyncSession, *, user_id: int, item_id: int, quantity: int, currency: str
) -> CartRead:
    cart_id = await ensure_cart(db, user_id)
    result = await db.execute(
        update(CartItem)
        .where(CartItem.id == item_id, CartItem.cart_id == cart_id)
        .values(quantity=quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise CartItemNotFound("No such item in your cart.")
    view = await cart_view(db, cart_id=cart_id, currency=currency)
    await db.commit()
    return view


async def remove_item(db: AsyncSession, *, user_id: int, item_id: int, currency: str) -> CartRead:
    cart_id = await ensure_cart(db, user_id)
    result = await db.execute(
        delete(CartItem)
        .where(CartItem.id == item_id, CartItem.cart_id == cart_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise CartItemNotFound("No such item in your cart.")
    view = await cart_view(db, cart_id=cart_id, currency=currency)
    await db.commit()
    return view


async def clear_cart(db: AsyncSession, *, user_id: int, currency: str) -> CartRead:
    cart_id = await ensure_cart(db, user_id)
    await empty_cart(db, cart_id=cart_id)
    view = await cart_view(db, cart_id=cart_id, currency=currency)
    await db.commit()
    return view


async def lock_for_checkout(db: AsyncSession, *, user_id: int) -> int | None:
    """The user's cart id, locked FOR UPDATE until commit (None: no cart). A second checkout
    of the same cart queues here and then finds it empty; cart writes wait for it."""
    return await db.scalar(select(Cart.id).where(Cart.user_id == user_id).with_for_update())


async def checkout_lines(db: AsyncSession, *, cart_id: int) -> list[Any]:
    """The locked cart's lines: `sku_id, quantity, code, product_id, name`."""
    rows = await db.execute(
        select(CartItem.sku_id, CartItem.quantity, Sku.code, Sku.product_id, Product.name)
        .join(Sku, Sku.id == CartItem.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(CartItem.cart_id == cart_id)
    )
    return list(rows.all())


async def empty_cart(db: AsyncSession, *, cart_id: int) -> None:
    """Remove every line of the cart (executed, not committed)."""
    await db.execute(delete(CartItem).where(CartItem.cart_id == cart_id))


async def merge_guest(db: AsyncSession, *, guest_id: int, user_id: int) -> None:
    """Add a guest's lines to the user's cart (quantities add, capped); flushed only.
    Runs inside the sign-in transaction, before the guest is deleted."""
    guest_cart = await db.scalar(select(Cart.id).where(Cart.user_id == guest_id))
    if guest_cart is None:
        return
    lines = (
        await db.execute(
            select(CartItem.sku_id, CartItem.quantity)
            .where(CartItem.cart_id == guest_cart)
            .order_by(CartItem.sku_id)
        )
    ).all()
    if lines:
        cart_id = await ensure_cart(db, user_id)
        for sku_id, quantity in lines:
            await _upsert_line(db, cart_id=cart_id, sku_id=sku_id, quantity=quantity)
    await db.execute(delete(Cart).where(Cart.id == guest_cart))
