"""Wishlist: one per user, one row per product (a unique constraint; adding twice is a no-op
that says so), and move-to-cart in one transaction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.cart import service as cart
from keyturn.cart.schemas import CartRead
from keyturn.catalog import service as catalog
from keyturn.catalog.models import Product
from keyturn.db import utcnow
from keyturn.errors import Invalid, NotFound
from keyturn.wishlist.models import Wishlist, WishlistItem
from keyturn.wishlist.schemas import WishlistItemAdded, WishlistItemRead, WishlistRead


class WishlistProductNotFound(NotFound):
    """The product to add does not exist in this market."""

    code = "wishlist.product_not_found"


class ProductInactive(Invalid):
    """The product is no longer for sale."""

    code = "wishlist.product_inactive"


class WishlistItemNotFound(NotFound):
    """No such item in the caller's wishlist (someone else's is not found either)."""

    code = "wishlist.item_not_found"


class SkuRequired(Invalid):
    """move-to-cart: the product has several SKUs for sale; say which one (`skus` lists them)."""

    code = "wishlist.sku_required"


class SkuNotOfProduct(Invalid):
    """move-to-cart: the SKU given belongs to another product."""

    code = "wishlist.sku_not_of_product"


async def ensure_wishlist(db: AsyncSession, user_id: int) -> int:
    wishlist_id = await db.scalar(select(Wishlist.id).where(Wishlist.user_id == user_id))
    if wishlist_id is None:
        await db.execute(
            cart.dialect_insert(db, Wishlist)
            .values(user_id=user_id, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[Wishlist.user_id])
        )
        wishlist_id = await db.scalar(select(Wishlist.id).where(Wishlist.user_id == user_id))
    assert wishlist_id is not None
    return int(wishlist_id)


def _item(item: WishlistItem, product: Product) -> WishlistItemRead:
    return WishlistItemRead(
        id=item.id,
        product_id=product.id,
        product_name=product.name,
        added_at=item.added_at,
        available=product.is_active,
    )


def _owned(user_id: int, item_id: int) -> list[ColumnElement[bool]]:
    mine = select(Wishlist.id).where(Wishlist.user_id == user_id).scalar_subquery()
    return [WishlistItem.id == item_id, WishlistItem.wishlist_id == mine]


async def _get_item(db: AsyncSession, *, user_id: int, item_id: int) -> WishlistItemRead:
    row = (
        await db.execute(
            select(WishlistItem, Product)
            .join(Product, Product.id == WishlistItem.product_id)
            .where(*_owned(user_id, item_id))
        )
    ).one_or_none()
    if row is None:
        raise WishlistItemNotFound("No such item in your wishlist.")
    return _item(*row)


async def read_wishlist(db: AsyncSession, *, user_id: int) -> WishlistRead:
    wishlist_id = await ensure_wishlist(db, user_id)
    view = await wishlist_view(db, wishlist_id=wishlist_id)
    await db.commit()
    return view


async def wishlist_view(db: AsyncSession, *, wishlist_id: int) -> WishlistRead:
    """The wishlist as this transaction sees it."""
    rows = (
        await db.execute(
            select(WishlistItem, Product)
            .join(Product, Product.id == WishlistItem.product_id)
            .where(WishlistItem.wishlist_id == wishlist_id)
            .order_by(WishlistItem.id)
        )
    ).all()
    return WishlistRead(id=wishlist_id, items=[_item(i, p) for i, p in rows])


async def read_item(db: AsyncSession, *, user_id: int, item_id: int) -> WishlistItemRead:
    return await _get_item(db, user_id=user_id, item_id=item_id)


async def add_item(db: AsyncSession, *, user_id: int, product_id: int) -> WishlistItemAdded:
    product = await db.get(Product, product_id)
    if product is None:
        raise WishlistProductNotFound("No such product.", product_id=product_id)
    if not product.is_active:
        raise ProductInactive("This product is no longer for sale.", product_id=product_id)
    wishlist_id = await ensure_wishlist(db, user_id)
    new_id = await db.scalar(
        cart.dialect_insert(db, WishlistItem)
        .values(wishlist_id=wishlist_id, product_id=product_id, added_at=utcnow())
        .on_conflict_do_nothing(index_elements=[WishlistItem.wishlist_id, WishlistItem.product_id])
        .returning(WishlistItem.id)
    )
    item_id = new_id or await db.scalar(
        select(WishlistItem.id).where(
            WishlistItem.wishlist_id == wishlist_id, WishlistItem.product_id == product_id
        )
    )
    assert item_id is not None
    item = await _get_item(db, user_id=user_id, item_id=item_id)
    await db.commit()
    return WishlistItemAdded(**item.model_dump(), already_present=new_id is None)


async def remove_item(db: AsyncSession, *, user_id: int, item_id: int) -> None:
    result = await db.execute(
        delete(WishlistItem)
        .where(*_owned(user_id, item_id))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise WishlistItemNotFound("No such item in your wishlist.")
    await db.commit()


async def _sku_to_move(db: AsyncSession, *, product_id: int, sku_id: int | None) -> int:
    product = await catalog.get_product(db, product_id, only_active=False)
    if sku_id is not None:
        if sku_id not in {s.id for s in product.skus}:
            raise SkuNotOfProduct("That SKU belongs to another product.", sku_id=sku_id)
        return sku_id
    for_sale = [s.id for s in product.skus if s.is_active]
    if not product.is_active or not for_sale:
        raise ProductInactive("This product is no longer for sale.", product_id=product_id)
    if len(for_sale) > 1:
        raise SkuRequired("Choose one of the product's SKUs: send `sku_id`.", skus=for_sale)
    return for_sale[0]


async def move_to_cart(
    db: AsyncSession,
    *,
    user_id: int,
    item_id: int,
    sku_id: int | None,
    quantity: int,
    currency: str,
) -> CartRead:
    """Put the wished product in the cart and take it off the wishlist, in one transaction."""
    item = await _get_item(db, user_id=user_id, item_id=item_id)
    chosen = await _sku_to_move(db, product_id=item.product_id, sku_id=sku_id)
    cart_id = await cart.put_in_cart(db, user_id=user_id, sku_id=chosen, quantity=quantity)
    await db.execute(delete(WishlistItem).where(WishlistItem.id == item.id))
    view = await cart.cart_view(db, cart_id=cart_id, currency=currency)
    await db.commit()
    return view


async def merge_guest(db: AsyncSession, *, guest_id: int, user_id: int) -> None:
    """Add a guest's wished products to the user's wishlist (duplicates collapse); flushed
    only. Runs inside the sign-in transaction, before the guest is deleted."""
    guest_list = await db.scalar(select(Wishlist.id).where(Wishlist.user_id == guest_id))
    if guest_list is None:
        return
    items = (
        await db.execute(
            select(WishlistItem.product_id, WishlistItem.added_at)
            .where(WishlistItem.wishlist_id == guest_list)
            .order_by(WishlistItem.id)
        )
    ).all()
    if items:
        wishlist_id = await ensure_wishlist(db, user_id)
        for product_id, added_at in items:
            await db.execute(
                cart.dialect_insert(db, WishlistItem)
                .values(wishlist_id=wishlist_id, product_id=product_id, added_at=added_at)
                .on_conflict_do_nothing(
                    index_elements=[WishlistItem.wishlist_id, WishlistItem.product_id]
                )
            )
    await db.execute(delete(Wishlist).where(Wishlist.id == guest_list))
