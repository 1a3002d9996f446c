"""A guest shops before signing in; signing in on that device merges into the account."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import add_to_cart, auth, new_phone, open_shop, sign_in, start_guest
from tests.problems import assert_problem


@pytest.fixture
async def shop(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    return await open_shop(app, client)


async def wish(client: httpx.AsyncClient, token: str, product_id: int) -> None:
    r = await client.post(
        "/api/v1/wishlist/items", json={"product_id": product_id}, headers=auth(token)
    )
    assert r.status_code in (200, 201), r.text


async def test_guest_cart_and_wishlist_merge_into_the_account_at_sign_in(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    phone = new_phone()
    account = (await sign_in(client, phone))["access_token"]
    await add_to_cart(client, account, shop["sku"], 50)
    await add_to_cart(client, account, shop["mug_sku"], 2)
    await wish(client, account, shop["product"])

    guest = (await start_guest(client))["access_token"]
    assert (await add_to_cart(client, guest, shop["sku"], 60)).status_code == 200
    assert (await add_to_cart(client, guest, shop["cheap_sku"], 1)).status_code == 200
    await wish(client, guest, shop["product"])
    await wish(client, guest, shop["mug"])

    signed = await sign_in(client, phone, headers=auth(guest))
    token = signed["access_token"]
    cart = (await client.get("/api/v1/cart", headers=auth(token))).json()
    assert sorted((i["sku_id"], i["quantity"]) for i in cart["items"]) == sorted(
        [(shop["sku"], 99), (shop["mug_sku"], 2), (shop["cheap_sku"], 1)]
    )
    wishlist = (await client.get("/api/v1/wishlist", headers=auth(token))).json()
    assert sorted(i["product_id"] for i in wishlist["items"]) == sorted(
        [shop["product"], shop["mug"]]
    )
    # The guest is gone: its token no longer opens anything.
    assert_problem(await client.get("/api/v1/cart", headers=auth(guest)), 401, "auth.unauthorized")


async def test_a_new_account_gets_the_guests_cart(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    guest = (await start_guest(client))["access_token"]
    await add_to_cart(client, guest, shop["mug_sku"], 3)
    await wish(client, guest, shop["mug"])
    signed = await sign_in(client, headers=auth(guest))
    assert signed["is_new_user"] is True
    cart = (await client.get("/api/v1/cart", headers=auth(signed["access_token"]))).json()
    assert [(i["sku_id"], i["quantity"]) for i in cart["items"]] == [(shop["mug_sku"], 3)]
    wishlist = (await client.get("/api/v1/wishlist", headers=auth(signed["access_token"]))).json()
    assert [i["product_id"] for i in wishlist["items"]] == [shop["mug"]]


async def test_a_guest_with_nothing_signs_in_cleanly(
    client: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    guest = (await start_guest(client))["access_token"]
    signed = await sign_in(client, headers=auth(guest))
    cart = (await client.get("/api/v1/cart", headers=auth(signed["access_token"]))).json()
    assert cart["items"] == []
