"""`keyturn import-seed` (declared in keyturn.cli): its plan, progress bar and summary."""

from __future__ import annotations

import asyncio
import re

import typer
from rich.console import Console
from rich.progress import Progress, TaskID
from sqlalchemy.exc import SQLAlchemyError

from keyturn.config import Settings
from keyturn.seedimport import service
from keyturn.seedimport.sources import SourceError

_MARKET_PREFIX = re.compile(r"^([a-z]{2,8})=(.+)$")


def plan(
    settings: Settings, market: str | None, shops: list[str], jobpsych: list[str]
) -> dict[str, dict[str, str]]:
    """market -> {"shop": source, "jobpsych": source}, from `[MARKET=]SOURCE` arguments."""
    plan: dict[str, dict[str, str]] = {}
    for kind, sources in (("shop", shops), ("jobpsych", jobpsych)):
        for source in sources:
            named = _MARKET_PREFIX.match(source)
            code, where = named.groups() if named else (market, source)
            if named and code not in settings.market_codes:
                code, where = market, source  # a URL that merely contains '='
            if code is None or code not in settings.market_codes:
                raise typer.BadParameter(
                    f"{source}: give its market as MARKET=SOURCE or with --market "
                    f"(markets: {', '.join(settings.market_codes)})"
                )
            if kind in plan.setdefault(code, {}):
                raise typer.BadParameter(f"two {kind} sources for market {code}")
            plan[code][kind] = where
    if not plan:
        raise typer.BadParameter("give --from (the shop) and/or --jobpsych (its users)")
    return plan


def _report(summary: service.Summary) -> None:
    verb = "would import (dry run, nothing written)" if summary.dry_run else "imported"
    typer.echo(f"{summary.market}: {verb}")
    typer.echo(f"  {'table':<16}{'created':>9}{'updated':>9}{'unchanged':>11}")
    for table, counts in summary.counts.items():
        if counts.created or counts.updated or counts.unchanged:
            typer.echo(f"  {table:<16}{counts.created:>9}{counts.updated:>9}{counts.unchanged:>11}")
    if summary.absent:
        typer.echo(f"  not in the source: {', '.join(summary.absent)}")


def run(settings: Settings, plan: dict[str, dict[str, str]], *, dry_run: bool) -> bool:
    """Import each market of the plan with a progress bar and a summary; False if any was
    refused (its problems printed, nothing of it written)."""
    ok = True
    for code, sources in plan.items():
        try:
            with Progress(console=Console(stderr=True)) as bar:
                task = bar.add_task(f"import -> {code}", total=None)

                def start(total: int, bar: Progress = bar, task: TaskID = task) -> None:
                    bar.update(task, total=total)

                def advance(bar: Progress = bar, task: TaskID = task) -> None:
                    bar.advance(task)

                summary = asyncio.run(
                    service.import_market(
                        settings,
                        code,
                        shop=sources.get("shop"),
                        jobpsych=sources.get("jobpsych"),
                        dry_run=dry_run,
                        progress=service.Progress(start=start, advance=advance),
                    )
                )
        except service.ImportRefused as refused:
            for problem in refused.problems:
                typer.secho(f"{code}: {problem}", fg="red", err=True)
            typer.secho(f"{code}: nothing was imported", fg="red", err=True)
            ok = False
            continue
        except (SourceError, SQLAlchemyError) as exc:
            reason = exc if isinstance(exc, SourceError) else type(exc).__name__
            typer.secho(f"{code}: {reason}; nothing was imported", fg="red", err=True)
            ok = False
            continue
        _report(summary)
    return ok
