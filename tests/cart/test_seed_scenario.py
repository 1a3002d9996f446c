"""Seed 001, extended: what a person put in the cart and wishlist survives logout and
follows them to another device."""

from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import add_to_cart, auth, new_phone, open_shop, sign_in


async def test_cart_and_wishlist_survive_logout_and_follow_to_a_second_device(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop: dict[str, Any] = await open_shop(app, client)
    phone = new_phone()
    first = (await sign_in(client, phone, device_name="phone"))["access_token"]
    await add_to_cart(client, first, shop["sku"], 2)
    added = await client.post(
        "/api/v1/wishlist/items", json={"product_id": shop["mug"]}, headers=auth(first)
    )
    assert added.status_code == 201
    cart_before = (await client.get("/api/v1/cart", headers=auth(first))).json()
    wishlist_before = (await client.get("/api/v1/wishlist", headers=auth(first))).json()

    out = await client.post("/api/v1/auth/logout", headers=auth(first))
    assert out.status_code == 200
    assert (await client.get("/api/v1/cart", headers=auth(first))).status_code == 401

    again = (await sign_in(client, phone, device_name="phone"))["access_token"]
    assert (await client.get("/api/v1/cart", headers=auth(again))).json() == cart_before
    assert (await client.get("/api/v1/wishlist", headers=auth(again))).json() == wishlist_before

    tablet = (await sign_in(client, phone, device_name="tablet"))["access_token"]
    assert (await client.get("/api/v1/cart", headers=auth(tablet))).json() == cart_before
    await add_to_cart(client, tablet, shop["sku"], 1)
    on_phone = (await client.get("/api/v1/cart", headers=auth(again))).json()
    assert on_phone["id"] == cart_before["id"]
    assert [(i["sku_id"], i["quantity"]) for i in on_phone["items"]] == [(shop["sku"], 3)]
