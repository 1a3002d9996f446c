"""The audit log as a download (CSV or NDJSON), streamed page by page.

No transaction or pooled connection is held while the client reads: each page of rows is
read in its own short session, which is closed before the page is handed to the client, so a
slow or stalled reader never blocks writers (on SQLite, any open transaction does).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service
from keyturn.audit.schemas import AuditEventRead, AuditFilter, ExportFormat
from keyturn.db import Databases, end_read

PAGE_SIZE = 500
CSV_COLUMNS = ["id", "created_at", "event", "user_id", "session_id", "ip", "details"]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv(rows: list[AuditEventRead], *, header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        details = json.dumps(row.details, ensure_ascii=False, sort_keys=True, default=str)
        writer.writerow(
            _cell(v)
            for v in (
                row.id,
                row.created_at.isoformat(),
                row.event,
                row.user_id,
                row.session_id,
                row.ip,
                details,
            )
        )
    return out.getvalue().encode()


def _ndjson(rows: list[AuditEventRead]) -> bytes:
    return b"".join(row.model_dump_json().encode() + b"\n" for row in rows)


async def start_export(
    db: AsyncSession, *, databases: Databases, market: str, where: AuditFilter, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    """Ends the request's own transaction (only the admin check used it) and returns the
    body: every matching event, oldest first."""
    await end_read(db)
    return _pages(databases, market=market, where=where, fmt=fmt)


async def _pages(
    databases: Databases, *, market: str, where: AuditFilter, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    after = 0
    first = True
    while True:
        rows = await _page(databases, market=market, where=where, after=after)
        if fmt == "csv":
            if rows or first:
                yield _csv(rows, header=first)
        elif rows:
            yield _ndjson(rows)
        first = False
        if len(rows) < PAGE_SIZE:
            return
        after = rows[-1].id


async def _page(
    databases: Databases, *, market: str, where: AuditFilter, after: int
) -> list[AuditEventRead]:
    # A client that leaves mid-export cancels the response. A query cancelled halfway makes
    # SQLAlchemy throw its connection away (with aiosqlite, leaving a close that never ends),
    # so the short page read finishes first and the cancellation lands after it.
    with anyio.CancelScope(shield=True):
        async with databases.session(market) as db:
            rows = await service.event_page(db, where=where, after=after, limit=PAGE_SIZE)
    return rows
