"""Alembic environment: one history, run against the market URL `keyturn.db.migrate` passes."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from keyturn.db import Base, make_engine
from keyturn.models import load_all_models

load_all_models()
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


def run() -> None:
    url = context.config.attributes.get("database_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database URL given to the migration environment")
    asyncio.run(_run_async(url))


run()
