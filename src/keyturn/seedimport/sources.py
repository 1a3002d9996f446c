"""Reading a seed system's tables: straight from its PostgreSQL database (one consistent,
read-only snapshot) or from an export (a directory with one `<table>.json|.jsonl|.csv` per
table; the JobPsych users may also be a single file). Rows come back as dicts; a row read
from a file remembers its line under LINE."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from keyturn.tabular import read_records

SHOP_TABLES = (
    "users",
    "products",
    "skus",
    "carts",
    "cart_items",
    "wishlists",
    "wishlist_items",
    "orders",
    "order_items",
)
LINE = "__line__"
Rows = list[dict[str, Any]]


class SourceError(Exception):
    """The source cannot be read at all (unreachable database, missing directory, bad file)."""


def is_database(source: str) -> bool:
    return source.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://"))


async def read_tables(source: str, tables: tuple[str, ...]) -> tuple[dict[str, Rows], list[str]]:
    """The rows of each table and the names of the tables the source does not have."""
    if is_database(source):
        return await _from_database(source, tables)
    return await asyncio.to_thread(_from_directory, Path(source), tables)


async def read_jobpsych_users(source: str) -> Rows:
    """The JobPsych API's `users`: its database, an export directory, or one export file."""
    path = Path(source)
    if not is_database(source) and await asyncio.to_thread(path.is_file):
        return await asyncio.to_thread(_from_file, path)
    found, absent = await read_tables(source, ("users",))
    if absent:
        raise SourceError(f"{source}: no `users` table")
    return found["users"]


async def _from_database(url: str, tables: tuple[str, ...]) -> tuple[dict[str, Rows], list[str]]:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        conn = await asyncpg.connect(dsn, timeout=15)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SourceError(f"cannot connect to the seed database: {type(exc).__name__}") from None
    found: dict[str, Rows] = {}
    absent: list[str] = []
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            for table in tables:
                if await conn.fetchval("SELECT to_regclass($1)", f"public.{table}") is None:
                    absent.append(table)
                    continue
                records = await conn.fetch(f'SELECT * FROM public."{table}" ORDER BY 1')  # noqa: S608
                found[table] = [dict(r) for r in records]
    except asyncpg.PostgresError as exc:
        raise SourceError(f"reading the seed database failed: {exc}") from None
    finally:
        await conn.close()
    return found, absent


def _from_directory(path: Path, tables: tuple[str, ...]) -> tuple[dict[str, Rows], list[str]]:
    if not path.is_dir():
        raise SourceError(f"{path}: neither a postgresql:// URL nor an export directory")
    found: dict[str, Rows] = {}
    absent: list[str] = []
    for table in tables:
        files = [path / f"{table}{ext}" for ext in (".json", ".jsonl", ".csv")]
        present = [f for f in files if f.is_file()]
        if len(present) > 1:
            raise SourceError(f"{path}: more than one export of `{table}`")
        if present:
            found[table] = _from_file(present[0])
        else:
            absent.append(table)
    return found, absent


def _from_file(path: Path) -> Rows:
    try:
        records = read_records(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{path.name}: {exc}") from None
    rows = []
    for line, record in records:
        if not isinstance(record, dict):
            raise SourceError(f"{path.name}: line {line}: expected an object")
        rows.append({**record, LINE: line})
    return rows
