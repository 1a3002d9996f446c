"""Two real `keyturn serve` instances on one PostgreSQL, sharing a keyring, the way a deployment
runs behind a load balancer. A device signs out (or an account is disabled) through instance A
while instance B is serving that token under load: B refuses it on the very next request it
starts after A answered. Nothing about sessions is cached, on any instance."""

import asyncio
import os
import subprocess
import time
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.harness.server import KEYTURN, LiveServer

pytestmark = pytest.mark.slow

WORKERS = 8
MAX_REQUESTS = 1500  # bound on the load against B
MAX_SECONDS = 60


async def sign_in(http: httpx.AsyncClient, phone: str) -> dict:
    assert (await http.post("/api/v1/auth/send-verification", json={"phone": phone})).is_success
    outbox = await http.get("/api/v1/dev/outbox", params={"to": phone})
    code = outbox.json()["items"][0]["code"]
    r = await http.post(
        "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}
    )
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Load:
    """WORKERS clients looping GET /cart and GET /profile on one instance with a set of tokens,
    recording (token, started, finished, status) for every request; bounded in count and time."""

    def __init__(self, http: httpx.AsyncClient, tokens: list[str]) -> None:
        self.http, self.tokens = http, tokens
        self.log: list[tuple[str, float, float, int]] = []
        self.stop = asyncio.Event()

    async def worker(self, n: int) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        i = n
        while not self.stop.is_set() and len(self.log) < MAX_REQUESTS:
            assert time.monotonic() < deadline, "load did not finish in time"
            token = self.tokens[i % len(self.tokens)]
            path = "/api/v1/cart" if i % 2 else "/api/v1/profile"
            started = time.monotonic()
            r = await self.http.get(path, headers=bearer(token))
            self.log.append((token, started, time.monotonic(), r.status_code))
            i += 1

    def of(self, token: str) -> list[tuple[float, float, int]]:
        return [(s, f, st) for t, s, f, st in self.log if t == token]


async def test_logout_and_disable_through_one_instance_are_refused_by_the_other_at_once(
    pg, tmp_path
) -> None:
    name = f"twin_{uuid.uuid4().hex[:8]}"
    for market in ("kg", "us"):
        pg.create_database(f"{name}_{market}")
    env = {
        "KEYTURN_DATABASE_URL": pg.url(f"{name}_{{market}}"),
        "KEYTURN_TOKENS__KEYS_FILE": str(tmp_path / "signing-keys.json"),
        "KEYTURN_SECRET_KEY": "twin-instances-test-secret-key-0123456789",
        "KEYTURN_LOAD_DEMO_CATALOG": "false",
        "KEYTURN_LOG_LEVEL": "WARNING",
        "KEYTURN_OTP__PER_IP": "10000/hour",
        "KEYTURN_OTP__VERIFY_PER_IP": "10000/minute",
    }
    for command in (["migrate"], ["keys", "rotate", "--overlap", "0"]):
        subprocess.run(
            [str(KEYTURN), *command],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
    a = LiveServer(tmp_path / "a", env=env).start()
    b = LiveServer(tmp_path / "b", env=env).start()
    engine = create_async_engine(pg.url(f"{name}_us"))
    try:
        limits = httpx.Limits(max_connections=WORKERS)
        async with (
            httpx.AsyncClient(base_url=a.url, headers={"X-Market": "us"}, timeout=30) as on_a,
            httpx.AsyncClient(
                base_url=b.url, headers={"X-Market": "us"}, timeout=30, limits=limits
            ) as on_b,
        ):
            admin = await sign_in(on_a, "+13125550001")
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE users SET role = 'admin' WHERE id = :id"),
                    {"id": admin["user"]["id"]},
                )
            admin = await sign_in(on_a, "+13125550001")
            leaving = await sign_in(on_a, "+13125550002")
            disabled = await sign_in(on_a, "+13125550003")
            staying = [await sign_in(on_a, f"+1312555{10 + i:04d}") for i in range(4)]
            watched = [leaving["access_token"], disabled["access_token"]]
            load = Load(on_b, [*watched, *(s["access_token"] for s in staying)])

            async def revoke() -> list[tuple[float, float]]:
                while len(load.log) < 200:  # B has served (and verified) every token
                    await asyncio.sleep(0.01)
                asked = time.monotonic()
                r = await on_a.post(
                    "/api/v1/auth/logout", json={}, headers=bearer(leaving["access_token"])
                )
                assert r.status_code == 200, r.text
                logged_out = time.monotonic()
                asked_again = time.monotonic()
                r = await on_a.post(
                    f"/api/v1/admin/users/{disabled['user']['id']}/disable",
                    headers=bearer(admin["access_token"]),
                )
                assert r.status_code == 200, r.text
                disabled_at = time.monotonic()
                while len(load.log) < 600:
                    await asyncio.sleep(0.01)
                load.stop.set()
                return [(asked, logged_out), (asked_again, disabled_at)]

            windows, *_ = await asyncio.gather(revoke(), *(load.worker(n) for n in range(WORKERS)))
    finally:
        a.stop()
        b.stop()
        await engine.dispose()

    for token, (asked, answered) in zip(watched, windows, strict=True):
        seen = load.of(token)
        before = [st for s, f, st in seen if f < asked]  # done before A was asked
        after = [st for s, f, st in seen if s > answered]  # started once A had answered
        assert before and set(before) == {200}, seen[:5]
        assert len(after) >= 10, "B served too few requests after the revocation to measure"
        assert set(after) == {401}, after
    for s in staying:
        assert {st for _, _, st in load.of(s["access_token"])} == {200}
