"""The connection pools are as large as configured and no larger: an operator sizes
PostgreSQL's `max_connections` from these settings (docs/markets-and-databases.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from pydantic import ValidationError
from sqlalchemy import func, literal_column, select

from keyturn.config import Settings
from keyturn.db import Databases


async def test_reads_never_use_more_connections_than_the_read_pool(
    make_settings: Callable[..., Settings], backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("the read pool is PostgreSQL's (SQLite reads on its own reader connections)")
    databases = Databases(make_settings(database_read_pool_size=3))
    try:
        reader = databases.readers["us"]
        slow_pid = select(func.pg_backend_pid(), func.pg_sleep(literal_column("0.05")))
        rows = await asyncio.gather(*(reader.all(slow_pid, {}) for _ in range(24)))
        pids = {row[0][0] for row in rows}
        assert len(pids) == 3  # all 24 answered, three connections at a time
    finally:
        await databases.dispose()


@pytest.mark.parametrize("field", ["database_pool_size", "database_read_pool_size"])
@pytest.mark.parametrize("value", [0, -1, 100_000])
def test_a_pool_size_out_of_range_is_refused_at_start(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})
