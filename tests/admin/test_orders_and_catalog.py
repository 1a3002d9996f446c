"""Staff list orders with filters and import a catalog over HTTP."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from keyturn.catalog.models import Product, Sku
from keyturn.orders.models import Order
from tests.factories import add_to_cart, auth, create_product, make_admin, sign_in
from tests.orders.test_checkout import checkout
from tests.problems import assert_problem

IMPORT = "/api/v1/admin/catalog/import"
CSV = b"name,code,price,stock,attr_size\nTee,HTTP-TEE-S,19.99,5,S\nTee,HTTP-TEE-M,21.00,7,M\n"


async def test_staff_filter_orders_by_status_time_customer_and_number(
    app, client: httpx.AsyncClient
) -> None:
    admin = await make_admin(app, client)
    headers = auth(admin["access_token"])
    sku = (await create_product(client, admin["access_token"], stock=50))["skus"][0]["id"]
    ada, bob = await sign_in(client), await sign_in(client)
    placed = []
    for buyer in (ada, ada, bob):
        await add_to_cart(client, buyer["access_token"], sku, 1)
        placed.append((await checkout(client, buyer["access_token"])).json())
    await client.post(
        f"/api/v1/admin/orders/{placed[0]['id']}/status",
        json={"status": "processing"},
        headers=headers,
    )
    last_year = datetime.now(UTC) - timedelta(days=365)
    async with app.state.databases.session("us") as db:
        await db.execute(
            update(Order).where(Order.id == placed[2]["id"]).values(created_at=last_year)
        )
        await db.commit()

    async def ids(**params: str) -> list[int]:
        r = await client.get("/api/v1/admin/orders", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [o["id"] for o in r.json()["items"]]

    assert await ids() == [o["id"] for o in reversed(placed)]
    assert await ids(status="processing") == [placed[0]["id"]]
    assert await ids(user_id=str(bob["user"]["id"])) == [placed[2]["id"]]
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await ids(since=recent) == [placed[1]["id"], placed[0]["id"]]
    assert await ids(until=recent) == [placed[2]["id"]]
    assert await ids(number=placed[1]["order_number"].lower()) == [placed[1]["id"]]
    listed = (await client.get("/api/v1/admin/orders", headers=headers)).json()["items"]
    assert {o["user_id"] for o in listed} == {ada["user"]["id"], bob["user"]["id"]}

    detail = (await client.get(f"/api/v1/admin/orders/{placed[0]['id']}", headers=headers)).json()
    assert detail["next_statuses"] == ["shipped", "cancelled"]
    mine = await client.get(
        f"/api/v1/profile/orders/{placed[1]['id']}", headers=auth(ada["access_token"])
    )
    assert mine.json()["next_statuses"] == ["processing", "cancelled"]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "soon"},
        {"until": "2020-13-01"},
        {"user_id": "0"},
        {"number": "US_1%"},
        {"status": "lost"},
    ],
)
async def test_bad_order_filters_are_422(app, client: httpx.AsyncClient, params) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    refused = await client.get("/api/v1/admin/orders", params=params, headers=admin)
    assert_problem(refused, 422, "request.invalid")


async def test_customers_cannot_list_all_orders_and_markets_stay_apart(
    app, client: httpx.AsyncClient
) -> None:
    us_admin = await make_admin(app, client, "us")
    sku = (await create_product(client, us_admin["access_token"]))["skus"][0]["id"]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], sku, 1)
    await checkout(client, buyer["access_token"])
    refused = await client.get("/api/v1/admin/orders", headers=auth(buyer["access_token"]))
    assert_problem(refused, 403, "auth.forbidden")
    kg_admin = await make_admin(app, client, "kg")
    kg_orders = await client.get("/api/v1/admin/orders", headers=auth(kg_admin["access_token"]))
    assert kg_orders.status_code == 200 and kg_orders.json()["items"] == []
    crossed = await client.get("/api/v1/admin/orders", headers=auth(kg_admin["access_token"], "us"))
    assert_problem(crossed, 403, "auth.forbidden")


async def catalog_size(app, market: str = "us") -> tuple[int, int]:
    async with app.state.databases.session(market) as db:
        products = await db.scalar(select(func.count()).select_from(Product))
        skus = await db.scalar(select(func.count()).select_from(Sku))
    return int(products or 0), int(skus or 0)


async def test_staff_import_a_csv_or_json_catalog_and_rerunning_it_updates(
    app, client: httpx.AsyncClient
) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    checked = await client.post(
        IMPORT,
        params={"dry_run": "true"},
        content=CSV,
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] is True and checked.json()["skus_created"] == 2
    assert await catalog_size(app) == (0, 0)

    done = await client.post(IMPORT, content=CSV, headers={**admin, "Content-Type": "text/csv"})
    assert done.json() == {
        "success": True,
        "dry_run": False,
        "products": 1,
        "products_created": 1,
        "products_updated": 0,
        "skus_created": 2,
        "skus_updated": 0,
    }
    document = {
        "products": [{"name": "Tee", "skus": [{"code": "HTTP-TEE-S", "price": "17.5", "stock": 9}]}]
    }
    again = await client.post(IMPORT, json=document, headers=admin)
    assert again.status_code == 200
    assert again.json()["skus_updated"] == 1 and again.json()["skus_created"] == 0
    assert await catalog_size(app) == (1, 2)
    shop = (await client.get("/api/v1/products", headers={"X-Market": "us"})).json()["items"]
    prices = {s["code"]: s["price"] for s in shop[0]["skus"]}
    assert prices == {"HTTP-TEE-S": "17.50", "HTTP-TEE-M": "21.00"}
    log = (
        await client.get("/api/v1/admin/audit-events", params={"event": "catalog"}, headers=admin)
    ).json()
    assert len(log["items"]) == 2  # the dry run is not an import


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (
            b"name,code,price\nTee,OK-1,1.00\nMug,BAD CODE,x\n",
            "text/csv",
            422,
            "catalog.import_invalid",
        ),
        (b'{"products": [{"name": "Tee"', "application/json", 422, "catalog.import_invalid"),
        (b"\xff\xfe not utf-8", "text/csv", 422, "catalog.import_invalid"),
        (b"   ", "text/csv", 422, "catalog.import_invalid"),
        (CSV, "application/xml", 415, "catalog.import_unsupported_type"),
        (CSV, "", 415, "catalog.import_unsupported_type"),
        (
            b"name,code,price\n" + b"Tee,T-1,1.00," + b"x" * (5 * 1024 * 1024),
            "text/csv",
            413,
            "catalog.import_too_large",
        ),
    ],
)
async def test_a_bad_catalog_file_is_refused_and_imports_nothing(
    app, client: httpx.AsyncClient, body: bytes, content_type: str, status: int, code: str
) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    refused = await client.post(
        IMPORT, content=body, headers={**admin, "Content-Type": content_type}
    )
    problem = assert_problem(refused, status, code)
    if code == "catalog.import_invalid":
        assert problem["errors"] and all(e.startswith("line ") for e in problem["errors"])
    assert await catalog_size(app) == (0, 0)


async def test_customers_cannot_import_and_markets_stay_apart(
    app, client: httpx.AsyncClient
) -> None:
    customer = auth((await sign_in(client))["access_token"])
    refused = await client.post(
        IMPORT, content=CSV, headers={**customer, "Content-Type": "text/csv"}
    )
    assert_problem(refused, 403, "auth.forbidden")
    kg_admin = auth((await make_admin(app, client, "kg"))["access_token"])
    done = await client.post(IMPORT, content=CSV, headers={**kg_admin, "Content-Type": "text/csv"})
    assert done.status_code == 200
    assert await catalog_size(app, "us") == (0, 0) and await catalog_size(app, "kg") == (1, 2)
    kg = (await client.get("/api/v1/products", headers={"X-Market": "kg"})).json()["items"]
    assert {s["currency"] for s in kg[0]["skus"]} == {"KGS"}


async def test_a_catalog_larger_than_the_json_body_cap_imports(
    app, client: httpx.AsyncClient
) -> None:
    """The import route bounds its own body (5 MiB), past the 64 KiB cap of other bodies."""
    admin = auth((await make_admin(app, client))["access_token"])
    rows = "".join(f"Bulk item {n},BULK-{n:05d},{n % 90 + 1}.50,{n % 7}\n" for n in range(3000))
    body = ("name,code,price,stock\n" + rows).encode()
    assert len(body) > 64 * 1024
    done = await client.post(IMPORT, content=body, headers={**admin, "Content-Type": "text/csv"})
    assert done.status_code == 200, done.text
    assert await catalog_size(app) == (3000, 3000)
