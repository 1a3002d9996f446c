"""The `keyturn` command: one module per group of commands, all on `common.cli`."""

from __future__ import annotations

# Importing a module registers its commands, in this order in `keyturn --help`.
from keyturn.cli.running import app_factory

# isort: split
import keyturn.cli.data
import keyturn.cli.keys  # noqa: F401
from keyturn.cli.common import cli

__all__ = ["app_factory", "cli", "main"]


def main() -> None:
    cli()
