"""The seed's rows, checked one by one and turned into what keyturn stores (orders:
seedimport.order_rows). Each reader lists the column names a seed or its export may use.
A row that
cannot be read becomes a problem naming its table and key (`cart_items 101: ...`); nothing
is imported while any problem remains. Carts and wishlists are gathered per user (keyturn
keeps one of each): lines for the same SKU add up (at most 99), the same product is kept once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from keyturn.cart.models import MAX_QUANTITY
from keyturn.catalog.schemas import Name, SkuCode, check_attributes
from keyturn.config import MarketConfig
from keyturn.seedimport.order_rows import OrderRow, read_orders
from keyturn.seedimport.rows import each, flag, row_id, text
from keyturn.seedimport.sources import LINE, Rows
from keyturn.tabular import as_int, as_money, pick
from keyturn.users.records import UserRecord, parse_user

_SKU_COLUMNS = {"id", "product_id", "sku_code", "code", "price", "stock", "stock_quantity"}
_SKU_COLUMNS |= {"quantity", "is_active", "currency", "created_at", "updated_at", LINE}
_SKU_COLUMNS |= {"name", "product_name", "title"}
_name = TypeAdapter(Name)
_code = TypeAdapter(SkuCode)


@dataclass(frozen=True)
class UserRow:
    key: str
    user: UserRecord


@dataclass(frozen=True)
class ProductRow:
    key: str
    id: int
    name: str
    description: str | None
    image_url: str | None
    is_active: bool


@dataclass(frozen=True)
class SkuRow:
    key: str
    id: int
    product_id: int
    code: str
    price: Decimal
    stock: int
    attributes: dict[str, Any]
    is_active: bool
    product_name: str | None


@dataclass
class CartRow:
    key: str
    id: int
    user_id: int
    lines: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # sku: (key, id, qty)


@dataclass
class WishlistRow:
    key: str
    id: int
    user_id: int
    items: dict[int, tuple[str, int]] = field(default_factory=dict)  # product: (key, id)


@dataclass
class SeedData:
    users: list[UserRow] = field(default_factory=list)
    jobpsych_users: list[UserRow] = field(default_factory=list)
    products: list[ProductRow] = field(default_factory=list)
    skus: list[SkuRow] = field(default_factory=list)
    carts: list[CartRow] = field(default_factory=list)
    wishlists: list[WishlistRow] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)

    def size(self) -> int:
        tables: list[list[Any]] = [self.users, self.jobpsych_users, self.products, self.skus]
        tables += [self.carts, self.wishlists, self.orders]
        return sum(len(rows) for rows in tables)


def parse(
    tables: dict[str, Rows], jobpsych: Rows, market: MarketConfig
) -> tuple[SeedData, list[str]]:
    """Every row of every table, or the problems with them."""
    problems: list[str] = []
    data = SeedData()

    def user(key: str, row: dict[str, Any]) -> UserRow:
        return UserRow(key, parse_user({**row, "id": row_id(row)}, market))

    data.users = each("users", tables.get("users", []), user, problems, _user_id)
    data.jobpsych_users = each("jobpsych users", jobpsych, user, problems, _user_id)
    data.products = each("products", tables.get("products", []), _product, problems, _row_id)
    data.skus = each("skus", tables.get("skus", []), _sku, problems, _row_id)
    data.carts = _gather_carts(tables, problems)
    data.wishlists = _gather_wishlists(tables, problems)
    data.orders = read_orders(tables, problems)
    return data, problems


def _user_id(row: UserRow) -> int | None:
    return row.user.id


def _row_id(row: ProductRow | SkuRow) -> int:
    return row.id


def _product(key: str, row: dict[str, Any]) -> ProductRow:
    return ProductRow(
        key=key,
        id=row_id(row),
        name=_name.validate_python(pick(row, ("name", "title")) or ""),
        description=text(row, ("description",), 10_000),
        image_url=text(row, ("image_url", "main_image", "image"), 2048),
        is_active=flag(row, "is_active"),
    )


def _sku(key: str, row: dict[str, Any]) -> SkuRow:
    sku_id = row_id(row)
    extra = {
        name: str(value) if isinstance(value, Decimal) else value
        for name, value in row.items()
        if name not in _SKU_COLUMNS and isinstance(value, str | int | float | bool | Decimal)
    }
    price = pick(row, ("price",))
    if price is None:
        raise ValueError("`price` is missing")
    return SkuRow(
        key=key,
        id=sku_id,
        product_id=row_id(row, "product_id"),
        code=_code.validate_python(pick(row, ("sku_code", "code")) or f"SEED-{sku_id}"),
        price=as_money(price, "price"),
        stock=as_int(pick(row, ("stock_quantity", "stock", "quantity")) or 0, "stock"),
        attributes=check_attributes(extra),
        is_active=flag(row, "is_active"),
        product_name=text(row, ("product_name", "name", "title"), 200),
    )


def _quantity(row: dict[str, Any]) -> int:
    quantity = as_int(row.get("quantity"), "quantity", minimum=1)
    if quantity > MAX_QUANTITY:
        raise ValueError(f"`quantity` {quantity} is more than {MAX_QUANTITY}")
    return quantity


def _owners(table: str, rows: Rows, problems: list[str]) -> dict[int, tuple[str, int]]:
    """A cart's or wishlist's id -> (its key, its user)."""
    owners: dict[int, tuple[str, int]] = {}

    def read(key: str, row: dict[str, Any]) -> tuple[str, int, int]:
        return key, row_id(row), row_id(row, "user_id")

    for key, own_id, user_id in each(table, rows, read, problems, lambda r: r[1]):
        owners[own_id] = (key, user_id)
    return owners


def _gather_carts(tables: dict[str, Rows], problems: list[str]) -> list[CartRow]:
    owners = _owners("carts", tables.get("carts", []), problems)
    carts: dict[int, CartRow] = {}
    for cart_id, (key, user_id) in sorted(owners.items()):
        carts.setdefault(user_id, CartRow(key, cart_id, user_id))

    def line(key: str, row: dict[str, Any]) -> tuple[str, int, int, int, int]:
        cart_id = row_id(row, "cart_id")
        if cart_id not in owners:
            raise ValueError(f"cart {cart_id} is not in carts")
        return key, row_id(row), owners[cart_id][1], row_id(row, "sku_id"), _quantity(row)

    for key, line_id, user_id, sku_id, quantity in sorted(
        each("cart_items", tables.get("cart_items", []), line, problems, lambda r: r[1]),
        key=lambda r: r[1],
    ):
        lines = carts[user_id].lines
        kept = lines.get(sku_id)
        total = quantity + (kept[2] if kept else 0)
        lines[sku_id] = (
            (kept[0], kept[1], min(total, MAX_QUANTITY)) if kept else (key, line_id, quantity)
        )
    return list(carts.values())


def _gather_wishlists(tables: dict[str, Rows], problems: list[str]) -> list[WishlistRow]:
    owners = _owners("wishlists", tables.get("wishlists", []), problems)
    wishlists: dict[int, WishlistRow] = {}
    for wishlist_id, (key, user_id) in sorted(owners.items()):
        wishlists.setdefault(user_id, WishlistRow(key, wishlist_id, user_id))

    def item(key: str, row: dict[str, Any]) -> tuple[str, int, int, int]:
        wishlist_id = row_id(row, "wishlist_id")
        if wishlist_id not in owners:
            raise ValueError(f"wishlist {wishlist_id} is not in wishlists")
        return key, row_id(row), owners[wishlist_id][1], row_id(row, "product_id")

    for key, item_id, user_id, product_id in sorted(
        each("wishlist_items", tables.get("wishlist_items", []), item, problems, lambda r: r[1]),
        key=lambda r: r[1],
    ):
        wishlists[user_id].items.setdefault(product_id, (key, item_id))
    return list(wishlists.values())
