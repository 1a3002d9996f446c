"""A catalog file, JSON or CSV, read into validated records. Every problem is reported with
the line it is on; a file with any problem gives no records at all.

JSON: `{"products": [...]}` or a bare list; each product is `{name, description?, image_url?,
is_active?, skus: [{code, price, stock?, attributes?, is_active?, currency?}]}`. A price is a
decimal (string or number) or a map by currency, e.g. `{"KGS": "2990", "USD": "34.99"}`.
CSV: one row per SKU with a header; `name` (or `product_name`), `code` (or `sku_code`) and
`price` are required; `description`, `image_url`, `stock`, `attributes` (a JSON object),
`is_active`, `currency` are optional, and `attr_<name>` columns become attributes. Rows with
the same name form one product.

"""

from __future__ import annotations

import bisect
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from json.decoder import JSONObject  # type: ignore[attr-defined]
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from keyturn.catalog.schemas import Attributes, Description, Name, Price, SkuCode

MAX_ERRORS = 50
CSV_COLUMNS = {
    "name",
    "product_name",
    "description",
    "image_url",
    "code",
    "sku_code",
    "price",
    "currency",
    "stock",
    "attributes",
    "is_active",
}


class ImportFailed(Exception):
    """The file has problems; `errors` lists them as "line N: what is wrong"."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors[:MAX_ERRORS]
        super().__init__("; ".join(self.errors))


class SkuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: SkuCode
    price: Price | dict[str, Price]
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    stock: int = Field(default=0, ge=0, le=1_000_000_000)
    attributes: Attributes = {}
    is_active: bool = True


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    image_url: HttpUrl | None = None
    is_active: bool = True
    skus: list[SkuIn] = Field(min_length=1, max_length=500)


@dataclass
class SkuRecord:
    code: str
    price: Decimal
    stock: int
    attributes: dict[str, Any]
    is_active: bool
    line: int


@dataclass
class ProductRecord:
    name: str
    description: str | None
    image_url: str | None
    is_active: bool
    line: int
    skus: list[SkuRecord] = field(default_factory=list)


class _LineNumberingDecoder(json.JSONDecoder):
    """Remembers the line each JSON object starts on (keyed by id(), the objects stay alive)."""

    def __init__(self, text: str) -> None:
        super().__init__(parse_float=Decimal)
        self.lines: dict[int, int] = {}
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]

        def numbered(s_and_end: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            obj, end = JSONObject(s_and_end, *args, **kwargs)
            self.lines[id(obj)] = bisect.bisect_left(newlines, s_and_end[1]) + 1
            return obj, end

        self.parse_object = numbered
        self.scan_once = py_make_scanner(self)


_PRICE_MAP = "dict[str,decimal]"  # pydantic's name for the by-currency branch of `price`


def _errors(exc: ValidationError, line_of: Callable[[tuple[Any, ...]], int]) -> list[str]:
    problems = []
    for err in exc.errors():
        if err["type"] == "dict_type" and _PRICE_MAP in err["loc"]:
            continue  # a plain price that is not a number: the decimal error says it
        loc = tuple(p for p in err["loc"] if p not in ("decimal", _PRICE_MAP))
        where = ".".join(str(p) for p in loc)
        problems.append(f"line {line_of(loc)}: {where}: {err['msg']}")
    return problems


def _price(sku: SkuIn, currency: str) -> Decimal:
    if sku.currency is not None and sku.currency != currency:
        raise ValueError(f"currency {sku.currency} is not this market's ({currency})")
    if isinstance(sku.price, dict):
        if currency not in sku.price:
            raise ValueError(f"no price in {currency}")
        return sku.price[currency]
    return sku.price


def _record(product: ProductIn, line: int, sku_lines: list[int], currency: str) -> ProductRecord:
    record = ProductRecord(
        name=product.name,
        description=product.description,
        image_url=str(product.image_url) if product.image_url else None,
        is_active=product.is_active,
        line=line,
    )
    errors = []
    for sku, sku_line in zip(product.skus, sku_lines, strict=True):
        try:
            price = _price(sku, currency)
        except ValueError as exc:
            errors.append(f"line {sku_line}: SKU {sku.code}: {exc}")
            continue
        record.skus.append(
            SkuRecord(sku.code, price, sku.stock, sku.attributes, sku.is_active, sku_line)
        )
    if errors:
        raise ImportFailed(errors)
    return record


def parse_json(text: str, *, currency: str) -> list[ProductRecord]:
    decoder = _LineNumberingDecoder(text)
    try:
        document = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([f"line {exc.lineno}: not valid JSON: {exc.msg}"]) from None
    items = document.get("products") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ImportFailed(['line 1: expected a list of products or {"products": [...]}'])
    records, errors = [], []
    for raw in items:
        line = decoder.lines.get(id(raw), 1)
        raw_skus = raw.get("skus") if isinstance(raw, dict) else None
        sku_lines = [decoder.lines.get(id(s), line) for s in raw_skus or []] or [line]

        def line_of(
            loc: tuple[Any, ...], sku_lines: list[int] = sku_lines, line: int = line
        ) -> int:
            if len(loc) > 1 and loc[0] == "skus" and isinstance(loc[1], int):
                return sku_lines[min(loc[1], len(sku_lines) - 1)]
            return line

        try:
            product = ProductIn.model_validate(raw)
            records.append(_record(product, line, sku_lines, currency))
        except ValidationError as exc:
            errors.extend(_errors(exc, line_of))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ImportFailed(errors)
    return records


def _csv_sku(row: dict[str, str]) -> dict[str, Any]:
    sku: dict[str, Any] = {
        "code": row.get("code") or row.get("sku_code"),
        "price": row.get("price"),
    }
    for name in ("stock", "currency", "is_active"):
        if row.get(name):
            sku[name] = row[name]
    attributes = json.loads(row["attributes"]) if row.get("attributes") else {}
    for column, value in row.items():
        if column.startswith("attr_") and value:
            attributes[column.removeprefix("attr_")] = value
    sku["attributes"] = attributes
    return sku


def _check_columns(columns: set[str]) -> None:
    unknown = sorted(c for c in columns if c not in CSV_COLUMNS and not c.startswith("attr_"))
    missing = [
        need
        for need, names in (("name", {"name", "product_name"}), ("code", {"code", "sku_code"}))
        if not columns & names
    ] + ([] if "price" in columns else ["price"])
    if unknown or missing:
        raise ImportFailed(
            [f"line 1: unknown columns {unknown}" if unknown else f"line 1: missing {missing}"]
        )


_CsvProducts = dict[str, tuple[dict[str, Any], list[int]]]  # name -> (product, its lines)


def _group_rows(reader: csv.DictReader[str], errors: list[str]) -> _CsvProducts:
    """Rows with the same name form one product; its description and image must agree."""
    groups: _CsvProducts = {}
    start = 2
    for row in reader:
        line, start = start, reader.line_num + 1
        if None in row:
            errors.append(f"line {line}: more fields than columns")
            continue
        name = (row.get("name") or row.get("product_name") or "").strip()
        try:
            sku = _csv_sku(row)
        except (json.JSONDecodeError, AttributeError):
            errors.append(f"line {line}: attributes: not a JSON object")
            continue
        product, lines = groups.setdefault(name, ({"name": name, "skus": []}, []))
        for key in ("description", "image_url"):
            if row.get(key) and product.setdefault(key, row[key]) != row[key]:
                errors.append(f"line {line}: {key} differs from line {lines[0]} for {name!r}")
        product["skus"].append(sku)
        lines.append(line)
    return groups


def parse_csv(text: str, *, currency: str) -> list[ProductRecord]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_columns(set(reader.fieldnames or []))
    errors: list[str] = []
    records = []
    for product, lines in _group_rows(reader, errors).values():

        def line_of(loc: tuple[Any, ...], lines: list[int] = lines) -> int:
            if len(loc) > 1 and loc[0] == "skus" and isinstance(loc[1], int):
                return lines[loc[1]]
            return lines[0]

        try:
            records.append(_record(ProductIn.model_validate(product), lines[0], lines, currency))
        except ValidationError as exc:
            errors.extend(_errors(exc, line_of))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: int(e.split(":")[0].split()[1])))
    return records


def read_catalog(path: Path, *, currency: str) -> list[ProductRecord]:
    """Parse and validate a whole file; raises ImportFailed naming every bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed([f"line 1: cannot read {path.name}: {exc}"]) from None
    return parse_catalog(text, currency=currency, is_json=path.suffix.lower() == ".json")


def parse_catalog(text: str, *, currency: str, is_json: bool = False) -> list[ProductRecord]:
    """Parse and validate a file's text (JSON when `is_json` or when it looks like JSON)."""
    is_json = is_json or text.lstrip().startswith(("{", "["))
    records = parse_json(text, currency=currency) if is_json else parse_csv(text, currency=currency)
    seen: dict[str, int] = {}
    duplicates = []
    for sku in (s for r in records for s in r.skus):
        if sku.code in seen:
            duplicates.append(
                f"line {sku.line}: SKU {sku.code} is already on line {seen[sku.code]}"
            )
        seen.setdefault(sku.code, sku.line)
    if duplicates:
        raise ImportFailed(duplicates)
    return records
