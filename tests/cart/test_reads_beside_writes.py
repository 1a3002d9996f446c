"""Reads never wait for writers: while a checkout holds the cart (PostgreSQL: its row lock;
SQLite: the database's write lock), the owner's GET /cart and GET /profile still answer."""

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from keyturn.cart.models import Cart
from tests.factories import auth, create_product, make_admin, sign_in


async def test_cart_and_profile_answer_while_a_checkout_holds_the_cart(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"], prices=("5.00",))
    buyer = await sign_in(client)
    headers = auth(buyer["access_token"])
    sku_id = product["skus"][0]["id"]
    added = await client.post("/api/v1/cart/items", json={"sku_id": sku_id}, headers=headers)
    assert added.status_code == 200, added.text

    # What checkout does first, in its one transaction: lock the buyer's cart (on SQLite the
    # transaction has taken the write lock at BEGIN).
    async with app.state.databases.session("us") as checkout:
        locked = await checkout.scalar(
            select(Cart.id).where(Cart.user_id == buyer["user"]["id"]).with_for_update()
        )
        assert locked == added.json()["id"]
        cart = await asyncio.wait_for(client.get("/api/v1/cart", headers=headers), 5)
        profile = await asyncio.wait_for(client.get("/api/v1/profile", headers=headers), 5)
        await checkout.rollback()

    assert cart.status_code == 200, cart.text
    assert [line["sku_id"] for line in cart.json()["items"]] == [sku_id]
    assert profile.status_code == 200 and profile.json()["id"] == buyer["user"]["id"]
