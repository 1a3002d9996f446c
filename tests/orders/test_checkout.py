"""Checkout: one transaction that is always right, even under concurrency."""

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from keyturn.catalog.models import Sku
from keyturn.events.models import Event
from keyturn.orders.models import Order, OrderItem
from tests.factories import add_to_cart, auth, create_product, make_admin, sign_in
from tests.problems import assert_problem

ADDRESS = {
    "full_name": "Aida Bekova",
    "phone": "+13125550100",
    "line1": "1 Main St",
    "city": "Chicago",
    "postal_code": "60601",
    "country": "US",
}


async def checkout(
    client: httpx.AsyncClient, token: str, key: str | None = None, body: dict | None = None
) -> httpx.Response:
    headers = auth(token) | ({"Idempotency-Key": key} if key else {})
    return await client.post(
        "/api/v1/orders", json=body or {"shipping_address": ADDRESS}, headers=headers
    )


async def stock_of(app, sku_id: int) -> int:
    async with app.state.databases.session("us") as db:
        return int(await db.scalar(select(Sku.stock).where(Sku.id == sku_id)))


async def count(app, model) -> int:
    async with app.state.databases.session("us") as db:
        return int(await db.scalar(select(func.count()).select_from(model)))


@pytest.fixture
async def shop(app, client):
    admin = await make_admin(app, client)
    product = await create_product(
        client, admin["access_token"], name="Tea", prices=("5.25", "12.50"), stock=10
    )
    return admin, product


async def test_checkout_snapshots_prices_empties_the_cart_and_takes_stock(
    app, client, shop
) -> None:
    admin, product = shop
    cheap, dear = product["skus"]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], cheap["id"], 2)
    await add_to_cart(client, buyer["access_token"], dear["id"], 1)

    r = await checkout(
        client, buyer["access_token"], body={"shipping_address": ADDRESS, "note": "Ring twice"}
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending" and order["order_number"] == f"US-{1000 + order['id']:06d}"
    assert order["total_amount"] == "23.00" and order["currency"] == "USD"
    assert [
        (i["sku_id"], i["quantity"], i["unit_price"], i["line_total"]) for i in order["items"]
    ] == [(cheap["id"], 2, "5.25", "10.50"), (dear["id"], 1, "12.50", "12.50")]
    assert order["items"][0]["product_name"] == "Tea"
    assert order["shipping_address"]["city"] == "Chicago" and order["note"] == "Ring twice"
    assert [(h["status"], h["actor"]) for h in order["history"]] == [("pending", "customer")]

    cart = (await client.get("/api/v1/cart", headers=auth(buyer["access_token"]))).json()
    assert cart["items"] == []
    assert await stock_of(app, cheap["id"]) == 8 and await stock_of(app, dear["id"]) == 9

    # A later price change does not touch the order.
    await client.patch(
        f"/api/v1/admin/skus/{cheap['id']}",
        json={"price": "99.00"},
        headers=auth(admin["access_token"]),
    )
    again = (
        await client.get(
            f"/api/v1/profile/orders/{order['id']}", headers=auth(buyer["access_token"])
        )
    ).json()
    assert again["items"][0]["unit_price"] == "5.25" and again["total_amount"] == "23.00"


async def test_checkout_reprices_from_the_database(app, client, shop) -> None:
    admin, product = shop
    sku = product["skus"][0]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], sku["id"], 1)
    await client.patch(
        f"/api/v1/admin/skus/{sku['id']}",
        json={"price": "6.00"},
        headers=auth(admin["access_token"]),
    )
    order = (await checkout(client, buyer["access_token"])).json()
    assert order["items"][0]["unit_price"] == "6.00" and order["total_amount"] == "6.00"


async def test_saved_address_can_be_used(client, shop) -> None:
    _, product = shop
    buyer = await sign_in(client)
    saved = await client.post(
        "/api/v1/profile/addresses", json=ADDRESS, headers=auth(buyer["access_token"])
    )
    assert saved.status_code == 201, saved.text
    await add_to_cart(client, buyer["access_token"], product["skus"][0]["id"])
    r = await checkout(client, buyer["access_token"], body={"address_id": saved.json()["id"]})
    assert r.status_code == 201 and r.json()["shipping_address"]["line1"] == "1 Main St"


async def test_empty_cart_is_422(client) -> None:
    buyer = await sign_in(client)
    assert_problem(await checkout(client, buyer["access_token"]), 422, "order.cart_empty")


async def test_out_of_stock_is_409_naming_lines_and_changes_nothing(app, client, shop) -> None:
    _, product = shop
    cheap, dear = product["skus"]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], cheap["id"], 2)
    await add_to_cart(client, buyer["access_token"], dear["id"], 11 if False else 10)
    other = await sign_in(client)
    await add_to_cart(client, other["access_token"], dear["id"], 5)
    assert (await checkout(client, other["access_token"])).status_code == 201

    r = await checkout(client, buyer["access_token"])
    body = assert_problem(r, 409, "order.out_of_stock")
    assert body["lines"] == [{"sku_id": dear["id"], "requested": 10, "available": 5}]
    assert await stock_of(app, cheap["id"]) == 10 and await stock_of(app, dear["id"]) == 5
    cart = (await client.get("/api/v1/cart", headers=auth(buyer["access_token"]))).json()
    assert cart["item_count"] == 12
    assert await count(app, Order) == 1


async def test_another_users_address_is_404_and_nothing_changes(app, client, shop) -> None:
    _, product = shop
    owner = await sign_in(client)
    saved = (
        await client.post(
            "/api/v1/profile/addresses", json=ADDRESS, headers=auth(owner["access_token"])
        )
    ).json()
    thief = await sign_in(client)
    await add_to_cart(client, thief["access_token"], product["skus"][0]["id"])
    r = await checkout(client, thief["access_token"], body={"address_id": saved["id"]})
    assert r.status_code == 404
    assert await stock_of(app, product["skus"][0]["id"]) == 10 and await count(app, Order) == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"address_id": 1, "shipping_address": ADDRESS},
        {"shipping_address": {**ADDRESS, "country": "usa"}},
        {"shipping_address": {k: v for k, v in ADDRESS.items() if k != "line1"}},
        {"shipping_address": ADDRESS, "note": "x" * 1001},
        {"shipping_address": ADDRESS, "coupon": "FREE"},
        {"address_id": "one"},
        {"address_id": 2**63},
        {"shipping_address": {**ADDRESS, "line1": "1 Main\x00St"}},
        {"shipping_address": ADDRESS, "note": "ring\x00twice"},
    ],
)
async def test_bad_checkout_bodies_are_422_and_change_nothing(app, client, shop, body) -> None:
    _, product = shop
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], product["skus"][0]["id"], 3)
    r = await client.post("/api/v1/orders", json=body, headers=auth(buyer["access_token"]))
    assert_problem(r, 422, "request.invalid")
    assert await stock_of(app, product["skus"][0]["id"]) == 10 and await count(app, Order) == 0
    cart = (await client.get("/api/v1/cart", headers=auth(buyer["access_token"]))).json()
    assert cart["item_count"] == 3


async def test_same_idempotency_key_returns_the_same_order_once(app, client, shop) -> None:
    _, product = shop
    sku = product["skus"][0]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], sku["id"], 3)
    first = await checkout(client, buyer["access_token"], key="tap-1")
    replay = await checkout(client, buyer["access_token"], key="tap-1")
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert await stock_of(app, sku["id"]) == 7 and await count(app, Order) == 1

    different = await checkout(
        client,
        buyer["access_token"],
        key="tap-1",
        body={"shipping_address": {**ADDRESS, "city": "Bishkek"}},
    )
    assert_problem(different, 422, "order.idempotency_key_reused")


async def test_concurrent_twins_with_one_key_make_one_order(app, client, shop, backend) -> None:
    _, product = shop
    sku = product["skus"][0]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], sku["id"], 2)
    answers = await asyncio.gather(
        *(checkout(client, buyer["access_token"], key="same") for _ in range(6))
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert await stock_of(app, sku["id"]) == 8 and await count(app, Order) == 1


async def test_double_tap_from_two_devices_makes_one_order(app, client, shop) -> None:
    _, product = shop
    sku = product["skus"][0]
    phone_a = await sign_in(client, device_name="phone")
    tablet = await sign_in(client, phone_a["user"]["phone_number"], device_name="tablet")
    await add_to_cart(client, phone_a["access_token"], sku["id"], 4)
    a, b = await asyncio.gather(
        checkout(client, phone_a["access_token"], key="a"),
        checkout(client, tablet["access_token"], key="b"),
    )
    assert sorted([a.status_code, b.status_code]) == [201, 422]
    loser = a if a.status_code == 422 else b
    assert loser.json()["code"] == "order.cart_empty"
    assert await stock_of(app, sku["id"]) == 6 and await count(app, Order) == 1


async def test_twenty_shoppers_race_for_the_last_five_units(app, client, backend) -> None:
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"], name="Last ones", stock=5)
    sku_id = product["skus"][0]["id"]
    shoppers = [await sign_in(client) for _ in range(20)]
    for s in shoppers:
        assert (await add_to_cart(client, s["access_token"], sku_id, 1)).status_code in (200, 201)

    answers = await asyncio.gather(*(checkout(client, s["access_token"]) for s in shoppers))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 5 + [409] * 15, codes
    assert await stock_of(app, sku_id) == 0
    async with app.state.databases.session("us") as db:
        sold = await db.scalar(select(func.sum(OrderItem.quantity)))
    assert sold == 5 and await count(app, Order) == 5


async def test_order_created_is_in_the_outbox_with_the_order(app, client, shop) -> None:
    admin, product = shop
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], product["skus"][0]["id"])
    order = (await checkout(client, buyer["access_token"])).json()
    orders = {"type": "order.*"}
    events = (
        await client.get("/api/v1/admin/events", params=orders, headers=auth(admin["access_token"]))
    ).json()
    assert [(e["type"], e["payload"]["order_id"]) for e in events["items"]] == [
        ("order.created", order["id"])
    ]
    assert events["items"][0]["payload"]["total_amount"] == order["total_amount"]
    assert (
        await client.get("/api/v1/admin/events", headers=auth(buyer["access_token"]))
    ).status_code == 403
    async with app.state.databases.session("us") as db:
        created = await db.scalar(
            select(func.count()).select_from(Event).where(Event.type == "order.created")
        )
    assert created == 1


async def test_guests_must_sign_in_to_order(client, shop) -> None:
    _, product = shop
    guest = (await client.post("/api/v1/auth/guest", headers={"X-Market": "us"})).json()
    await add_to_cart(client, guest["access_token"], product["skus"][0]["id"])
    assert_problem(await checkout(client, guest["access_token"]), 403, "order.sign_in_required")


async def test_totals_are_exact_decimals(client, app) -> None:
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"], prices=("0.10", "0.20"), stock=99)
    buyer = await sign_in(client)
    for sku in product["skus"]:
        await add_to_cart(client, buyer["access_token"], sku["id"], 3)
    order = (await checkout(client, buyer["access_token"])).json()
    assert Decimal(order["total_amount"]) == Decimal("0.90") and order["total_amount"] == "0.90"


async def test_an_order_too_large_for_the_books_is_a_422_and_changes_nothing(app, client) -> None:
    """At most 99 of a unit below 100 million per line, but a cart may have many lines."""
    admin = (await make_admin(app, client))["access_token"]
    top = "99999999.99"
    wide = await create_product(client, admin, name="Yacht", prices=(top,) * 100, stock=99)
    more = await create_product(client, admin, name="Jet", prices=(top,) * 2, stock=99)
    skus = [s["id"] for s in wide["skus"] + more["skus"]]
    buyer = (await sign_in(client))["access_token"]
    for sku_id in skus:
        assert (await add_to_cart(client, buyer, sku_id, 99)).status_code in (200, 201)
    r = await checkout(client, buyer)
    body = assert_problem(r, 422, "order.total_too_large")
    assert body["max_total"] == "999999999999.99"
    assert await count(app, Order) == 0 and await stock_of(app, skus[0]) == 99
    cart = (await client.get("/api/v1/cart", headers=auth(buyer))).json()
    assert len(cart["items"]) == 102
