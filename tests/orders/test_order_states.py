"""Order states: conditional transitions, cancel restores stock exactly once, history."""

import asyncio

import pytest

from tests.factories import add_to_cart, auth, create_product, make_admin, sign_in
from tests.orders.test_checkout import checkout, stock_of
from tests.problems import assert_problem


@pytest.fixture
async def placed(app, client):
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"], stock=10)
    sku_id = product["skus"][0]["id"]
    buyer = await sign_in(client)
    await add_to_cart(client, buyer["access_token"], sku_id, 3)
    order = (await checkout(client, buyer["access_token"])).json()
    return admin, buyer, order, sku_id


async def move(client, admin, order_id, status):
    return await client.post(
        f"/api/v1/admin/orders/{order_id}/status",
        json={"status": status},
        headers=auth(admin["access_token"]),
    )


async def test_admin_moves_an_order_to_delivered_with_history(client, placed) -> None:
    admin, buyer, order, _ = placed
    for status in ("processing", "shipped", "delivered"):
        r = await move(client, admin, order["id"], status)
        assert r.status_code == 200 and r.json()["status"] == status
    seen = (
        await client.get(
            f"/api/v1/profile/orders/{order['id']}", headers=auth(buyer["access_token"])
        )
    ).json()
    assert [(h["status"], h["actor"]) for h in seen["history"]] == [
        ("pending", "customer"),
        ("processing", "admin"),
        ("shipped", "admin"),
        ("delivered", "admin"),
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["shipped"], None),
        (["processing", "delivered"], None),
        (["processing", "shipped", "pending"], None),
    ],
)
async def test_illegal_transitions_are_409_and_change_nothing(client, placed, path, target) -> None:
    admin, _, order, _ = placed
    *legal, illegal = path
    for status in legal:
        assert (await move(client, admin, order["id"], status)).status_code == 200
    before = (
        await client.get(f"/api/v1/admin/orders/{order['id']}", headers=auth(admin["access_token"]))
    ).json()
    r = await move(client, admin, order["id"], illegal)
    assert r.status_code in (409, 422)
    after = (
        await client.get(f"/api/v1/admin/orders/{order['id']}", headers=auth(admin["access_token"]))
    ).json()
    assert after == before


async def test_repeating_a_transition_is_harmless(client, placed) -> None:
    admin, _, order, _ = placed
    first = (await move(client, admin, order["id"], "processing")).json()
    again = await move(client, admin, order["id"], "processing")
    assert again.status_code == 200 and again.json()["history"] == first["history"]


async def test_cancel_restores_stock_once_even_when_repeated(app, client, placed) -> None:
    _, buyer, order, sku_id = placed
    assert await stock_of(app, sku_id) == 7
    url = f"/api/v1/profile/orders/{order['id']}/cancel"
    first = await client.post(url, headers=auth(buyer["access_token"]))
    second = await client.post(url, headers=auth(buyer["access_token"]))
    assert first.status_code == second.status_code == 200
    assert second.json()["status"] == "cancelled"
    assert [h["status"] for h in second.json()["history"]] == ["pending", "cancelled"]
    assert await stock_of(app, sku_id) == 10


async def test_concurrent_cancels_restore_stock_once(app, client, placed, backend) -> None:
    admin, buyer, order, sku_id = placed
    url = f"/api/v1/profile/orders/{order['id']}/cancel"
    answers = await asyncio.gather(
        *(client.post(url, headers=auth(buyer["access_token"])) for _ in range(5)),
        move(client, admin, order["id"], "cancelled"),
    )
    assert {r.status_code for r in answers} == {200}
    assert await stock_of(app, sku_id) == 10
    final = (
        await client.get(
            f"/api/v1/profile/orders/{order['id']}", headers=auth(buyer["access_token"])
        )
    ).json()
    assert [h["status"] for h in final["history"]] == ["pending", "cancelled"]
    events = (
        await client.get(
            "/api/v1/admin/events", params={"type": "order.*"}, headers=auth(admin["access_token"])
        )
    ).json()
    assert [e["type"] for e in events["items"]] == ["order.created", "order.cancelled"]


async def test_shipped_orders_cannot_be_cancelled(app, client, placed) -> None:
    admin, buyer, order, sku_id = placed
    await move(client, admin, order["id"], "processing")
    await move(client, admin, order["id"], "shipped")
    r = await client.post(
        f"/api/v1/profile/orders/{order['id']}/cancel", headers=auth(buyer["access_token"])
    )
    assert_problem(r, 409, "order.illegal_transition")
    assert await stock_of(app, sku_id) == 7


async def test_another_users_order_is_404_for_read_and_cancel(app, client, placed) -> None:
    _, _, order, sku_id = placed
    stranger = await sign_in(client)
    headers = auth(stranger["access_token"])
    assert_problem(
        await client.get(f"/api/v1/profile/orders/{order['id']}", headers=headers),
        404,
        "order.not_found",
    )
    assert_problem(
        await client.post(f"/api/v1/profile/orders/{order['id']}/cancel", headers=headers),
        404,
        "order.not_found",
    )
    assert await stock_of(app, sku_id) == 7


async def test_order_list_is_newest_first_paginated_and_filterable(app, client) -> None:
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"], stock=50)
    buyer = await sign_in(client)
    ids = []
    for _ in range(5):
        await add_to_cart(client, buyer["access_token"], product["skus"][0]["id"], 1)
        ids.append((await checkout(client, buyer["access_token"])).json()["id"])
    await client.post(
        f"/api/v1/profile/orders/{ids[0]}/cancel", headers=auth(buyer["access_token"])
    )

    page1 = (
        await client.get(
            "/api/v1/profile/orders", params={"limit": 3}, headers=auth(buyer["access_token"])
        )
    ).json()
    page2 = (
        await client.get(
            "/api/v1/profile/orders",
            params={"limit": 3, "cursor": page1["next_cursor"]},
            headers=auth(buyer["access_token"]),
        )
    ).json()
    assert [o["id"] for o in page1["items"] + page2["items"]] == ids[::-1]
    assert page2["next_cursor"] is None and page1["items"][0]["item_count"] == 1
    cancelled = (
        await client.get(
            "/api/v1/profile/orders",
            params={"status": "cancelled"},
            headers=auth(buyer["access_token"]),
        )
    ).json()
    assert [o["id"] for o in cancelled["items"]] == [ids[0]]
    other = await sign_in(client)
    assert (await client.get("/api/v1/profile/orders", headers=auth(other["access_token"]))).json()[
        "items"
    ] == []
    bad = await client.get(
        "/api/v1/profile/orders", params={"cursor": "abc"}, headers=auth(buyer["access_token"])
    )
    assert bad.status_code == 422


async def test_orders_survive_logout_refresh_and_another_device(client, placed) -> None:
    _, buyer, order, _ = placed
    refreshed = (
        await client.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": buyer["refresh_token"]},
            headers={"X-Market": "us"},
        )
    ).json()
    await client.post("/api/v1/auth/logout", headers=auth(refreshed["access_token"]))
    elsewhere = await sign_in(client, buyer["user"]["phone_number"], device_name="tablet")
    seen = (
        await client.get(
            f"/api/v1/profile/orders/{order['id']}", headers=auth(elsewhere["access_token"])
        )
    ).json()
    assert seen["items"] == order["items"] and seen["total_amount"] == order["total_amount"]


@pytest.mark.parametrize("cursor", ["abc", "²", "١٢", "1" * 19, "1\x00"])
@pytest.mark.parametrize("path", ["/api/v1/profile/orders", "/api/v1/admin/orders"])
async def test_a_cursor_that_is_not_an_id_is_a_422(app, client, path, cursor) -> None:
    admin = await make_admin(app, client)
    r = await client.get(path, params={"cursor": cursor}, headers=auth(admin["access_token"]))
    assert_problem(r, 422, "request.invalid")
