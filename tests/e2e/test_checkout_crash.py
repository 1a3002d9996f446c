"""A crash in the middle of a checkout burst loses nothing: the real server on PostgreSQL is
SIGKILLed while checkouts are in flight, restarted, and the books must balance."""

import asyncio
import os
import subprocess
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.harness.server import KEYTURN, LiveServer

pytestmark = pytest.mark.slow

INITIAL_STOCK = 500
BUYERS = 40


async def sign_in(http: httpx.AsyncClient, phone: str) -> dict:
    await http.post("/api/v1/auth/send-verification", json={"phone": phone})
    code = (await http.get("/api/v1/dev/outbox", params={"to": phone})).json()["items"][0]["code"]
    r = await http.post(
        "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}
    )
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADDRESS = {
    "shipping_address": {
        "full_name": "Crash Test",
        "phone": "+13125550100",
        "line1": "1 Main St",
        "city": "Chicago",
        "country": "US",
    }
}


async def test_sigkill_mid_checkout_burst_loses_no_acknowledged_order(pg, tmp_path) -> None:
    name = f"crash_{uuid.uuid4().hex[:8]}"
    for market in ("kg", "us"):
        pg.create_database(f"{name}_{market}")
    env = {
        "KEYTURN_DATABASE_URL": pg.url(f"{name}_{{market}}"),
        "KEYTURN_LOAD_DEMO_CATALOG": "false",
        "KEYTURN_OTP__PER_IP": "10000/hour",
        "KEYTURN_OTP__VERIFY_PER_IP": "10000/minute",
    }
    subprocess.run(
        [str(KEYTURN), "migrate"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = LiveServer(tmp_path / "data", env=env).start()
    engine = create_async_engine(pg.url(f"{name}_us"))
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-Market": "us"}, timeout=30
        ) as http:
            admin = await sign_in(http, "+13125550001")
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE users SET role = 'admin' WHERE id = :id"),
                    {"id": admin["user"]["id"]},
                )
            admin = await sign_in(http, "+13125550001")
            product = (
                await http.post(
                    "/api/v1/admin/products",
                    headers=bearer(admin["access_token"]),
                    json={
                        "name": "Crash kit",
                        "skus": [
                            {"code": "CRASH-1", "price": "3.10", "stock": INITIAL_STOCK},
                            {"code": "CRASH-2", "price": "7.25", "stock": INITIAL_STOCK},
                        ],
                    },
                )
            ).json()
            skus = [s["id"] for s in product["skus"]]
            buyers = [await sign_in(http, f"+1312555{2000 + i:04d}") for i in range(BUYERS)]
            for i, buyer in enumerate(buyers):
                for sku_id in skus:
                    r = await http.post(
                        "/api/v1/cart/items",
                        headers=bearer(buyer["access_token"]),
                        json={"sku_id": sku_id, "quantity": 1 + i % 3},
                    )
                    assert r.status_code in (200, 201), r.text

            acknowledged: list[dict] = []
            keys = {b["user"]["id"]: uuid.uuid4().hex for b in buyers}

            async def check_out(buyer: dict) -> None:
                try:
                    r = await http.post(
                        "/api/v1/orders",
                        json=ADDRESS,
                        headers=bearer(buyer["access_token"])
                        | {"Idempotency-Key": keys[buyer["user"]["id"]]},
                    )
                except httpx.HTTPError:
                    return  # the server died under this request: not acknowledged
                if r.status_code == 201:
                    acknowledged.append(r.json())
                    if len(acknowledged) == 8:
                        server.kill()

            await asyncio.gather(*(check_out(b) for b in buyers))
            assert server.proc is not None and server.proc.poll() is not None, "server never died"
            assert 8 <= len(acknowledged) < BUYERS

        restarted = LiveServer(tmp_path / "data", env=env).start()
        try:
            async with httpx.AsyncClient(
                base_url=restarted.url, headers={"X-Market": "us"}, timeout=30
            ) as http:
                for seen in acknowledged:
                    stored = await http.get(
                        f"/api/v1/admin/orders/{seen['id']}", headers=bearer(admin["access_token"])
                    )
                    assert stored.status_code == 200
                    assert stored.json()["items"] == seen["items"]
                    assert stored.json()["total_amount"] == seen["total_amount"]
                # Retrying every checkout with its key finishes the burst without doubles.
                for buyer in buyers:
                    r = await http.post(
                        "/api/v1/orders",
                        json=ADDRESS,
                        headers=bearer(buyer["access_token"])
                        | {"Idempotency-Key": keys[buyer["user"]["id"]]},
                    )
                    assert r.status_code == 201, r.text
        finally:
            restarted.stop()

        async with engine.connect() as conn:
            half_orders = await conn.scalar(
                text(
                    "SELECT count(*) FROM orders o WHERE NOT EXISTS "
                    "(SELECT 1 FROM order_items i WHERE i.order_id = o.id)"
                )
            )
            wrong_totals = await conn.scalar(
                text(
                    "SELECT count(*) FROM orders o WHERE o.total_amount <> "
                    "(SELECT sum(line_total) FROM order_items i WHERE i.order_id = o.id)"
                )
            )
            orders = await conn.scalar(text("SELECT count(*) FROM orders"))
            balance = (
                await conn.execute(
                    text(
                        "SELECT s.id, s.stock + coalesce((SELECT sum(quantity) FROM order_items i "
                        "WHERE i.sku_id = s.id), 0) FROM skus s"
                    )
                )
            ).all()
            leftover_cart_lines = await conn.scalar(text("SELECT count(*) FROM cart_items"))
        assert half_orders == 0 and wrong_totals == 0
        assert orders == BUYERS  # one order per buyer: none lost, none doubled
        assert all(total == INITIAL_STOCK for _, total in balance), balance
        assert leftover_cart_lines == 0
    finally:
        server.kill()
        await engine.dispose()
