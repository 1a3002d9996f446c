"""Against the real `keyturn serve`: a fresh embedded install shows the demo catalog, and a
cart filled on one device is there after logout and on another device."""

from collections.abc import Iterator

import httpx
import pytest

from tests.factories import new_phone
from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("live-shop")).start()
    yield live
    live.stop()


def sign_in(http: httpx.Client, phone: str, device: str) -> dict[str, str]:
    assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).status_code == 200
    code = http.get("/api/v1/dev/outbox", params={"to": phone}).json()["items"][0]["code"]
    r = http.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": device},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_new_install_sells_the_demo_catalog_and_keeps_the_cart(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        products = http.get("/api/v1/products", params={"limit": 100}).json()["items"]
        assert len(products) >= 30
        sku = next(s for p in products for s in p["skus"] if s["in_stock"])
        assert sku["currency"] == "USD"
        kg = http.get("/api/v1/products", headers={"X-Market": "kg"}).json()["items"]
        assert kg[0]["skus"][0]["currency"] == "KGS"

        phone = new_phone()
        first = sign_in(http, phone, "phone")
        added = http.post(
            "/api/v1/cart/items", json={"sku_id": sku["id"], "quantity": 2}, headers=first
        )
        assert added.status_code == 200, added.text
        cart = added.json()
        assert http.post("/api/v1/auth/logout", headers=first).status_code == 200

        again = sign_in(http, phone, "phone")
        assert http.get("/api/v1/cart", headers=again).json() == cart
        tablet = sign_in(http, phone, "tablet")
        assert http.get("/api/v1/cart", headers=tablet).json() == cart
