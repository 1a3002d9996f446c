"""Catalog import: upsert by SKU code, all-or-nothing per file, safe to re-run. The file is
read and checked first (`catalog_file`); nothing is written unless the whole file is valid.

A product is found by its SKUs: an SKU code already in the database brings its product along,
so renaming a product in the file renames it in the shop; new codes create a new product.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.catalog.catalog_file import ProductRecord, read_catalog
from keyturn.catalog.models import Product, Sku
from keyturn.config import Settings
from keyturn.db import Databases, transaction
from keyturn.logs import get_logger

log = get_logger("keyturn.catalog.import")

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.json")


@dataclass
class ImportResult:
    products_created: int = 0
    products_updated: int = 0
    skus_created: int = 0
    skus_updated: int = 0


async def _existing_skus(db: AsyncSession, codes: list[str]) -> dict[str, Sku]:
    found: dict[str, Sku] = {}
    for start in range(0, len(codes), 500):
        rows = await db.scalars(select(Sku).where(Sku.code.in_(codes[start : start + 500])))
        found.update({sku.code: sku for sku in rows})
    return found


async def apply_catalog(
    db: AsyncSession,
    records: list[ProductRecord],
    *,
    currency: str,
    on_product: Callable[[], None] | None = None,
) -> ImportResult:
    """Upsert every product and SKU of a validated file (flushed, not committed)."""
    result = ImportResult()
    existing = await _existing_skus(db, [s.code for r in records for s in r.skus])
    for record in records:
        product_id = next(
            (existing[s.code].product_id for s in record.skus if s.code in existing), None
        )
        product = await db.get(Product, product_id) if product_id else None
        if product is None:
            product = Product()
            db.add(product)
            result.products_created += 1
        else:
            result.products_updated += 1
        product.name = record.name
        product.description = record.description
        product.image_url = record.image_url
        product.is_active = record.is_active
        await db.flush()
        for item in record.skus:
            sku = existing.get(item.code)
            if sku is None:
                sku = Sku(code=item.code)
                db.add(sku)
                result.skus_created += 1
            else:
                result.skus_updated += 1
            sku.product_id = product.id
            sku.price = item.price
            sku.currency = currency
            sku.stock = item.stock
            sku.attributes = item.attributes
            sku.is_active = item.is_active
        if on_product:
            on_product()
    await db.flush()
    return result


async def import_records(
    settings: Settings,
    market: str,
    records: list[ProductRecord],
    *,
    on_product: Callable[[], None] | None = None,
) -> ImportResult:
    """Write a validated file in one transaction: every row lands, or none does."""
    currency = settings.market(market).currency
    databases = Databases(settings)
    try:
        async with transaction(databases, market) as db:
            return await apply_catalog(db, records, currency=currency, on_product=on_product)
    finally:
        await databases.dispose()


async def _load_demo(settings: Settings, markets: list[str]) -> list[str]:
    loaded = []
    for market in markets:
        databases = Databases(settings)
        try:
            async with databases.session(market) as db:
                empty = not await db.scalar(select(func.count()).select_from(Product))
        finally:
            await databases.dispose()
        if empty:
            records = read_catalog(DEMO_CATALOG, currency=settings.market(market).currency)
            result = await import_records(settings, market, records)
            log.info("demo_catalog_loaded", market=market, products=result.products_created)
            loaded.append(market)
    return loaded


def load_demo_catalog(settings: Settings, markets: list[str]) -> list[str]:
    """Fill each market's empty catalog with the demo products (start-up, before workers)."""
    return asyncio.run(_load_demo(settings, markets))
