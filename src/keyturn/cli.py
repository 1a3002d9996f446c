"""The `keyturn` command."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from fastapi import FastAPI

from keyturn.config import ConfigError, Settings, load_settings
from keyturn.db import migrate as migrate_markets

T = TypeVar("T")

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
    settings = _settings()
    for code in migrate_markets(settings, _markets(settings, market)):
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

    settings = _settings()
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

    settings = _settings()

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


keys_cli = typer.Typer(help="Access-token signing keys (Ed25519 keyring).", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("rotate")
def keys_rotate(
    overlap: Annotated[
        int,
        typer.Option(
            min=0,
            help="Seconds the new key is published before it signs; give every instance and "
            "JWKS cache time to learn it",
        ),
    ] = 60,
) -> None:
    """Add a new signing key; the current one verifies until its tokens have expired."""
    from datetime import timedelta

    from keyturn.sessions.keys import rotate

    settings = _settings()
    if settings.tokens.algorithm != "EdDSA":
        typer.secho("keys rotate applies to EdDSA keyrings only", fg="red", err=True)
        raise typer.Exit(2)
    key = rotate(settings, overlap=timedelta(seconds=overlap))
    typer.echo(f"new key {key.kid} signs from {key.activates_at.isoformat()}")


@keys_cli.command("list")
def keys_list() -> None:
    """Key ids, fingerprints and their signing window (never key material)."""
    from keyturn.sessions.keys import Keyring, KeyringError

    try:
        rows = Keyring(_settings()).describe()
    except KeyringError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    for row in rows:
        marker = "*" if row["signing"] else " "
        typer.echo(
            f"{marker} {row['kid']}  {row['alg']}  {row['fingerprint']}  "
            f"activates={row.get('activates_at')}  retires={row.get('retires_at')}"
        )


@cli.command("import-catalog")
def import_catalog(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .json or .csv catalog file")
    ],
    market: Annotated[str, typer.Option("--market", help="The market (and currency) to fill")],
) -> None:
    """Upsert products and SKUs by SKU code from JSON or CSV: the whole file or nothing."""
    import asyncio

    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy.exc import SQLAlchemyError

    from keyturn.catalog import catalog_file, importer

    settings = _settings()
    (code,) = _markets(settings, market)
    try:
        records = catalog_file.read_catalog(file, currency=settings.market(code).currency)
    except catalog_file.ImportFailed as exc:
        for error in exc.errors:
            typer.secho(f"{file.name}: {error}", fg="red", err=True)
        typer.secho("nothing was imported", fg="red", err=True)
        raise typer.Exit(1) from None
    try:
        with Progress(console=Console(stderr=True)) as progress:
            task = progress.add_task(f"{file.name} -> {code}", total=len(records))
            result = asyncio.run(
                importer.import_records(
                    settings, code, records, on_product=lambda: progress.advance(task)
                )
            )
    except SQLAlchemyError as exc:
        typer.secho(
            f"import failed, nothing was imported: {type(exc).__name__}", fg="red", err=True
        )
        typer.secho("(has `keyturn migrate` been run?)", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{code}: products {result.products_created} created, {result.products_updated} "
        f"updated; SKUs {result.skus_created} created, {result.skus_updated} updated"
    )


async def _in_market(settings: Settings, market: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(db)` on one market's database, then close the engines."""
    from keyturn.db import Databases

    databases = Databases(settings)
    try:
        async with databases.session(market) as db:
            return await work(db)
    finally:
        await databases.dispose()


@cli.command("import-users")
def import_users(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="A .csv, .json or .jsonl user export"),
    ],
    market: Annotated[str, typer.Option("--market", help="The market the users belong to")],
) -> None:
    """Import users (email and/or phone, name, company, bcrypt hash, files uploaded): all rows
    or none; re-running is harmless (matched by email or phone, only empty fields filled)."""
    import asyncio

    from rich.console import Console
    from rich.progress import Progress
    from sqlalchemy.exc import SQLAlchemyError

    from keyturn.users import importer

    settings = _settings()
    (code,) = _markets(settings, market)
    rows, errors = importer.read_rows(file, settings.market(code))
    try:
        if not errors:
            with Progress(console=Console(stderr=True)) as progress:
                task = progress.add_task(f"{file.name} -> {code}", total=len(rows))
                result = asyncio.run(
                    _in_market(
                        settings,
                        code,
                        lambda db: importer.import_users(
                            db,
                            settings=settings,
                            market=code,
                            rows=rows,
                            advance=lambda: progress.advance(task),
                        ),
                    )
                )
            errors = result.errors
    except SQLAlchemyError as exc:
        errors = [f"database error: {type(exc).__name__} (has `keyturn migrate` been run?)"]
    if errors:
        for error in errors:
            typer.secho(f"{file.name}: {error}", fg="red", err=True)
        typer.secho("nothing was imported", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{code}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@cli.command("import-seed")
def import_seed(
    shops: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            help="The shop backend (seeds 000-003): [MARKET=]postgresql://... or an export "
            "directory (<table>.json/.jsonl/.csv); once per market",
        ),
    ] = None,
    jobpsych: Annotated[
        list[str] | None,
        typer.Option(
            "--jobpsych",
            help="The JobPsych API's users (seed 004): [MARKET=] its postgresql:// database, "
            "an export directory, or a users .json/.csv file",
        ),
    ] = None,
    market: Annotated[
        str | None, typer.Option("--market", help="The market of sources given without MARKET=")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and show the counts; write nothing")
    ] = False,
) -> None:
    """Move a seed system in, ids kept: users, catalog, carts, wishlists, orders, upload
    counts. All or nothing per market; running it again changes nothing."""
    from keyturn.seedimport import cli as seed_cli

    settings = _settings()
    plan = seed_cli.plan(settings, market, shops or [], jobpsych or [])
    if not seed_cli.run(settings, plan, dry_run=dry_run):
        raise typer.Exit(1)


@cli.command("create-admin")
def create_admin(
    email: Annotated[str | None, typer.Option("--email", help="Sign-in email")] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Password for --email; asked for when omitted"),
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="Or: a phone that signs in by SMS code")
    ] = None,
    market: Annotated[
        str | None, typer.Option("--market", help="Default: the default market")
    ] = None,
) -> None:
    """Create an administrator, or promote an existing user (found by email or phone)."""
    import asyncio

    from keyturn.auth import admins
    from keyturn.errors import AppError

    if (email is None) == (phone is None):
        typer.secho("give exactly one of --email or --phone", fg="red", err=True)
        raise typer.Exit(2)
    if phone is not None and password is not None:
        typer.secho("--password goes with --email", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    (code,) = _markets(settings, market or settings.default_market)
    try:
        result = asyncio.run(
            _in_market(
                settings,
                code,
                lambda db: admins.create_admin(
                    db, settings=settings, market=code, email=email, password=password, phone=phone
                ),
            )
        )
    except admins.PasswordRequired:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        result = asyncio.run(
            _in_market(
                settings,
                code,
                lambda db: admins.create_admin(
                    db, settings=settings, market=code, email=email, password=password
                ),
            )
        )
    except AppError as exc:
        typer.secho(f"{exc.code}: {exc.detail}", fg="red", err=True)
        raise typer.Exit(1) from None
    verb = "created" if result.created else "promoted"
    typer.echo(f"{code}: admin user {result.user_id} {verb}")


def main() -> None:
    cli()
