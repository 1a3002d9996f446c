"""`keyturn import-catalog`: upsert by SKU code, all or nothing, errors name the line."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from typer.testing import CliRunner

from keyturn.catalog.importer import load_demo_catalog
from keyturn.cli import cli
from keyturn.config import Settings

GOOD_CSV = """name,description,code,price,stock,attr_size,attributes
Cotton Tee,Soft tee,TEE-S,19.99,5,S,
Cotton Tee,,TEE-M,19.99,0,M,
Mug,Stoneware,MUG-1,7.50,12,,"{""color"": ""white""}"
"""


async def run_import(settings: Settings, path: Path, market: str = "us") -> Any:
    env = {"KEYTURN_DATA_DIR": str(settings.data_dir), "KEYTURN_DATABASE_URL": ""}
    if settings.database_url:
        env["KEYTURN_DATABASE_URL"] = settings.database_url
    args = ["import-catalog", str(path), "--market", market]
    return await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)


async def catalog(client: httpx.AsyncClient, market: str = "us") -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/products", params={"limit": 100}, headers={"X-Market": market}
    )
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_csv_with_one_bad_row_imports_nothing_and_names_the_line(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_CSV + "Spoon,,SPOON-1,abc,3,,\nFork,,FORK-1,1.00,2,,\n")
    result = await run_import(settings, bad)
    assert result.exit_code == 1
    assert "bad.csv: line 5: skus.0.price" in result.output
    assert "nothing was imported" in result.output
    assert await catalog(client) == []


async def test_a_good_file_imported_twice_gives_the_same_catalog(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV)
    first = await run_import(settings, good)
    assert first.exit_code == 0, first.output
    assert "products 2 created, 0 updated; SKUs 3 created, 0 updated" in first.output
    once = await catalog(client)
    assert [
        (p["name"], [(s["code"], s["price"], s["in_stock"], s["attributes"]) for s in p["skus"]])
        for p in once
    ] == [
        (
            "Cotton Tee",
            [("TEE-S", "19.99", True, {"size": "S"}), ("TEE-M", "19.99", False, {"size": "M"})],
        ),
        ("Mug", [("MUG-1", "7.50", True, {"color": "white"})]),
    ]

    second = await run_import(settings, good)
    assert second.exit_code == 0, second.output
    assert "products 0 created, 2 updated; SKUs 0 created, 3 updated" in second.output
    assert await catalog(client) == once


async def test_json_import_updates_products_found_by_their_sku_codes(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    document = {
        "products": [
            {
                "name": "Honey",
                "skus": [{"code": "HONEY-1", "price": {"KGS": "1500", "USD": "18.00"}, "stock": 4}],
            }
        ]
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document, indent=2))
    assert (await run_import(settings, path, market="kg")).exit_code == 0
    before = await catalog(client, "kg")
    assert [(p["name"], p["skus"][0]["price"], p["skus"][0]["currency"]) for p in before] == [
        ("Honey", "1500.00", "KGS")
    ]

    document["products"][0]["name"] = "Mountain honey"
    document["products"][0]["skus"][0]["price"] = {"KGS": "1450.50"}
    path.write_text(json.dumps(document, indent=2))
    assert (await run_import(settings, path, market="kg")).exit_code == 0
    after = await catalog(client, "kg")
    assert [(p["id"], p["name"], p["skus"][0]["id"], p["skus"][0]["price"]) for p in after] == [
        (before[0]["id"], "Mountain honey", before[0]["skus"][0]["id"], "1450.50")
    ]
    # The file has no USD price, so importing it into the US market fails, naming the line.
    refused = await run_import(settings, path, market="us")
    assert refused.exit_code == 1 and "line 6: SKU HONEY-1: no price in USD" in refused.output


async def test_json_errors_name_the_line_of_the_bad_sku(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        '{"products": [\n'
        '  {"name": "A", "skus": [\n'
        '    {"code": "A-1", "price": "1.00"},\n'
        '    {"code": "A-2", "price": "1.00", "stock": -3}\n'
        "  ]}\n"
        "]}\n"
    )
    result = await run_import(settings, path)
    assert result.exit_code == 1
    assert "line 4: skus.1.stock" in result.output
    assert await catalog(client) == []


async def test_the_demo_catalog_fills_empty_markets_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    loaded = await asyncio.to_thread(load_demo_catalog, settings, ["kg", "us"])
    assert loaded == ["kg", "us"]
    kg, us = await catalog(client, "kg"), await catalog(client, "us")
    assert 30 <= len(kg) == len(us)
    assert {s["currency"] for p in kg for s in p["skus"]} == {"KGS"}
    assert {s["currency"] for p in us for s in p["skus"]} == {"USD"}
    assert await asyncio.to_thread(load_demo_catalog, settings, ["kg", "us"]) == []
