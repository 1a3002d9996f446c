"""Reading one seed row: how a problem names it, and the checks every table shares. A reader
raises ValueError (or pydantic's ValidationError) and `each` turns that into a problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from keyturn.seedimport.sources import LINE, Rows
from keyturn.tabular import as_bool, as_int, pick

T = TypeVar("T")


def key_of(table: str, row: dict[str, Any]) -> str:
    """How a problem names the row: its id, else the line of the export it is on."""
    if row.get("id") not in (None, ""):
        return f"{table} {row['id']}"
    return f"{table} line {row.get(LINE, '?')}"


def each(
    table: str,
    rows: Rows,
    read: Callable[[str, dict[str, Any]], T],
    problems: list[str],
    ident: Callable[[T], int | None],
) -> list[T]:
    """Each row read, or a problem naming it; an id seen twice is a problem too."""
    done: list[T] = []
    seen: set[int] = set()
    for row in rows:
        key = key_of(table, row)
        try:
            item = read(key, row)
        except (ValueError, ValidationError) as exc:
            problems.append(f"{key}: {reason(exc)}")
            continue
        found = ident(item)
        if found is not None and found in seen:
            problems.append(f"{key}: the id appears twice")
            continue
        if found is not None:
            seen.add(found)
        done.append(item)
    return done


def reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"] for e in exc.errors())
    return str(exc)


def row_id(row: dict[str, Any], name: str = "id") -> int:
    value = row.get(name)
    if value in (None, ""):
        raise ValueError(f"`{name}` is missing")
    return as_int(value, name, minimum=1)


def text(row: dict[str, Any], names: tuple[str, ...], limit: int) -> str | None:
    value = pick(row, names)
    if value is None:
        return None
    if len(str(value)) > limit:
        raise ValueError(f"`{names[0]}` is longer than {limit} characters")
    return str(value)


def flag(row: dict[str, Any], name: str) -> bool:
    value = pick(row, (name,))
    return True if value is None else as_bool(value, name)
