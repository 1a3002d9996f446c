from sqlalchemy import inspect

from keyturn.db import Base


async def test_every_market_database_has_every_table(app, backend) -> None:
    expected = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    for market in ("kg", "us"):
        async with app.state.databases.engines[market].connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == expected, market
