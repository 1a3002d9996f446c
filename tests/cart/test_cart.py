"""The cart: one line per SKU, current prices, quantities 1-99, races and bad input."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import (
    add_to_cart,
    auth,
    create_product,
    make_admin,
    new_phone,
    open_shop,
    sign_in,
)
from tests.problems import assert_problem


@pytest.fixture
async def shop(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    return await open_shop(app, client)


async def test_cart_shows_current_prices_line_totals_subtotal_and_currency(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    empty = await client.get("/api/v1/cart", headers=auth(token))
    assert empty.status_code == 200
    assert empty.json() | {"id": 0} == {
        "id": 0,
        "items": [],
        "subtotal": "0.00",
        "currency": "USD",
        "item_count": 0,
    }
    await add_to_cart(client, token, shop["sku"], 2)
    cart = (await add_to_cart(client, token, shop["cheap_sku"], 1)).json()
    assert cart["id"] == empty.json()["id"]
    assert [
        (i["sku_id"], i["quantity"], i["unit_price"], i["line_total"]) for i in cart["items"]
    ] == [
        (shop["sku"], 2, "19.99", "39.98"),
        (shop["cheap_sku"], 1, "5.00", "5.00"),
    ]
    line = cart["items"][0]
    assert line["product_id"] == shop["product"] and line["product_name"] == "Tee"
    assert line["in_stock"] is True
    assert cart["subtotal"] == "44.98" and cart["item_count"] == 3 and cart["currency"] == "USD"

    await client.patch(
        f"/api/v1/admin/skus/{shop['sku']}",
        json={"price": "21.50", "stock": 1},
        headers=auth(shop["admin"]),
    )
    repriced = (await client.get("/api/v1/cart", headers=auth(token))).json()
    assert repriced["items"][0]["unit_price"] == "21.50"
    assert repriced["items"][0]["line_total"] == "43.00"
    assert repriced["items"][0]["in_stock"] is False  # 2 wanted, 1 left
    assert repriced["subtotal"] == "48.00"


async def test_adding_an_sku_already_in_the_cart_adds_to_its_line_up_to_99(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    await add_to_cart(client, token, shop["sku"], 2)
    cart = (await add_to_cart(client, token, shop["sku"], 3)).json()
    assert [(i["sku_id"], i["quantity"]) for i in cart["items"]] == [(shop["sku"], 5)]
    cart = (await add_to_cart(client, token, shop["sku"], 98)).json()
    assert [i["quantity"] for i in cart["items"]] == [99]


async def test_put_sets_a_quantity_and_delete_removes_a_line_or_everything(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    await add_to_cart(client, token, shop["sku"], 2)
    cart = (await add_to_cart(client, token, shop["cheap_sku"], 4)).json()
    first, second = (i["id"] for i in cart["items"])

    put = await client.put(f"/api/v1/cart/items/{first}", json={"quantity": 7}, headers=auth(token))
    assert put.status_code == 200 and put.json()["items"][0]["quantity"] == 7

    line = await client.get(f"/api/v1/cart/items/{second}", headers=auth(token))
    assert line.status_code == 200 and line.json()["quantity"] == 4

    removed = await client.delete(f"/api/v1/cart/items/{second}", headers=auth(token))
    assert removed.status_code == 200
    assert [i["id"] for i in removed.json()["items"]] == [first]
    assert_problem(
        await client.get(f"/api/v1/cart/items/{second}", headers=auth(token)),
        404,
        "cart.item_not_found",
    )

    emptied = await client.delete("/api/v1/cart", headers=auth(token))
    assert emptied.status_code == 200
    assert emptied.json()["items"] == [] and emptied.json()["subtotal"] == "0.00"
    assert emptied.json()["id"] == cart["id"]


async def test_a_line_whose_sku_stopped_selling_stays_but_is_not_in_stock(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    await add_to_cart(client, token, shop["sku"], 1)
    await client.delete(f"/api/v1/admin/products/{shop['product']}", headers=auth(shop["admin"]))
    cart = (await client.get("/api/v1/cart", headers=auth(token))).json()
    assert [(i["sku_id"], i["in_stock"]) for i in cart["items"]] == [(shop["sku"], False)]
    assert_problem(await add_to_cart(client, token, shop["sku"], 1), 422, "cart.sku_inactive")


async def test_twenty_concurrent_adds_from_two_devices_make_one_line_with_the_sum(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    phone = new_phone()
    phone_token = (await sign_in(client, phone, device_name="phone"))["access_token"]
    tablet_token = (await sign_in(client, phone, device_name="tablet"))["access_token"]
    devices = [phone_token, tablet_token]

    # The user has no cart yet: the first adds also race to create it.
    answers = await asyncio.gather(
        *(add_to_cart(client, devices[n % 2], shop["sku"], 4) for n in range(20))
    )
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    cart = (await client.get("/api/v1/cart", headers=auth(tablet_token))).json()
    assert [(i["sku_id"], i["quantity"]) for i in cart["items"]] == [(shop["sku"], 80)]

    answers = await asyncio.gather(
        *(add_to_cart(client, devices[n % 2], shop["sku"], 3) for n in range(20))
    )
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    cart = (await client.get("/api/v1/cart", headers=auth(phone_token))).json()
    assert [(i["sku_id"], i["quantity"]) for i in cart["items"]] == [(shop["sku"], 99)]


TEN_KB = "x" * 10_240
BAD_ADDS = [
    ("quantity 0", {"quantity": 0}, 422, "request.invalid"),
    ("quantity -1", {"quantity": -1}, 422, "request.invalid"),
    ("quantity 100", {"quantity": 100}, 422, "request.invalid"),
    ("quantity 10^9", {"quantity": 10**9}, 422, "request.invalid"),
    ("quantity string", {"quantity": "2"}, 422, "request.invalid"),
    ("quantity null", {"quantity": None}, 422, "request.invalid"),
    ("quantity float", {"quantity": 1.5}, 422, "request.invalid"),
    ("quantity bool", {"quantity": True}, 422, "request.invalid"),
    ("quantity list", {"quantity": [2]}, 422, "request.invalid"),
    ("quantity 10 kB", {"quantity": TEN_KB}, 422, "request.invalid"),
    ("unknown sku", {"sku_id": 987654}, 404, "cart.sku_not_found"),
    ("inactive sku", {"sku_id": "inactive"}, 422, "cart.sku_inactive"),
    ("sku string", {"sku_id": "1"}, 422, "request.invalid"),
    ("sku null", {"sku_id": None}, 422, "request.invalid"),
    ("sku object", {"sku_id": {"id": 1}}, 422, "request.invalid"),
    ("sku 10 kB", {"sku_id": TEN_KB}, 422, "request.invalid"),
    ("sku past bigint", {"sku_id": 10**30}, 422, "request.invalid"),
    ("sku negative", {"sku_id": -5}, 422, "request.invalid"),
    ("extra 10 kB field", {"note": TEN_KB}, 422, "request.invalid"),
]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [pytest.param(c, s, k, id=name) for name, c, s, k in BAD_ADDS],
)
async def test_bad_add_is_a_problem_and_leaves_the_cart_byte_identical(
    client: httpx.AsyncClient, shop: dict[str, Any], change: dict[str, Any], status: int, code: str
) -> None:
    token = (await sign_in(client))["access_token"]
    await add_to_cart(client, token, shop["sku"], 2)
    before = (await client.get("/api/v1/cart", headers=auth(token))).content

    body = {"sku_id": shop["sku"], "quantity": 1, **change}
    if body["sku_id"] == "inactive":
        body["sku_id"] = shop["inactive_sku"]
    assert_problem(
        await client.post("/api/v1/cart/items", json=body, headers=auth(token)), status, code
    )

    assert (await client.get("/api/v1/cart", headers=auth(token))).content == before


@pytest.mark.parametrize(
    "raw",
    [b"", b"null", b"[]", b'"sku"', b"{", b'{"sku_id": 1, "quantity": 1', TEN_KB.encode()],
    ids=["empty", "null", "list", "string", "broken", "truncated", "10 kB junk"],
)
async def test_malformed_body_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, shop: dict[str, Any], raw: bytes
) -> None:
    token = (await sign_in(client))["access_token"]
    await add_to_cart(client, token, shop["sku"], 2)
    before = (await client.get("/api/v1/cart", headers=auth(token))).content
    response = await client.post(
        "/api/v1/cart/items",
        content=raw,
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert_problem(response, 422, "request.invalid")
    assert (await client.get("/api/v1/cart", headers=auth(token))).content == before


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("{line}", {"quantity": 0}, 422, "request.invalid"),
        ("{line}", {"quantity": 100}, 422, "request.invalid"),
        ("{line}", {"quantity": "3"}, 422, "request.invalid"),
        ("{line}", {"quantity": None}, 422, "request.invalid"),
        ("{line}", {}, 422, "request.invalid"),
        ("987654", {"quantity": 3}, 404, "cart.item_not_found"),
        ("99999999999999999999999", {"quantity": 3}, 422, "request.invalid"),
        ("abc", {"quantity": 3}, 422, "request.invalid"),
    ],
)
async def test_bad_quantity_change_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient,
    shop: dict[str, Any],
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    token = (await sign_in(client))["access_token"]
    cart = (await add_to_cart(client, token, shop["sku"], 2)).json()
    before = (await client.get("/api/v1/cart", headers=auth(token))).content
    url = "/api/v1/cart/items/" + path.format(line=cart["items"][0]["id"])
    assert_problem(await client.put(url, json=body, headers=auth(token)), status, code)
    assert (await client.get("/api/v1/cart", headers=auth(token))).content == before


async def test_another_users_cart_line_is_not_found_for_read_change_and_delete(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    owner = (await sign_in(client))["access_token"]
    stranger = (await sign_in(client))["access_token"]
    line = (await add_to_cart(client, owner, shop["sku"], 2)).json()["items"][0]["id"]
    await add_to_cart(client, stranger, shop["cheap_sku"], 1)
    before = (await client.get("/api/v1/cart", headers=auth(owner))).content
    url = f"/api/v1/cart/items/{line}"

    assert_problem(await client.get(url, headers=auth(stranger)), 404, "cart.item_not_found")
    assert_problem(
        await client.put(url, json={"quantity": 9}, headers=auth(stranger)),
        404,
        "cart.item_not_found",
    )
    assert_problem(await client.delete(url, headers=auth(stranger)), 404, "cart.item_not_found")
    assert (await client.get("/api/v1/cart", headers=auth(owner))).content == before


async def test_the_cart_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/cart"), 401, "auth.unauthorized")
    assert_problem(
        await client.post("/api/v1/cart/items", json={"sku_id": 1, "quantity": 1}),
        401,
        "auth.unauthorized",
    )


async def test_a_kg_cart_is_priced_in_som(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client, market="kg")
    product = await create_product(
        client, admin["access_token"], name="Чай", prices=("450.00",), market="kg"
    )
    token = (await sign_in(client, market="kg"))["access_token"]
    assert product["skus"][0]["currency"] == "KGS"
    cart = (await add_to_cart(client, token, product["skus"][0]["id"], 2)).json()
    assert cart["currency"] == "KGS" and cart["subtotal"] == "900.00"
