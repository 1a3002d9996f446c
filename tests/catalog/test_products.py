"""The public catalog (active products only, cursor pages, name search) and the admin side."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import auth, create_product, make_admin, sign_in
from tests.problems import assert_problem

US = {"X-Market": "us"}
NAN, INF = float("nan"), float("inf")


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> str:
    return str((await make_admin(app, client))["access_token"])


async def test_a_created_product_reads_back_in_the_contract_shape(
    client: httpx.AsyncClient, admin: str
) -> None:
    created = await client.post(
        "/api/v1/admin/products",
        json={
            "name": "Laptop",
            "description": "14-inch",
            "image_url": "https://img.example/laptop.png",
            "skus": [
                {"code": "LT-16", "price": "5999.99", "stock": 3, "attributes": {"ram": "16GB"}},
                {"code": "LT-32", "price": 7999.5, "stock": 0},
            ],
        },
        headers=auth(admin),
    )
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    public = await client.get(f"/api/v1/products/{product_id}", headers=US)
    assert public.status_code == 200
    body = public.json()
    assert body == {
        "id": product_id,
        "name": "Laptop",
        "description": "14-inch",
        "image_url": "https://img.example/laptop.png",
        "skus": [
            {
                "id": body["skus"][0]["id"],
                "code": "LT-16",
                "price": "5999.99",
                "currency": "USD",
                "in_stock": True,
                "attributes": {"ram": "16GB"},
            },
            {
                "id": body["skus"][1]["id"],
                "code": "LT-32",
                "price": "7999.50",
                "currency": "USD",
                "in_stock": False,
                "attributes": {},
            },
        ],
    }


async def test_products_come_in_cursor_pages_and_can_be_searched_by_name(
    client: httpx.AsyncClient, admin: str
) -> None:
    names = ["Red Mug", "Blue Mug", "Teapot", "Ноутбук Pro", "mug 100%", "Spoon"]
    for name in names:
        await create_product(client, admin, name=name)
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/products", params=params, headers=US)).json()
        seen += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names

    def search(q: str) -> Any:
        return client.get("/api/v1/products", params={"q": q}, headers=US)

    assert [p["name"] for p in (await search("MUG")).json()["items"]] == [
        "Red Mug",
        "Blue Mug",
        "mug 100%",
    ]
    assert [p["name"] for p in (await search("ноутбук")).json()["items"]] == ["Ноутбук Pro"]
    assert [p["name"] for p in (await search("100%")).json()["items"]] == ["mug 100%"]
    assert (await search("_")).json() == {"items": [], "next_cursor": None}


async def test_deactivated_products_and_skus_leave_the_shop_but_not_the_admin_view(
    client: httpx.AsyncClient, admin: str
) -> None:
    kept = await create_product(client, admin, name="Kept", prices=("1.00", "2.00"))
    hidden = await create_product(client, admin, name="Hidden")
    await client.patch(
        f"/api/v1/admin/skus/{kept['skus'][1]['id']}",
        json={"is_active": False},
        headers=auth(admin),
    )
    gone = await client.delete(f"/api/v1/admin/products/{hidden['id']}", headers=auth(admin))
    assert gone.status_code == 200 and gone.json()["is_active"] is False

    listed = (await client.get("/api/v1/products", headers=US)).json()["items"]
    assert [(p["name"], len(p["skus"])) for p in listed] == [("Kept", 1)]
    assert_problem(
        await client.get(f"/api/v1/products/{hidden['id']}", headers=US),
        404,
        "catalog.product_not_found",
    )
    admin_list = (await client.get("/api/v1/admin/products", headers=auth(admin))).json()["items"]
    assert [(p["name"], p["is_active"], len(p["skus"])) for p in admin_list] == [
        ("Kept", True, 2),
        ("Hidden", False, 1),
    ]
    back = await client.patch(
        f"/api/v1/admin/products/{hidden['id']}", json={"is_active": True}, headers=auth(admin)
    )
    assert back.status_code == 200
    assert (await client.get(f"/api/v1/products/{hidden['id']}", headers=US)).status_code == 200


async def test_admin_changes_price_stock_and_adds_skus(
    client: httpx.AsyncClient, admin: str
) -> None:
    product = await create_product(client, admin, name="Tee", stock=0)
    sku_id = product["skus"][0]["id"]
    patched = await client.patch(
        f"/api/v1/admin/skus/{sku_id}", json={"price": "12.30", "stock": 4}, headers=auth(admin)
    )
    assert patched.status_code == 200
    assert patched.json()["price"] == "12.30" and patched.json()["stock"] == 4
    added = await client.post(
        f"/api/v1/admin/products/{product['id']}/skus",
        json={"code": "TEE-XL", "price": "13.00", "stock": 1, "attributes": {"size": "XL"}},
        headers=auth(admin),
    )
    assert added.status_code == 201
    public = (await client.get(f"/api/v1/products/{product['id']}", headers=US)).json()
    assert [(s["code"], s["price"], s["in_stock"]) for s in public["skus"]][1:] == [
        ("TEE-XL", "13.00", True)
    ]
    assert public["skus"][0]["price"] == "12.30" and public["skus"][0]["in_stock"] is True
    renamed = await client.patch(
        f"/api/v1/admin/products/{product['id']}", json={"name": "Tee 2"}, headers=auth(admin)
    )
    assert renamed.json()["name"] == "Tee 2"


async def test_a_taken_sku_code_is_a_409_and_creates_nothing(
    client: httpx.AsyncClient, admin: str
) -> None:
    product = await create_product(client, admin, name="First")
    code = product["skus"][0]["code"]
    again = await client.post(
        "/api/v1/admin/products",
        json={"name": "Second", "skus": [{"code": code, "price": "1.00", "stock": 1}]},
        headers=auth(admin),
    )
    assert_problem(again, 409, "catalog.sku_code_taken")
    names = [p["name"] for p in (await client.get("/api/v1/products", headers=US)).json()["items"]]
    assert names == ["First"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "", "skus": [{"code": "A", "price": "1"}]}, "request.invalid"),
        ({"name": "x" * 10_240, "skus": [{"code": "A", "price": "1"}]}, "request.invalid"),
        ({"name": "N", "skus": []}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "-1"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "1.999"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "NaN"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "1e20"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "100000000"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "9999999999.99"}]}, "request.invalid"),
        (
            {"name": "N", "skus": [{"code": "A", "price": "1", "attributes": {"w": NAN}}]},
            "request.invalid",
        ),
        (
            {"name": "N", "skus": [{"code": "A", "price": "1", "attributes": {"w": INF}}]},
            "request.invalid",
        ),
        (
            {"name": "N", "skus": [{"code": "A", "price": "1", "attributes": {"a\x00": 1}}]},
            "request.invalid",
        ),
        (
            {"name": "N", "skus": [{"code": "A", "price": "1", "attributes": {"a": "b\x00"}}]},
            "request.invalid",
        ),
        ({"name": "N\x00", "skus": [{"code": "A", "price": "1"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "1", "stock": -1}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "A", "price": "1", "stock": "3"}]}, "request.invalid"),
        ({"name": "N", "skus": [{"code": "a b", "price": "1"}]}, "request.invalid"),
        (
            {"name": "N", "skus": [{"code": "A", "price": "1"}, {"code": "A", "price": "2"}]},
            "request.invalid",
        ),
        ({"name": "N", "image_url": "javascript:alert(1)", "skus": []}, "request.invalid"),
    ],
)
async def test_bad_product_is_refused_and_nothing_is_created(
    client: httpx.AsyncClient, admin: str, body: dict[str, Any], code: str
) -> None:
    # json.dumps writes NaN and Infinity as JS literals, as a careless client would.
    sent = await client.post(
        "/api/v1/admin/products",
        content=json.dumps(body),
        headers={**auth(admin), "Content-Type": "application/json"},
    )
    assert_problem(sent, 422, code)
    admin_list = await client.get("/api/v1/admin/products", headers=auth(admin))
    assert admin_list.json()["items"] == []


async def test_admin_endpoints_are_for_admins_only(client: httpx.AsyncClient) -> None:
    customer = (await sign_in(client))["access_token"]
    body = {"name": "N", "skus": [{"code": "A", "price": "1"}]}
    assert_problem(await client.post("/api/v1/admin/products", json=body), 401, "auth.unauthorized")
    assert_problem(
        await client.post("/api/v1/admin/products", json=body, headers=auth(customer)),
        403,
        "auth.forbidden",
    )
    assert_problem(
        await client.patch("/api/v1/admin/skus/1", json={"stock": 5}, headers=auth(customer)),
        403,
        "auth.forbidden",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "abc"},
        {"cursor": "1" * 40},
        {"cursor": "²"},
        {"cursor": "١٢"},
        {"limit": 0},
        {"limit": 1000},
        {"q": "x" * 500},
        {"q": "a\x00b"},
    ],
)
async def test_bad_paging_is_a_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert_problem(await client.get("/api/v1/products", params=params), 422, "request.invalid")


async def test_unknown_product_is_a_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/products/424242"), 404, "catalog.product_not_found")
    assert_problem(
        await client.get("/api/v1/products/99999999999999999999"), 422, "request.invalid"
    )
