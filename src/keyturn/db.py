"""Per-market databases: one async engine per market, the declarative Base, and migrations."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from keyturn.config import Settings
from keyturn.reader import EngineReader, PostgresReader, Reader

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
MAX_ID = 2**63 - 1  # the largest BigId: a larger id cannot exist (and would overflow drivers)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored; use keyturn.db.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(db: AsyncSession, table: Any) -> Any:
    """`INSERT ... ON CONFLICT` for the session's backend (PostgreSQL or SQLite)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Connections per market and process (`database_pool_size`, `database_read_pool_size` in
# Settings), opened on demand and then kept: no overflow connections that open and close under
# load. A request past the pool waits up to POOL_TIMEOUT (then 503).
POOL_SIZE = 16
POOL_TIMEOUT = 5
SQLITE_READERS = 4  # per market and process (WAL: they read while the one writer writes)


def make_engine(url: str, pool_size: int = POOL_SIZE) -> AsyncEngine:
    """The market's engine for transactions. On SQLite: its one writer connection."""
    if url.startswith("sqlite"):
        # One connection per process: concurrent requests queue for it in asyncio instead of
        # sleeping in SQLite's busy handler, which made tail latency seconds long.
        engine = create_async_engine(
            url,
            connect_args={"timeout": 10},
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            hide_parameters=True,  # errors never carry what a client sent into the log
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # SQLite: take the write lock at BEGIN so two writers queue instead of deadlocking.
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        _disable_pysqlite_transactions(engine.sync_engine)
        return engine
    # No pre-ping (a round trip per checkout): a connection that died fails its statement,
    # that request answers 503 and the pool replaces every connection older than the failure.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT,
        hide_parameters=True,  # errors never carry what a client sent into the log
    )


def make_reader(url: str, engine: AsyncEngine, size: int) -> Reader:
    """Where the market's one-statement reads run (see keyturn.reader)."""
    if not url.startswith("sqlite"):
        return PostgresReader(engine, size=size, timeout=POOL_TIMEOUT)
    readers = create_async_engine(
        url,
        connect_args={"timeout": 10},
        pool_size=SQLITE_READERS,
        max_overflow=0,
        pool_timeout=30,
        hide_parameters=True,
    )
    event.listen(readers.sync_engine, "connect", _sqlite_pragmas)
    event.listen(readers.sync_engine, "connect", _sqlite_read_only)
    _disable_pysqlite_transactions(readers.sync_engine)
    return EngineReader(readers)


def _sqlite_read_only(dbapi_conn: Any, _: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _disable_pysqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# The market of each engine, so a helper given only `db` can name it (metric labels) without
# the request paying anything for it.
_MARKETS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def market_of(db: AsyncSession) -> str:
    """The market whose database `db` talks to (`unknown` for an engine made elsewhere)."""
    return _MARKETS.get(db.get_bind(), "unknown")  # type: ignore[arg-type]


class Databases:
    """The engines and session factories of every market, created once per app."""

    def __init__(self, settings: Settings) -> None:
        self.urls = settings.database_urls()
        self.engines = {
            code: make_engine(url, settings.database_pool_size) for code, url in self.urls.items()
        }
        for code, engine in self.engines.items():
            _MARKETS[engine.sync_engine] = code
        self.readers = {
            code: make_reader(self.urls[code], engine, settings.database_read_pool_size)
            for code, engine in self.engines.items()
        }
        self.sessionmakers = {
            code: async_sessionmaker(engine, expire_on_commit=False)
            for code, engine in self.engines.items()
        }

    def session(self, market: str) -> AsyncSession:
        return self.sessionmakers[market]()

    def is_postgres(self, market: str) -> bool:
        return self.urls[market].startswith("postgresql")

    async def ping(self, market: str) -> bool:
        try:
            async with asyncio.timeout(3), self.engines[market].connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        for reader in self.readers.values():
            await reader.close()
        for engine in self.engines.values():
            await engine.dispose()


# A use case commits once, at its end; helpers only add or flush. Two needs justify an earlier
# commit, and each has one name (docs/transactions.md):
ENDS_READ = "keyturn.ends_read"


async def fail(db: AsyncSession, error: Exception) -> NoReturn:
    """Refuse with `error` but keep what the refusal recorded (an audit row, a failure
    counter): commit it, then raise. Anything else the use case did is committed too, so call
    it before changing anything that must not outlive the refusal."""
    await db.commit()
    raise error


async def end_read(db: AsyncSession) -> None:
    """End a transaction that has only read, so no lock or pooled connection is held while the
    use case waits (an argon2 hash). Loaded objects stay usable; re-read what you then change
    (`await db.refresh(user, with_for_update=True)`). Nothing is written, so this is not the
    use case's commit (the commit-count test tells them apart by `ENDS_READ`)."""
    assert not (db.new or db.dirty or db.deleted), "end_read() after a write"
    db.info[ENDS_READ] = True
    try:
        await db.commit()
    finally:
        del db.info[ENDS_READ]


@asynccontextmanager
async def transaction(databases: Databases, market: str) -> AsyncIterator[AsyncSession]:
    """A session for work outside a request (CLI, start-up); commits on success."""
    async with databases.session(market) as db, db.begin():
        yield db


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrate(settings: Settings, markets: list[str] | None = None) -> list[str]:
    """Apply the one Alembic history to each market database (all by default)."""
    from alembic import command
    from alembic.config import Config

    urls = settings.database_urls()
    done = []
    for code in markets or settings.market_codes:
        url = urls[code]
        if url.startswith("sqlite"):
            Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["database_url"] = url
        command.upgrade(cfg, "heads")
        done.append(code)
    return done
