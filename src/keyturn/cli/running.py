"""Running keyturn: `serve`, `migrate`, `purge-guests`, `worker`."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from keyturn.cli.common import MarketOpt, cli, markets_or_exit, settings_or_exit
from keyturn.config import load_settings
from keyturn.db import migrate as migrate_markets


def app_factory() -> FastAPI:
    """What uvicorn imports in each worker process (settings come from the environment)."""
    from keyturn.app import create_app

    return create_app(load_settings())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where SQLite files, keys and uploads live")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Run the service. On the embedded default (SQLite) it migrates and seeds by itself."""
    if data_dir is not None:
        os.environ["KEYTURN_DATA_DIR"] = str(data_dir.resolve())
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from keyturn import bootstrap

    bootstrap.prepare(settings)
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers count in files here and /metrics adds them up (docs/metrics.md); cleared
        # so a restart starts from zero like a single process does.
        counted = settings.data_dir / "metrics"
        shutil.rmtree(counted, ignore_errors=True)
        counted.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(counted)
    typer.echo(f"keyturn serving on http://{host}:{port} (docs: /docs, app: /app)", err=True)
    uvicorn.run(
        "keyturn.cli:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # A worker gets a minute to start: the default 5 s restarts slow starters (a loaded
        # machine) forever, and the service never answers.
        timeout_worker_healthcheck=60,
        access_log=False,
        proxy_headers=False,
    )


@cli.command()
def migrate(market: MarketOpt = None) -> None:
    """Apply the migration history to every market database (or one)."""
    settings = settings_or_exit()
    for code in migrate_markets(settings, markets_or_exit(settings, market)):
        typer.echo(f"migrated {code}")


def _duration(text: str) -> timedelta:
    """`30d`, `12h`, `45m` or `90s`."""
    match = re.fullmatch(r"(\d{1,6})([dhms])", text.strip())
    if match is None:
        raise typer.BadParameter("a number and a unit: 30d, 12h, 45m or 90s")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[match[2]]
    return timedelta(**{unit: int(match[1])})


@cli.command("purge-guests")
def purge_guests(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Guests not seen for this long: 30d, 12h, 45m or 90s "
            "(default: KEYTURN_GUESTS__IDLE_TTL)",
        ),
    ] = "",
) -> None:
    """Delete idle guests (with their carts and wishlists) in every market, and stored files
    that no account refers to any more. `serve` runs the same sweep every hour."""
    import asyncio

    from keyturn import housekeeping
    from keyturn.db import Databases
    from keyturn.files.storage import make_storage

    settings = settings_or_exit()
    idle = _duration(older_than) if older_than else None

    async def run() -> housekeeping.Swept:
        databases = Databases(settings)
        try:
            return await housekeeping.sweep(settings, databases, make_storage(settings), idle=idle)
        finally:
            await databases.dispose()

    swept = asyncio.run(run())
    for code, count in swept.guests.items():
        typer.echo(f"{code}: {count} idle guests removed")
    typer.echo(f"{swept.orphans} orphaned stored files removed")


@cli.command()
def worker() -> None:
    """Send webhooks and security notices until stopped (SIGTERM or Ctrl-C). Run any number,
    next to `serve` instances or instead of their own loop (KEYTURN_WORKER__IN_SERVE=false)."""
    import asyncio
    import signal

    from keyturn.db import Databases
    from keyturn.worker import Worker

    settings = settings_or_exit()

    async def run() -> None:
        databases = Databases(settings)
        task = asyncio.create_task(Worker(settings, databases).run_forever())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await databases.dispose()

    typer.echo("keyturn worker running (webhooks, security notices)", err=True)
    asyncio.run(run())
