"""The seed shop's own clients against /api/v1 on the real `keyturn serve` process:
seed 001's curl scenario as its commands send it, and the React Native app's calls
(seeds 000-003), unchanged but for the base URL."""

from __future__ import annotations

import httpx
import pytest

from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow

CURL_FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what `curl -d` sends


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("mobile"), env={"KEYTURN_COMPAT": "mobile-v0"})
    live.start()
    yield live
    live.stop()


def code_for(http: httpx.Client, phone: str, market: str) -> str:
    outbox = http.get("/dev/outbox", params={"to": phone}, headers={"X-Market": market})
    return str(outbox.json()["items"][0]["code"])


def test_seed_001_curl_scenario(server: LiveServer) -> None:
    phone = "+13128059851"
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=20) as curl:
        market = {"X-Market": "us"}
        json_body = {"Content-Type": "application/json", **market}
        sku = curl.get("/products", headers=market).json()["items"][0]["skus"][0]["id"]
        curl.post("/auth/send-verification", json={"phone": phone}, headers=market)

        # 1. Login
        one = curl.post(
            "/auth/verify-code",
            content=f'{{"phone": "{phone}", "verification_code": "{code_for(curl, phone, "us")}"}}',
            headers=json_body,
        )
        assert one.status_code == 200, one.text
        token_1, user_id = one.json()["access_token"], one.json()["user"]["id"]

        # 2. Add item to cart (curl -d without a content type)
        added = curl.post(
            "/cart/items",
            content=f'{{"sku_id": {sku}, "quantity": 2}}',
            headers={"Authorization": f"Bearer {token_1}", **market, **CURL_FORM},
        )
        assert added.status_code == 200, added.text
        assert [(i["sku_id"], i["quantity"]) for i in added.json()["items"]] == [(sku, 2)]

        # 3. Logout
        out = curl.post("/auth/logout", headers={"Authorization": f"Bearer {token_1}", **market})
        assert out.status_code == 200 and out.json()["message"]

        # 4. The old token fails
        assert (
            curl.get("/cart", headers={"Authorization": f"Bearer {token_1}", **market}).status_code
            == 401
        )

        # 5. Login again: a different token, the same user
        curl.post("/auth/send-verification", json={"phone": phone}, headers=market)
        two = curl.post(
            "/auth/verify-code",
            content=f'{{"phone": "{phone}", "verification_code": "{code_for(curl, phone, "us")}"}}',
            headers=json_body,
        )
        token_2 = two.json()["access_token"]
        assert token_2 != token_1 and two.json()["user"]["id"] == user_id

        # 6. The cart still has the item
        cart = curl.get("/cart", headers={"Authorization": f"Bearer {token_2}", **market})
        assert [(i["sku_id"], i["quantity"]) for i in cart.json()["items"]] == [(sku, 2)]


def test_the_mobile_apps_calls(server: LiveServer) -> None:
    phone = "+13125550177"
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=20) as app:
        # authService.js as seed 002 shows it: no X-Market on sign-in.
        assert app.post("/auth/send-verification", json={"phone": phone}).status_code == 200
        signed = app.post(
            "/auth/verify-code",
            json={"phone": phone, "verification_code": code_for(app, phone, "us")},
        )
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert body["success"] is True and body["is_new_user"] is True
        user = body["user"]
        assert user["phone"] == phone and user["market"] == "us" and "name" in user
        # From here the app sends the token and X-Market: us (seed 000).
        h = {"Authorization": f"Bearer {body['access_token']}", "X-Market": "us"}

        products = app.get("/products", headers=h).json()["items"]
        first, second = products[0], products[1]
        cart = app.post(
            "/cart/items", json={"sku_id": first["skus"][0]["id"], "quantity": 2}, headers=h
        ).json()
        line = cart["items"][0]["id"]
        assert (
            app.put(f"/cart/items/{line}", json={"quantity": 3}, headers=h).json()["item_count"]
            == 3
        )
        app.post("/cart/items", json={"sku_id": second["skus"][0]["id"], "quantity": 1}, headers=h)
        cart = app.get("/cart", headers=h).json()
        assert cart["item_count"] == 4 and cart["currency"] == "USD"
        other = next(i["id"] for i in cart["items"] if i["id"] != line)
        assert app.delete(f"/cart/items/{other}", headers=h).json()["item_count"] == 3

        wished = app.post("/wishlist/items", json={"product_id": second["id"]}, headers=h)
        assert wished.status_code == 201
        app.post("/wishlist/items", json={"product_id": products[2]["id"]}, headers=h)
        wishlist = app.get("/wishlist", headers=h).json()
        assert len(wishlist["items"]) == 2
        assert (
            app.delete(f"/wishlist/items/{wishlist['items'][0]['id']}", headers=h).status_code
            == 204
        )

        order = app.post(
            "/orders",
            headers={**h, "Idempotency-Key": "mobile-1"},
            json={
                "shipping_address": {
                    "full_name": "Seed User",
                    "phone": phone,
                    "line1": "1 Main St",
                    "city": "Chicago",
                    "country": "US",
                }
            },
        )
        assert order.status_code == 201, order.text
        orders = app.get("/profile/orders", headers=h).json()["items"]
        assert [o["id"] for o in orders] == [order.json()["id"]]
        detail = app.get(f"/profile/orders/{order.json()['id']}", headers=h).json()
        assert detail["status"] == "pending" and detail["items"][0]["quantity"] == 3
        cancelled = app.post(f"/profile/orders/{order.json()['id']}/cancel", headers=h)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

        profile = app.get("/profile", headers=h).json()
        assert profile["phone"] == phone

        # The seed's logout meant every device; the app asks for that with scope "all".
        app.post("/auth/send-verification", json={"phone": phone})
        tablet = app.post(
            "/auth/verify-code",
            json={"phone": phone, "verification_code": code_for(app, phone, "us")},
        ).json()
        out = app.post("/auth/logout", json={"scope": "all"}, headers=h)
        assert out.status_code == 200
        for token in (body["access_token"], tablet["access_token"]):
            assert app.get("/cart", headers={"Authorization": f"Bearer {token}"}).status_code == 401
