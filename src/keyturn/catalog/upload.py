"""`POST /admin/catalog/import`: the CLI's catalog import over HTTP (docs/catalog-and-cart.md).

The body is the file itself (`application/json` or `text/csv`), read as a stream and refused
at the first byte past `MAX_IMPORT_BYTES`, before any of it is parsed. No transaction is open
while the body arrives or while it is parsed; the writes are one transaction, so a file with
any bad line changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.catalog import catalog_file, importer
from keyturn.db import end_read
from keyturn.errors import AppError, Invalid

# Larger than the JSON body limit of other routes: a catalog of a few thousand SKUs.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv")


class CatalogFileTooLarge(AppError):
    """The catalog file is larger than the import limit."""

    status, code, title = 413, "catalog.import_too_large", "Catalog file too large"


class CatalogFileType(AppError):
    """The catalog file is sent as something other than JSON or CSV."""

    status, code, title = 415, "catalog.import_unsupported_type", "Send JSON or CSV"


class CatalogFileInvalid(Invalid):
    """The catalog file has bad lines; `errors` names each one and nothing was imported."""

    code = "catalog.import_invalid"


class ImportSummary(BaseModel):
    success: bool = True
    dry_run: bool
    products: int
    products_created: int
    products_updated: int
    skus_created: int
    skus_updated: int


def _kind(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in JSON_TYPES:
        return "json"
    if media in CSV_TYPES:
        return "csv"
    raise CatalogFileType("Send the catalog as application/json or text/csv.")


async def _read(stream: AsyncIterator[bytes], content_length: str | None) -> bytes:
    too_large = CatalogFileTooLarge(
        f"A catalog file may be at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; "
        "split it or use `keyturn import-catalog`.",
        max_size=MAX_IMPORT_BYTES,
    )
    if content_length and content_length.isdigit() and int(content_length) > MAX_IMPORT_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in stream:
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            raise too_large
    return bytes(body)


def _parse(body: bytes, *, kind: str, currency: str) -> list[catalog_file.ProductRecord]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise catalog_file.ImportFailed([f"line 1: not UTF-8 text ({exc.reason})"]) from None
    if not text.strip():
        raise catalog_file.ImportFailed(["line 1: the file is empty"])
    return catalog_file.parse_catalog(text, currency=currency, is_json=kind == "json")


async def import_catalog(
    db: AsyncSession,
    *,
    stream: AsyncIterator[bytes],
    content_type: str | None,
    content_length: str | None,
    currency: str,
    dry_run: bool,
    admin_id: int,
) -> ImportSummary:
    """Check the whole file, then upsert it in one transaction (or only check: `dry_run`)."""
    kind = _kind(content_type)
    await end_read(db)  # only the admin check read; hold nothing while the body arrives
    body = await _read(stream, content_length)
    try:
        records = await asyncio.to_thread(_parse, body, kind=kind, currency=currency)
    except catalog_file.ImportFailed as failed:
        raise CatalogFileInvalid(
            f"The file has {len(failed.errors)} bad line(s); nothing was imported.",
            errors=failed.errors,
        ) from None
    result = await importer.apply_catalog(db, records, currency=currency)
    if dry_run:
        await db.rollback()
    else:
        audit.record(
            db,
            "catalog.imported",
            by=admin_id,
            products=len(records),
            skus=result.skus_created + result.skus_updated,
        )
        await db.commit()
    return ImportSummary(
        dry_run=dry_run,
        products=len(records),
        products_created=result.products_created,
        products_updated=result.products_updated,
        skus_created=result.skus_created,
        skus_updated=result.skus_updated,
    )
