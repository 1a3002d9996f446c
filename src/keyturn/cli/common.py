"""What every command shares: the `keyturn` Typer app, settings that fail in words, the
`--market` option."""

from __future__ import annotations

from typing import Annotated

import typer

from keyturn.config import ConfigError, Settings, load_settings

cli = typer.Typer(help="keyturn: sign-in, sessions and customer data.", no_args_is_help=True)

MarketOpt = Annotated[
    str | None, typer.Option("--market", help="One market code; default: every market")
]


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None


def markets_or_exit(settings: Settings, market: str | None) -> list[str]:
    if market is None:
        return settings.market_codes
    if market not in settings.market_codes:
        typer.secho(
            f"unknown market {market!r}; known: {settings.market_codes}", fg="red", err=True
        )
        raise typer.Exit(2)
    return [market]
