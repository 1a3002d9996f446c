"""Commands that bring data in: a catalog, users, the seed systems, an admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from keyturn.cli.common import cli, markets_or_exit, settings_or_exit
from keyturn.config import Settings

T = TypeVar("T")


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

    settings = settings_or_exit()
    (code,) = markets_or_exit(settings, market)
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

    settings = settings_or_exit()
    (code,) = markets_or_exit(settings, market)
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

    settings = settings_or_exit()
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
    settings = settings_or_exit()
    (code,) = markets_or_exit(settings, market or settings.default_market)
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
