"""Reads that are one statement: no transaction, no lock, one round trip.

The hot reads (`GET /cart`, `GET /profile`) carry the live session check in the same statement
as their data (`sessions.live.LIVE`), so they need neither a transaction nor a second round trip.
On PostgreSQL they run straight on asyncpg, from a small pool of their own, each statement
built with SQLAlchemy and compiled once: SQLAlchemy's execution layer cost more CPU than the
query (bench/README.md). On SQLite they run on reader connections of their own (WAL), so a read
never waits for the writer's lock. Rows come back as mappings (`row["column"]`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

Row = Mapping[Any, Any]  # asyncpg Record or SQLAlchemy RowMapping
Rows = Sequence[Row]

# SQLSTATE classes of a database that is (re)starting, gone, or out of connections:
# connection exception, insufficient resources, operator intervention (shutdown, restart).
UNREACHABLE_SQLSTATES = ("08", "53", "57")


class Reader(Protocol):
    async def all(self, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]) -> Rows: ...

    async def close(self) -> None: ...


class EngineReader:
    """Through SQLAlchemy: SQLite's reader connections."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]) -> Rows:
        async with self._engine.connect() as conn:
            return (await conn.execute(statement, params)).mappings().all()

    async def close(self) -> None:
        await self._engine.dispose()


class PostgresReader:
    """Straight on asyncpg. Connections open on demand, up to `size`, and are kept; a dead one
    is replaced by the pool, and the request that met it answers 503."""

    def __init__(self, engine: AsyncEngine, *, size: int, timeout: float) -> None:
        self._dialect = engine.dialect
        _, connect = engine.dialect.create_connect_args(engine.url)
        for option in ("prepared_statement_cache_size", "prepared_statement_name_func"):
            connect.pop(option, None)
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        # Turns at the pool, first come first served (asyncpg's own queue lets a newcomer take
        # a connection a woken waiter was about to get, which made p99 5x p50 under load).
        self._turns = asyncio.Semaphore(size)
        self._compiled: dict[Select[*tuple[Any, ...]], tuple[str, tuple[str, ...]]] = {}

    async def all(self, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]) -> Rows:
        sql, names = self._compiled.get(statement) or self._compile(statement)
        pool = self._pool or await self._open()
        try:
            async with asyncio.timeout(self._timeout):  # cheaper than acquire(timeout=)
                await self._turns.acquire()
            try:
                async with asyncio.timeout(self._timeout):
                    conn = await pool.acquire()
                try:
                    rows: Rows = await conn.fetch(sql, *[params[name] for name in names])
                except BaseException as exc:
                    if not isinstance(exc, asyncpg.PostgresError):
                        conn.terminate()  # in an unknown state (e.g. the server went away)
                    raise
                finally:
                    await pool.release(conn)
            finally:
                self._turns.release()
            return rows
        except (
            OSError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,  # a connection the server ended, met mid-protocol
            asyncpg.PostgresConnectionError,
        ) as exc:
            raise ConnectionError("database unreachable") from exc
        except asyncpg.PostgresError as exc:
            if str(exc.sqlstate or "").startswith(UNREACHABLE_SQLSTATES):
                raise ConnectionError("database unreachable") from exc
            raise

    def _compile(self, statement: Select[*tuple[Any, ...]]) -> tuple[str, tuple[str, ...]]:
        compiled = cast(SQLCompiler, statement.compile(dialect=self._dialect))
        self._compiled[statement] = (str(compiled), tuple(compiled.positiontup or ()))
        return self._compiled[statement]

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **self._connect,
                    min_size=0,
                    max_size=self._size,
                    init=_json_codecs,
                    reset=_unchanged,
                )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _unchanged(conn: asyncpg.Connection) -> None:
    """A read of one statement changes nothing in the connection's session (no SET, LISTEN,
    lock or cursor), so nothing is reset between reads (asyncpg's default costs a round
    trip per read)."""


async def _json_codecs(conn: asyncpg.Connection) -> None:
    """JSON columns decode as SQLAlchemy's connections decode them."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=json.dumps, decoder=json.loads, format="text"
        )
