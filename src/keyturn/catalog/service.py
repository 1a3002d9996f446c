"""Catalog: what a market sells. Public reads show only active products and SKUs; admins
see and change everything. Products and SKUs are deactivated, never deleted (carts, wishlists
and orders point at them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from keyturn.catalog.models import Product, Sku
from keyturn.catalog.schemas import (
    AdminProductList,
    AdminProductRead,
    AdminSkuRead,
    ProductCreate,
    ProductList,
    ProductRead,
    ProductUpdate,
    SkuCreate,
    SkuRead,
    SkuUpdate,
)
from keyturn.errors import Conflict, NotFound


class ProductNotFound(NotFound):
    """No such product (or it is not for sale, for public reads)."""

    code = "catalog.product_not_found"


class SkuNotFound(NotFound):
    """No such SKU."""

    code = "catalog.sku_not_found"


class SkuCodeTaken(Conflict):
    """Another SKU in this market already has that code."""

    code = "catalog.sku_code_taken"


def sku_read(sku: Sku) -> SkuRead:
    return SkuRead(
        id=sku.id,
        code=sku.code,
        price=sku.price,
        currency=sku.currency,
        in_stock=sku.is_active and sku.stock > 0,
        attributes=sku.attributes or {},
    )


def product_read(product: Product) -> ProductRead:
    return ProductRead(
        id=product.id,
        name=product.name,
        description=product.description,
        image_url=product.image_url,
        skus=[sku_read(s) for s in product.skus if s.is_active],
    )


def admin_product_read(product: Product) -> AdminProductRead:
    return AdminProductRead(
        id=product.id,
        name=product.name,
        description=product.description,
        image_url=product.image_url,
        is_active=product.is_active,
        skus=[admin_sku_read(s) for s in product.skus],
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def admin_sku_read(sku: Sku) -> AdminSkuRead:
    return AdminSkuRead(
        **sku_read(sku).model_dump(),
        product_id=sku.product_id,
        stock=sku.stock,
        is_active=sku.is_active,
        updated_at=sku.updated_at,
    )


async def _page(
    db: AsyncSession, *, q: str | None, cursor: str | None, limit: int, only_active: bool
) -> tuple[list[Product], str | None]:
    """One page in id order; `cursor` is the last id of the previous page (digits, checked by
    the router)."""
    query = select(Product).options(selectinload(Product.skus)).order_by(Product.id)
    if only_active:
        query = query.where(Product.is_active.is_(True))
    if q:
        query = query.where(Product.search_name.contains(q.casefold(), autoescape=True))
    if cursor is not None:
        query = query.where(Product.id > int(cursor))
    products = list(await db.scalars(query.limit(limit + 1)))
    more = len(products) > limit
    products = products[:limit]
    return products, str(products[-1].id) if more else None


async def list_products(
    db: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> ProductList:
    products, next_cursor = await _page(db, q=q, cursor=cursor, limit=limit, only_active=True)
    return ProductList(items=[product_read(p) for p in products], next_cursor=next_cursor)


async def get_product(db: AsyncSession, product_id: int, *, only_active: bool = True) -> Product:
    product = await db.scalar(
        select(Product).options(selectinload(Product.skus)).where(Product.id == product_id)
    )
    if product is None or (only_active and not product.is_active):
        raise ProductNotFound("No such product.")
    return product


async def read_product(db: AsyncSession, *, product_id: int) -> ProductRead:
    return product_read(await get_product(db, product_id))


async def find_sku(db: AsyncSession, sku_id: int) -> tuple[Sku, Product] | None:
    row = (
        await db.execute(
            select(Sku, Product).join(Product, Product.id == Sku.product_id).where(Sku.id == sku_id)
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


# --- admin -------------------------------------------------------------------------------


async def admin_list_products(
    db: AsyncSession, *, q: str | None, cursor: str | None, limit: int
) -> AdminProductList:
    products, next_cursor = await _page(db, q=q, cursor=cursor, limit=limit, only_active=False)
    return AdminProductList(
        items=[admin_product_read(p) for p in products], next_cursor=next_cursor
    )


async def admin_read_product(db: AsyncSession, *, product_id: int) -> AdminProductRead:
    return admin_product_read(await get_product(db, product_id, only_active=False))


def new_sku(product: Product, body: SkuCreate, *, currency: str) -> Sku:
    """A new SKU appended to `product.skus` (so it joins the session with the product)."""
    sku = Sku(
        code=body.code,
        price=body.price,
        currency=currency,
        stock=body.stock,
        attributes=body.attributes,
        is_active=True,
    )
    product.skus.append(sku)
    return sku


async def _flush_or_conflict(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise SkuCodeTaken("Another SKU already has that code.") from None


async def create_product(
    db: AsyncSession, *, body: ProductCreate, currency: str
) -> AdminProductRead:
    product = Product(
        name=body.name,
        description=body.description,
        image_url=str(body.image_url) if body.image_url else None,
        is_active=True,
        skus=[],
    )
    db.add(product)
    for sku in body.skus:
        new_sku(product, sku, currency=currency)
    await _flush_or_conflict(db)
    await db.commit()
    return await admin_read_product(db, product_id=product.id)


async def update_product(
    db: AsyncSession, *, product_id: int, changes: ProductUpdate
) -> AdminProductRead:
    product = await get_product(db, product_id, only_active=False)
    for field, value in changes.model_dump(exclude_unset=True).items():
        if value is None and field in ("name", "is_active"):
            continue
        setattr(product, field, str(value) if field == "image_url" and value else value)
    await db.commit()
    return await admin_read_product(db, product_id=product_id)


async def add_sku(
    db: AsyncSession, *, product_id: int, body: SkuCreate, currency: str
) -> AdminSkuRead:
    product = await get_product(db, product_id, only_active=False)
    sku = new_sku(product, body, currency=currency)
    await _flush_or_conflict(db)
    await db.commit()
    return admin_sku_read(sku)


async def update_sku(db: AsyncSession, *, sku_id: int, changes: SkuUpdate) -> AdminSkuRead:
    sku = await db.get(Sku, sku_id, with_for_update=True)
    if sku is None:
        raise SkuNotFound("No such SKU.")
    for field, value in changes.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(sku, field, value)
    await db.commit()
    return admin_sku_read(sku)
