"""Rows of a CSV (with a header), JSON array or JSON Lines export, each with the line it
starts on, so an importer can name the line of every problem (import-users, import-seed);
and the values in them, read the same whether they came from CSV text, JSON or a database.
The `as_*` readers raise ValueError saying what is wrong."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

Record = tuple[int, Any]  # (line, the row: a dict for well-formed input)


def read_records(path: Path) -> list[Record]:
    """Every row of the file; raises ValueError (or OSError) naming what is unreadable."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return list(_csv_records(text))
    return list(_json_records(text))


def _csv_records(text: str) -> Iterator[Record]:
    reader = csv.DictReader(text.splitlines())
    for record in reader:
        yield reader.line_num, record


def _json_records(text: str) -> Iterator[Record]:
    """Objects of a JSON array (or JSON Lines) with the line each one starts on."""
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return pos

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = skip(0)
    array = text.startswith("[", pos)
    pos = pos + 1 if array else pos
    while (pos := skip(pos)) < len(text):
        if array and text[pos] == "]":
            return
        try:
            record, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {exc.lineno}: not valid JSON ({exc.msg})") from None
        yield line_of(pos), record
        pos = skip(end)
        if array and pos < len(text) and text[pos] == ",":
            pos += 1
    if array:
        raise ValueError("the JSON array is not closed")


def pick(row: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    """The first of `names` the row has a value for (blank strings count as none)."""
    for name in names:
        value = row.get(name)
        if value is not None and value != "":
            return value.strip() if isinstance(value, str) else value
    return None


def as_int(value: Any, what: str, *, minimum: int = 0) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
        number = int(value)
    else:
        raise ValueError(f"`{what}` must be a whole number, not {value!r}")
    if number < minimum or number > 2**63 - 1:
        raise ValueError(f"`{what}` must be at least {minimum}, not {number}")
    return number


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def as_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"`{what}` must be true or false, not {value!r}")


def as_datetime(value: Any, what: str) -> datetime:
    """A timestamp; one without a zone is UTC (how the seed systems stored them)."""
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"`{what}` is not an ISO 8601 time: {value!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_money(value: Any, what: str) -> Decimal:
    """An exact amount with at most two decimals, never negative (floats go through str)."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"`{what}` is not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"`{what}` must be a non-negative amount in cents, not {value!r}")
    if amount >= Decimal("1e10"):
        raise ValueError(f"`{what}` is too large: {value!r}")
    return amount.quantize(Decimal("0.01"))
