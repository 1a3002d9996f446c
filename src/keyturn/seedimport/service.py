"""One market's import: read the sources, check every row, write everything in one
transaction (or, with `dry_run`, roll it back and only count), then move the id sequences
past the kept ids. Any problem anywhere and nothing at all is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.config import Settings
from keyturn.db import Databases
from keyturn.seedimport import commerce, orders, people, records
from keyturn.seedimport.people import Counts
from keyturn.seedimport.sources import SHOP_TABLES, read_jobpsych_users, read_tables

TABLES = ("users", "jobpsych users", "uploads", *SHOP_TABLES[1:])
# Tables whose ids are kept: their sequences must start after the largest one.
SEQUENCED = ("users", *SHOP_TABLES[1:])
MAX_PROBLEMS = 50


class ImportRefused(Exception):
    """Rows that cannot be imported, each naming its table and key; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


@dataclass
class Summary:
    market: str
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=lambda: {t: Counts() for t in TABLES})
    absent: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """Callbacks for a progress bar: the number of rows, then one call per row."""

    start: Callable[[int], None] = lambda total: None
    advance: Callable[[], None] = lambda: None


async def import_market(
    settings: Settings,
    market: str,
    *,
    shop: str | None,
    jobpsych: str | None,
    dry_run: bool = False,
    progress: Progress = Progress(),
) -> Summary:
    summary = Summary(market=market, dry_run=dry_run)
    tables, summary.absent = await read_tables(shop, SHOP_TABLES) if shop else ({}, [])
    jobpsych_rows = await read_jobpsych_users(jobpsych) if jobpsych else []
    data, problems = records.parse(tables, jobpsych_rows, settings.market(market))
    if problems:
        raise ImportRefused(problems[:MAX_PROBLEMS])
    progress.start(data.size())
    databases = Databases(settings)
    try:
        async with databases.session(market) as db:
            await _write(db, data, settings, summary, problems, progress.advance)
            if problems or dry_run or not _figures(summary):
                await db.rollback()  # a run that would change nothing writes nothing
                if problems:
                    raise ImportRefused(problems[:MAX_PROBLEMS])
                return summary
            if databases.is_postgres(market):
                await _move_sequences(db)
            audit.record(db, "seed.imported", market=market, counts=_figures(summary))
            await db.commit()
    finally:
        await databases.dispose()
    return summary


async def _write(
    db: AsyncSession,
    data: records.SeedData,
    settings: Settings,
    summary: Summary,
    problems: list[str],
    advance: Callable[[], None],
) -> None:
    counts, market = summary.counts, summary.market
    currency = settings.market(market).currency
    for table, rows in (("users", data.users), ("jobpsych users", data.jobpsych_users)):
        written = await people.write_users(
            db,
            rows,
            settings=settings,
            market=market,
            counts=counts[table],
            problems=problems,
            advance=advance,
        )
        await people.write_uploads(
            db, written, settings=settings, counts=counts["uploads"], problems=problems
        )
    await commerce.write_catalog(
        db, data, currency=currency, counts=counts, problems=problems, advance=advance
    )
    await commerce.write_carts(db, data.carts, counts=counts, problems=problems, advance=advance)
    await commerce.write_wishlists(
        db, data.wishlists, counts=counts, problems=problems, advance=advance
    )
    await orders.write_orders(
        db, data.orders, currency=currency, counts=counts, problems=problems, advance=advance
    )


async def _move_sequences(db: AsyncSession) -> None:
    """PostgreSQL: the next id of each table comes after the largest kept one. (SQLite needs
    nothing: a new row's id is the largest plus one.)"""
    for table in SEQUENCED:
        await db.execute(
            text(
                f"SELECT setval('{table}_id_seq', top) FROM (SELECT max(id) AS top FROM {table}) "  # noqa: S608
                f"AS kept WHERE top >= (SELECT last_value FROM {table}_id_seq)"
            )
        )


def _figures(summary: Summary) -> dict[str, int]:
    return {
        f"{table.replace(' ', '_')}_{outcome}": getattr(counts, outcome)
        for table, counts in summary.counts.items()
        for outcome in ("created", "updated")
        if getattr(counts, outcome)
    }
