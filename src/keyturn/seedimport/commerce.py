"""Products, SKUs, carts and wishlists into keyturn with their seed ids.

A row whose id keyturn already holds must be the same thing (a product of the same name, an
SKU of the same code, a line of the same cart and SKU) and is left as it is: the import
adds, it never overwrites. A product the seed's SKUs point at but the seed has no row for
is created from the SKU (`product_name`, else "Product <id>"). A user who already has a
keyturn cart or wishlist gets the seed's lines added to it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.cart.models import Cart, CartItem
from keyturn.catalog.models import Product, Sku
from keyturn.seedimport.people import Counts
from keyturn.seedimport.records import CartRow, SeedData, WishlistRow
from keyturn.users.models import User
from keyturn.wishlist.models import Wishlist, WishlistItem

Advance = Callable[[], None]


async def write_catalog(
    db: AsyncSession,
    data: SeedData,
    *,
    currency: str,
    counts: dict[str, Counts],
    problems: list[str],
    advance: Advance,
) -> None:
    for row in data.products:
        advance()
        product = await db.get(Product, row.id)
        if product is None:
            db.add(
                Product(
                    id=row.id,
                    name=row.name,
                    description=row.description,
                    image_url=row.image_url,
                    is_active=row.is_active,
                )
            )
            counts["products"].add("created")
        elif product.name.casefold() == row.name.casefold():
            counts["products"].add("unchanged")
        else:
            problems.append(f"{row.key}: keyturn's product {row.id} is {product.name!r}")
    await db.flush()
    for sku in data.skus:
        if await db.get(Product, sku.product_id) is None:
            db.add(Product(id=sku.product_id, name=sku.product_name or f"Product {sku.product_id}"))
            counts["products"].add("created")
            await db.flush()
    for item in data.skus:
        advance()
        found = await db.get(Sku, item.id)
        if found is not None:
            if found.code == item.code:
                counts["skus"].add("unchanged")
            else:
                problems.append(f"{item.key}: keyturn's SKU {item.id} has the code {found.code!r}")
            continue
        other = await db.scalar(select(Sku.id).where(Sku.code == item.code))
        if other is not None:
            problems.append(f"{item.key}: keyturn's SKU {other} already has the code {item.code!r}")
            continue
        db.add(
            Sku(
                id=item.id,
                product_id=item.product_id,
                code=item.code,
                price=item.price,
                currency=currency,
                stock=item.stock,
                attributes=item.attributes,
                is_active=item.is_active,
            )
        )
        counts["skus"].add("created")
    await db.flush()


async def _owner(db: AsyncSession, key: str, user_id: int, problems: list[str]) -> bool:
    if await db.get(User, user_id) is None:
        problems.append(f"{key}: user {user_id} is not in users")
        return False
    return True


async def write_carts(
    db: AsyncSession,
    carts: list[CartRow],
    *,
    counts: dict[str, Counts],
    problems: list[str],
    advance: Advance,
) -> None:
    for row in carts:
        advance()
        if not await _owner(db, row.key, row.user_id, problems):
            continue
        cart = await db.scalar(select(Cart).where(Cart.user_id == row.user_id))
        if cart is None:
            if await db.get(Cart, row.id) is not None:
                problems.append(f"{row.key}: keyturn's cart {row.id} is another user's")
                continue
            cart = Cart(id=row.id, user_id=row.user_id)
            db.add(cart)
            await db.flush()
            counts["carts"].add("created")
        else:
            counts["carts"].add("unchanged")
        for sku_id, (key, line_id, quantity) in row.lines.items():
            if await db.get(Sku, sku_id) is None:
                problems.append(f"{key}: SKU {sku_id} is not in skus")
                continue
            line = await db.get(CartItem, line_id)
            same = await db.scalar(
                select(CartItem.id).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku_id)
            )
            if line is not None and (line.cart_id, line.sku_id) != (cart.id, sku_id):
                problems.append(f"{key}: keyturn's cart line {line_id} is another line")
            elif line is not None or same is not None:
                counts["cart_items"].add("unchanged")
            else:
                db.add(CartItem(id=line_id, cart_id=cart.id, sku_id=sku_id, quantity=quantity))
                counts["cart_items"].add("created")
        await db.flush()


async def write_wishlists(
    db: AsyncSession,
    wishlists: list[WishlistRow],
    *,
    counts: dict[str, Counts],
    problems: list[str],
    advance: Advance,
) -> None:
    for row in wishlists:
        advance()
        if not await _owner(db, row.key, row.user_id, problems):
            continue
        wishlist = await db.scalar(select(Wishlist).where(Wishlist.user_id == row.user_id))
        if wishlist is None:
            if await db.get(Wishlist, row.id) is not None:
                problems.append(f"{row.key}: keyturn's wishlist {row.id} is another user's")
                continue
            wishlist = Wishlist(id=row.id, user_id=row.user_id)
            db.add(wishlist)
            await db.flush()
            counts["wishlists"].add("created")
        else:
            counts["wishlists"].add("unchanged")
        for product_id, (key, item_id) in row.items.items():
            if await db.get(Product, product_id) is None:
                problems.append(f"{key}: product {product_id} is in neither products nor skus")
                continue
            item = await db.get(WishlistItem, item_id)
            same = await db.scalar(
                select(WishlistItem.id).where(
                    WishlistItem.wishlist_id == wishlist.id, WishlistItem.product_id == product_id
                )
            )
            if item is not None and (item.wishlist_id, item.product_id) != (
                wishlist.id,
                product_id,
            ):
                problems.append(f"{key}: keyturn's wishlist item {item_id} is another item")
            elif item is not None or same is not None:
                counts["wishlist_items"].add("unchanged")
            else:
                db.add(WishlistItem(id=item_id, wishlist_id=wishlist.id, product_id=product_id))
                counts["wishlist_items"].add("created")
        await db.flush()
