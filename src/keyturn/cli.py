"""The `keyturn` command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from keyturn.config import ConfigError, Settings, load_settings
from keyturn.db import migrate as migrate_markets

cli = typer.Typer(help="keyturn: sign-in, sessions and customer data.", no_args_is_help=True)

MarketOpt = Annotated[
    str | None, typer.Option("--market", help="One market code; default: every market")
]


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None


def _markets(settings: Settings, market: str | None) -> list[str]:
    if market is None:
        return settings.market_codes
    if market not in settings.market_codes:
        typer.secho(
            f"unknown market {market!r}; known: {settings.market_codes}", fg="red", err=True
        )
        raise typer.Exit(2)
    return [market]


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
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from keyturn import bootstrap

    bootstrap.prepare(settings)
    typer.echo(f"keyturn serving on http://{host}:{port} (docs: /docs, app: /app)", err=True)
    uvicorn.run(
        "keyturn.cli:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


@cli.command()
def migrate(market: MarketOpt = None) -> None:
    """Apply the migration history to every market database (or one)."""
    settings = _settings()
    for code in migrate_markets(settings, _markets(settings, market)):
        typer.echo(f"migrated {code}")


def main() -> None:
    cli()
