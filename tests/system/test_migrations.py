from sqlalchemy import inspect

from keyturn.db import Base


async def test_every_market_database_has_every_table(app, backend) -> None:
    expected = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    for market in ("kg", "us"):
        async with app.state.databases.engines[market].connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == expected, market


async def test_migrations_and_models_agree(app, backend) -> None:
    """The migration history produces exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with app.state.databases.engines["us"].connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
