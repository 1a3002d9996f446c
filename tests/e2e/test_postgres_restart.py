"""PostgreSQL restarting under traffic: requests answer 503 with Retry-After while it is
away, never 500, and keyturn recovers by itself.

The attack (issue 10, item 6): asyncpg's `CannotConnectNowError` ("the database system is
starting up") and `ConnectionDoesNotExistError` arrived as a bare `DBAPIError`: a 500.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tests.factories import auth, sign_in
from tests.harness.postgres import PostgresCluster
from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow

CLIENTS = 6
MAX_REQUESTS = 3000  # per client: the load is bounded in count and in time


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_postgres_restart_is_503s_never_500s(
    start_live_server: Callable[..., LiveServer], pg: PostgresCluster
) -> None:
    server = start_live_server()
    statuses: Counter[int] = Counter()
    unavailable: list[httpx.Response] = []
    stop = asyncio.Event()

    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Market": "us"}, timeout=15
    ) as http:
        token = (await sign_in(http))["access_token"]

        async def traffic(n: int) -> None:
            path = "/api/v1/cart" if n % 2 else "/api/v1/products"
            for _ in range(MAX_REQUESTS):
                if stop.is_set():
                    return
                try:
                    r = await http.get(path, headers=auth(token))
                except httpx.HTTPError:
                    statuses[0] += 1
                    continue
                statuses[r.status_code] += 1
                if r.status_code == 503:
                    unavailable.append(r)
                await asyncio.sleep(0.01)

        clients = [asyncio.create_task(traffic(n)) for n in range(CLIENTS)]
        try:
            for mode in ("fast", "immediate"):
                await asyncio.sleep(1)
                await asyncio.to_thread(pg.stop, mode)
                await asyncio.sleep(1.5)  # requests meet a database that is gone
                await asyncio.to_thread(pg.start_again)
            deadline = time.monotonic() + 30
            recovered = False
            while not recovered and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                r = await http.get("/api/v1/cart", headers=auth(token))
                recovered = r.status_code == 200
        finally:
            stop.set()
            await asyncio.gather(*clients)
        ready = await http.get("/ready")

    print(f"\nstatuses during two restarts: {dict(statuses)}")
    assert statuses[500] == 0, dict(statuses)
    assert set(statuses) <= {200, 503}, dict(statuses)
    assert unavailable, "the restarts were never noticed"
    for r in unavailable:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["retry-after"]) >= 1
    assert recovered and ready.status_code == 200
    assert "unhandled_error" not in server.logs()
