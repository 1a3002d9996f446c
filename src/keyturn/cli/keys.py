"""`keyturn keys`: the access-token signing keyring."""

from __future__ import annotations

from typing import Annotated

import typer

from keyturn.cli.common import cli, settings_or_exit

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

    settings = settings_or_exit()
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
        rows = Keyring(settings_or_exit()).describe()
    except KeyringError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    for row in rows:
        marker = "*" if row["signing"] else " "
        typer.echo(
            f"{marker} {row['kid']}  {row['alg']}  {row['fingerprint']}  "
            f"activates={row.get('activates_at')}  retires={row.get('retires_at')}"
        )
