"""Seed 001's scenario against the real `keyturn serve` process (black-box, over HTTP)."""

import httpx
import pytest

from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield live
    live.stop()


def sign_in(http: httpx.Client, phone: str, device: str) -> dict:
    assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).status_code == 200
    code = http.get("/api/v1/dev/outbox", params={"to": phone}).json()["items"][0]["code"]
    r = http.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": device},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_login_logout_login_is_the_same_user_on_the_real_server(server) -> None:
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        assert http.get("/health").json() == {"status": "ok"}
        assert http.get("/ready").status_code == 200
        first = sign_in(http, "+13128059851", "phone A")
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        assert http.get("/api/v1/profile", headers=bearer).status_code == 200

        assert http.post("/api/v1/auth/logout", headers=bearer).status_code == 200
        assert http.get("/api/v1/profile", headers=bearer).status_code == 401

        second = sign_in(http, "+13128059851", "phone B")
        assert second["user"]["id"] == first["user"]["id"]
        assert second["is_new_user"] is False
        # Device A's old token stays dead after the user signs in elsewhere.
        assert http.get("/api/v1/profile", headers=bearer).status_code == 401


def test_cart_wishlist_and_orders_survive_logout_refresh_and_another_device(server) -> None:
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        products = http.get("/api/v1/products", params={"limit": 3}).json()["items"]
        skus = [p["skus"][0]["id"] for p in products[:2]]
        phone = "+13128059852"
        a = sign_in(http, phone, "phone A")
        bearer = {"Authorization": f"Bearer {a['access_token']}"}
        for sku_id in skus:
            assert http.post(
                "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": 2}, headers=bearer
            ).status_code in (200, 201)
        http.post("/api/v1/wishlist/items", json={"product_id": products[2]["id"]}, headers=bearer)
        order = http.post(
            "/api/v1/orders",
            headers=bearer | {"Idempotency-Key": "seed-1"},
            json={
                "shipping_address": {
                    "full_name": "Seed User",
                    "phone": phone,
                    "line1": "1 Main St",
                    "city": "Chicago",
                    "country": "US",
                }
            },
        ).json()
        http.post("/api/v1/cart/items", json={"sku_id": skus[0], "quantity": 1}, headers=bearer)
        cart_before = http.get("/api/v1/cart", headers=bearer).json()

        refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": a["refresh_token"]})
        assert refreshed.status_code == 200
        http.post(
            "/api/v1/auth/logout",
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        )

        b = sign_in(http, phone, "phone B")
        again = {"Authorization": f"Bearer {b['access_token']}"}
        assert http.get("/api/v1/cart", headers=again).json() == cart_before
        wishlist = http.get("/api/v1/wishlist", headers=again).json()
        assert [i["product_id"] for i in wishlist["items"]] == [products[2]["id"]]
        stored = http.get(f"/api/v1/profile/orders/{order['id']}", headers=again).json()
        assert stored["items"] == order["items"] and stored["total_amount"] == order["total_amount"]
        listed = http.get("/api/v1/profile/orders", headers=again).json()
        assert [o["id"] for o in listed["items"]] == [order["id"]]
    logs = server.logs()
    assert a["access_token"] not in logs and a["refresh_token"] not in logs
