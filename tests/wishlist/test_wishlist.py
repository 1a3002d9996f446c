"""The wishlist: one row per product, idempotent adds, move-to-cart, owner only."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import auth, open_shop, sign_in
from tests.problems import assert_problem


@pytest.fixture
async def shop(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    return await open_shop(app, client)


async def wish(client: httpx.AsyncClient, token: str, product_id: Any) -> httpx.Response:
    return await client.post(
        "/api/v1/wishlist/items", json={"product_id": product_id}, headers=auth(token)
    )


async def test_adding_a_product_twice_keeps_one_item_and_says_it_was_there(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    first = await wish(client, token, shop["product"])
    assert first.status_code == 201
    assert first.json()["already_present"] is False
    assert first.json()["product_name"] == "Tee" and first.json()["available"] is True
    again = await wish(client, token, shop["product"])
    assert again.status_code == 200 and again.json()["already_present"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["added_at"] == first.json()["added_at"]

    wishlist = (await client.get("/api/v1/wishlist", headers=auth(token))).json()
    assert [(i["id"], i["product_id"]) for i in wishlist["items"]] == [
        (first.json()["id"], shop["product"])
    ]
    assert set(wishlist["items"][0]) >= {"id", "product_id", "product_name", "added_at"}


async def test_concurrent_adds_of_one_product_make_one_item(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    answers = await asyncio.gather(*(wish(client, token, shop["mug"]) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()["id"] for a in answers}) == 1


async def test_deleting_an_item_removes_it(client: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    token = (await sign_in(client))["access_token"]
    item = (await wish(client, token, shop["product"])).json()["id"]
    await wish(client, token, shop["mug"])
    gone = await client.delete(f"/api/v1/wishlist/items/{item}", headers=auth(token))
    assert gone.status_code == 204
    items = (await client.get("/api/v1/wishlist", headers=auth(token))).json()["items"]
    assert [i["product_id"] for i in items] == [shop["mug"]]
    assert_problem(
        await client.delete(f"/api/v1/wishlist/items/{item}", headers=auth(token)),
        404,
        "wishlist.item_not_found",
    )


async def test_move_to_cart_puts_the_only_sku_in_the_cart_and_removes_the_item(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    item = (await wish(client, token, shop["mug"])).json()["id"]
    moved = await client.post(f"/api/v1/wishlist/items/{item}/move-to-cart", headers=auth(token))
    assert moved.status_code == 200, moved.text
    assert [(i["sku_id"], i["quantity"]) for i in moved.json()["items"]] == [(shop["mug_sku"], 1)]
    assert (await client.get("/api/v1/wishlist", headers=auth(token))).json()["items"] == []


async def test_move_to_cart_asks_which_sku_when_there_are_several(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    token = (await sign_in(client))["access_token"]
    item = (await wish(client, token, shop["product"])).json()["id"]
    url = f"/api/v1/wishlist/items/{item}/move-to-cart"

    body = assert_problem(await client.post(url, headers=auth(token)), 422, "wishlist.sku_required")
    assert body["skus"] == [shop["sku"], shop["cheap_sku"]]
    assert_problem(
        await client.post(url, json={"sku_id": shop["mug_sku"]}, headers=auth(token)),
        422,
        "wishlist.sku_not_of_product",
    )
    assert (await client.get("/api/v1/cart", headers=auth(token))).json()["items"] == []

    moved = await client.post(
        url, json={"sku_id": shop["cheap_sku"], "quantity": 3}, headers=auth(token)
    )
    assert moved.status_code == 200
    assert [(i["sku_id"], i["quantity"]) for i in moved.json()["items"]] == [(shop["cheap_sku"], 3)]
    assert (await client.get("/api/v1/wishlist", headers=auth(token))).json()["items"] == []


@pytest.mark.parametrize(
    ("product", "status", "code"),
    [
        (987654, 404, "wishlist.product_not_found"),
        ("old", 422, "wishlist.product_inactive"),
        ("1", 422, "request.invalid"),
        (None, 422, "request.invalid"),
        (0, 422, "request.invalid"),
        (10**30, 422, "request.invalid"),
        ("x" * 10_240, 422, "request.invalid"),
        ([1], 422, "request.invalid"),
    ],
)
async def test_bad_wishlist_add_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient, shop: dict[str, Any], product: Any, status: int, code: str
) -> None:
    token = (await sign_in(client))["access_token"]
    await wish(client, token, shop["mug"])
    before = (await client.get("/api/v1/wishlist", headers=auth(token))).content
    await client.delete(f"/api/v1/admin/products/{shop['old']}", headers=auth(shop["admin"]))
    product_id = shop["old"] if product == "old" else product
    assert_problem(await wish(client, token, product_id), status, code)
    assert (await client.get("/api/v1/wishlist", headers=auth(token))).content == before


async def test_another_users_wishlist_item_is_not_found_for_read_move_and_delete(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    owner = (await sign_in(client))["access_token"]
    stranger = (await sign_in(client))["access_token"]
    item = (await wish(client, owner, shop["mug"])).json()["id"]
    before = (await client.get("/api/v1/wishlist", headers=auth(owner))).content
    url = f"/api/v1/wishlist/items/{item}"

    for response in (
        await client.get(url, headers=auth(stranger)),
        await client.post(f"{url}/move-to-cart", headers=auth(stranger)),
        await client.delete(url, headers=auth(stranger)),
    ):
        assert_problem(response, 404, "wishlist.item_not_found")
    assert (await client.get("/api/v1/wishlist", headers=auth(owner))).content == before
    assert (await client.get("/api/v1/cart", headers=auth(stranger))).json()["items"] == []
