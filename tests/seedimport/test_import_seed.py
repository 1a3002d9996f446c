"""`keyturn import-seed` moves a running seed system in: the shop's PostgreSQL database
(seeds 000-003) and the JobPsych users (seed 004). The same people then sign in and find
the same cart, wishlist, orders and upload count; a second run changes nothing; a run
with one bad row changes nothing at all."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from keyturn.config import Settings
from tests.factories import auth, login, run_cli, sign_in
from tests.harness.postgres import PostgresCluster
from tests.seedimport.seed_db import JOHN_PASSWORD, build_shop, execute, jobpsych_users

TABLES = (
    "users",
    "products",
    "skus",
    "carts",
    "cart_items",
    "wishlists",
    "wishlist_items",
    "orders",
    "order_items",
    "order_events",
    "usage_counters",
    "sessions",
    "audit_events",
)


@pytest.fixture
async def seed(pg: PostgresCluster, tmp_path: Path) -> dict[str, str]:
    return {
        "shop": await build_shop(pg),
        "jobpsych": str(jobpsych_users(tmp_path / "jobpsych-users.json")),
    }


async def import_seed(settings: Settings, seed: dict[str, str], *extra: str) -> Any:
    return await run_cli(
        settings,
        "import-seed",
        "--market",
        "us",
        "--from",
        seed["shop"],
        "--jobpsych",
        seed["jobpsych"],
        *extra,
    )


async def snapshot(app: FastAPI) -> dict[str, list[Any]]:
    """Every row of every table the import touches (names are ours, not input)."""
    found: dict[str, list[Any]] = {}
    async with app.state.databases.session("us") as db:
        for table in TABLES:
            rows = await db.execute(text(f"SELECT * FROM {table} ORDER BY 1"))  # noqa: S608
            found[table] = [tuple(row) for row in rows]
    return found


async def test_imported_people_sign_in_to_the_same_cart_wishlist_orders_and_uploads(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, seed: dict[str, str]
) -> None:
    result = await import_seed(settings, seed)
    assert result.exit_code == 0, result.output
    assert "us: imported" in result.output
    assert "not in the source: products" in result.output

    phone = await sign_in(client, "+13128059851", market="us")
    assert phone["is_new_user"] is False
    assert phone["user"]["id"] == 19 and phone["user"]["is_verified"] is True
    assert phone["user"]["country"] == "US" and phone["user"]["language"] == "en"
    token = phone["access_token"]
    cart = (await client.get("/api/v1/cart", headers=auth(token))).json()
    assert cart["id"] == 5
    assert [(i["id"], i["sku_id"], i["quantity"]) for i in cart["items"]] == [
        (101, 42, 2),
        (102, 88, 1),
    ]
    assert cart["subtotal"] == "14499.97" and cart["currency"] == "USD"
    wishlist = (await client.get("/api/v1/wishlist", headers=auth(token))).json()
    assert wishlist["id"] == 8
    assert sorted((i["id"], i["product_id"]) for i in wishlist["items"]) == [
        (201, 15),
        (202, 27),
    ]
    orders = (await client.get("/api/v1/profile/orders", headers=auth(token))).json()["items"]
    assert {(o["id"], o["order_number"], o["status"]) for o in orders} == {
        (1001, "#1001", "delivered"),
        (1002, "#1002", "processing"),
    }
    first = (await client.get("/api/v1/profile/orders/1001", headers=auth(token))).json()
    assert first["total_amount"] == "5999.99"
    assert [(i["sku_id"], i["product_name"], i["quantity"]) for i in first["items"]] == [
        (42, "Laptop Pro 16", 1)
    ]
    assert [h["status"] for h in first["history"]] == ["pending", "delivered"]
    product = (await client.get("/api/v1/products/27", headers={"X-Market": "us"})).json()
    assert product["name"] == "Phone X" and product["skus"][0]["attributes"] == {
        "size": "128GB",
        "color": "black",
    }

    # Logged out in the seed is not disabled here: the account signs in.
    jane = await sign_in(client, "+13128059852", market="us")
    assert jane["user"]["id"] == 20 and jane["user"]["full_name"] == "Jane Roe"

    john = await login(client, "john@example.com", JOHN_PASSWORD)
    assert john.status_code == 200, john.text
    assert john.json()["user"]["id"] == 1 and john.json()["user"]["company"] == "Acme Corp"
    usage = await client.get("/api/v1/usage", headers=auth(john.json()["access_token"]))
    uploads = next(c for c in usage.json()["counters"] if c["name"] == "uploads")
    assert uploads["used"] == 3 and uploads["remaining"] == 7

    # Sequences moved past the kept ids: new rows never collide with imported ones.
    newcomer = await sign_in(client, market="us")
    assert newcomer["user"]["id"] > 20


async def test_a_second_run_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, seed: dict[str, str]
) -> None:
    assert (await import_seed(settings, seed)).exit_code == 0
    john = await login(client, "john@example.com", JOHN_PASSWORD)  # re-hashes to argon2id
    assert john.status_code == 200
    before = await snapshot(app)
    again = await import_seed(settings, seed)
    assert again.exit_code == 0, again.output
    for table in ("users", "skus", "cart_items", "orders", "order_items"):
        line = next(x for x in again.output.splitlines() if x.strip().startswith(table + " "))
        assert line.split()[1:3] == ["0", "0"], line  # nothing created, nothing updated
    assert await snapshot(app) == before
    assert (await login(client, "john@example.com", JOHN_PASSWORD)).status_code == 200


async def test_a_bad_row_names_its_table_and_key_and_imports_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, seed: dict[str, str]
) -> None:
    before = await snapshot(app)
    await execute(
        seed["shop"],
        "INSERT INTO users (id, phone_number) VALUES (30, '+13128059870');"
        "INSERT INTO orders (id, order_number, user_id, status, total_amount) "
        "VALUES (1003, '#1003', 30, 'lost in space', 10.00);"
        "INSERT INTO cart_items (id, cart_id, sku_id, quantity) VALUES (103, 5, 88, 0);",
    )
    result = await import_seed(settings, seed)
    assert result.exit_code == 1
    assert "orders 1003: unknown status 'lost in space'" in result.output, result.output
    assert "cart_items 103: `quantity` must be at least 1" in result.output
    assert "nothing was imported" in result.output
    assert await snapshot(app) == before


async def test_a_conflict_found_while_writing_also_imports_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, seed: dict[str, str]
) -> None:
    """Someone signed up on keyturn with id 19 before the move: not the seed's user 19."""
    for _ in range(19):
        await sign_in(client, market="us")
    before = await snapshot(app)
    result = await import_seed(settings, seed)
    assert result.exit_code == 1
    assert "users 19: keyturn's user 19 is someone else" in result.output, result.output
    assert await snapshot(app) == before


async def test_dry_run_counts_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, seed: dict[str, str]
) -> None:
    before = await snapshot(app)
    result = await import_seed(settings, seed, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written" in result.output
    users = next(x for x in result.output.splitlines() if x.strip().startswith("users "))
    assert users.split()[1] == "2"
    assert await snapshot(app) == before


async def test_an_export_directory_imports_like_the_database(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "users.csv").write_text(
        "id,phone_number,full_name,is_verified,country\n"
        "7,+996505325311,Анна Ахматова,t,Kyrgyzstan\n"
    )
    (export / "skus.json").write_text(
        '[{"id": 3, "product_id": 2, "price": "2990", "sku_code": "TEE"}]'
    )
    (export / "carts.csv").write_text("id,user_id\n1,7\n")
    (export / "cart_items.csv").write_text("id,cart_id,sku_id,quantity\n1,1,3,2\n4,1,3,1\n")
    result = await run_cli(settings, "import-seed", "--from", f"kg={export}")
    assert result.exit_code == 0, result.output
    signed = await sign_in(client, "+996505325311", market="kg")
    assert signed["user"]["id"] == 7 and signed["user"]["country"] == "KG"
    cart = (await client.get("/api/v1/cart", headers=auth(signed["access_token"]))).json()
    assert [(i["id"], i["quantity"]) for i in cart["items"]] == [(1, 3)]  # one line per SKU
    assert cart["currency"] == "KGS"


async def test_sources_it_cannot_read_are_refused_clearly(
    settings: Settings, tmp_path: Path
) -> None:
    missing = await run_cli(
        settings, "import-seed", "--market", "us", "--from", str(tmp_path / "nope")
    )
    assert missing.exit_code == 1 and "nothing was imported" in missing.output
    no_market = await run_cli(settings, "import-seed", "--from", str(tmp_path))
    assert no_market.exit_code == 2 and "--market" in no_market.output
    down = await run_cli(
        settings, "import-seed", "--market", "us", "--from", "postgresql://nobody@127.0.0.1:1/x"
    )
    assert down.exit_code == 1 and "cannot connect" in down.output
