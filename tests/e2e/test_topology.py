"""Two `keyturn serve` instances behind HAProxy, sharing PostgreSQL and Redis, the proxy
trusted (docs/deployment.md): throttles see the real client, a logout on one instance holds
on the other, each webhook attempt is sent once, and killing an instance mid-traffic loses
nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import uuid
from collections import Counter

import httpx
import pytest

from tests.harness.proxy import Proxy
from tests.harness.receiver import Receiver
from tests.harness.server import KEYTURN, LiveServer

pytestmark = pytest.mark.slow

ADMIN_PHONE = "+13125550199"
SIGN_INS = 16


def client(base_url: str, source: str = "127.0.0.2") -> httpx.AsyncClient:
    """A client connecting from `source` (any 127.x address is this machine)."""
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"X-Market": "us"},
        timeout=30,
        transport=httpx.AsyncHTTPTransport(local_address=source),
    )


async def phone_sign_in(http: httpx.AsyncClient, phone: str, device: str = "phone") -> dict:
    sent = await http.post("/api/v1/auth/send-verification", json={"phone": phone})
    assert sent.status_code == 200, sent.text
    code = (await http.get("/api/v1/dev/outbox", params={"to": phone})).json()["items"][0]["code"]
    signed = await http.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": device},
    )
    assert signed.status_code == 200, signed.text
    return signed.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def topology(pg, redis_server, tmp_path):
    """Two instances on one PostgreSQL cluster and one Redis, behind HAProxy."""
    if not Proxy.available():
        pytest.fail("haproxy is not installed; scripts/setup --test installs it")
    name = f"topo_{uuid.uuid4().hex[:8]}"
    for market in ("kg", "us"):
        pg.create_database(f"{name}_{market}")
    env = {
        # What every instance must share: the signing keys and the server secret.
        "KEYTURN_TOKENS__KEYS_FILE": str(tmp_path / "signing-keys.json"),
        "KEYTURN_SECRET_KEY": secrets.token_urlsafe(32),
        "KEYTURN_DATABASE_URL": pg.url(f"{name}_{{market}}"),
        "KEYTURN_REDIS_URL": redis_server.url,
        "KEYTURN_TRUSTED_PROXIES": json.dumps(["127.0.0.1"]),
        "KEYTURN_LOAD_DEMO_CATALOG": "false",
        "KEYTURN_GUESTS__PER_IP": "5/hour",
        "KEYTURN_OTP__PER_IP": "10000/hour",
        "KEYTURN_OTP__VERIFY_PER_IP": "10000/minute",
        "KEYTURN_USAGE__LIMITS": json.dumps({"uploads": 10, "api_calls": 100000}),
        "KEYTURN_WEBHOOKS__ALLOW_NETWORKS": json.dumps(["127.0.0.1/32"]),
        "KEYTURN_WORKER__POLL_INTERVAL": "PT0.1S",
    }
    for command in (
        ["keys", "rotate", "--overlap", "0"],
        ["migrate"],
        ["create-admin", "--phone", ADMIN_PHONE, "--market", "us"],
    ):
        subprocess.run(
            [str(KEYTURN), *command],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
    a = LiveServer(tmp_path / "a", env=env).start()
    b = LiveServer(tmp_path / "b", env=env).start()
    proxy = Proxy(tmp_path / "proxy", [a.port, b.port]).start()
    try:
        yield a, b, proxy
    finally:
        proxy.stop()
        a.stop()
        b.stop()


async def test_two_instances_behind_haproxy(topology) -> None:
    a, b, proxy = topology
    receiver = Receiver().start()
    try:
        await per_ip_throttles_see_the_real_client(proxy)
        await a_logout_on_one_instance_is_refused_by_the_other(a, b)
        await each_webhook_attempt_is_sent_once(proxy, receiver)
        await killing_an_instance_mid_traffic_loses_nothing_acknowledged(a, proxy, receiver)
    finally:
        receiver.stop()


async def per_ip_throttles_see_the_real_client(proxy: Proxy) -> None:
    async with client(proxy.url, "127.0.0.2") as two, client(proxy.url, "127.0.0.3") as three:
        # The limit is 5 guest sessions per address, counted in Redis by both instances.
        first = [(await two.post("/api/v1/auth/guest")).status_code for _ in range(6)]
        # A forged X-Forwarded-For is the client's own claim: it neither hides nor frames.
        forged = await three.post("/api/v1/auth/guest", headers={"X-Forwarded-For": "127.0.0.2"})
        rest = [(await three.post("/api/v1/auth/guest")).status_code for _ in range(4)]
        over = await three.post("/api/v1/auth/guest")
    assert first == [201] * 5 + [429]
    assert forged.status_code == 201 and rest == [201] * 4
    assert over.status_code == 429


async def a_logout_on_one_instance_is_refused_by_the_other(a: LiveServer, b: LiveServer) -> None:
    async with client(a.url) as on_a, client(b.url) as on_b:
        signed = await phone_sign_in(on_a, "+13125550198")
        assert (
            await on_b.get("/api/v1/profile", headers=bearer(signed["access_token"]))
        ).status_code == 200
        out = await on_a.post(
            "/api/v1/auth/logout", json={"scope": "current"}, headers=bearer(signed["access_token"])
        )
        assert out.status_code == 200
        refused = await on_b.get("/api/v1/profile", headers=bearer(signed["access_token"]))
    assert refused.status_code == 401


async def each_webhook_attempt_is_sent_once(proxy: Proxy, receiver: Receiver) -> None:
    async with client(proxy.url) as http:
        admin = await phone_sign_in(http, ADMIN_PHONE)
        endpoint = (
            await http.post(
                "/api/v1/admin/webhooks",
                json={"url": receiver.url, "event_types": ["user.created"]},
                headers=bearer(admin["access_token"]),
            )
        ).json()
        receiver.secrets.append(endpoint["secret"])
        for n in range(SIGN_INS):  # alternating between the instances
            await phone_sign_in(http, f"+1312555{2000 + n:04d}")
        async with asyncio.timeout(60):
            while len(receiver.received) < SIGN_INS:
                await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # anything sent twice would arrive by now
        log = (
            await http.get(
                f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries",
                params={"limit": 100},
                headers=bearer(admin["access_token"]),
            )
        ).json()["items"]
    counts = Counter(r.msg_id for r in receiver.received)
    assert len(counts) == SIGN_INS and set(counts.values()) == {1}
    assert all(r.verified for r in receiver.received)
    assert sorted(d["attempt"] for d in log) == [1] * SIGN_INS


async def killing_an_instance_mid_traffic_loses_nothing_acknowledged(
    a: LiveServer, proxy: Proxy, receiver: Receiver
) -> None:
    async with client(proxy.url) as http:
        user = await phone_sign_in(http, "+13125550197")
        headers = bearer(user["access_token"])
        acknowledged = attempted = after_kill = 0
        killed = asyncio.Event()

        async def traffic() -> None:
            nonlocal acknowledged, attempted, after_kill
            for _ in range(60):
                attempted += 1
                try:
                    answer = await http.post(
                        "/api/v1/usage/api_calls/consume", json={"amount": 1}, headers=headers
                    )
                except httpx.HTTPError:
                    continue  # the connection died with the instance: not acknowledged
                if answer.status_code == 200:
                    acknowledged += 1
                    after_kill += killed.is_set()

        async def kill_soon() -> None:
            await asyncio.sleep(0.5)
            a.kill()
            killed.set()

        before = len(receiver.received)
        await asyncio.gather(*(traffic() for _ in range(4)), kill_soon())
        await phone_sign_in(http, "+13125550196")  # the survivor's loop delivers this
        usage = (await http.get("/api/v1/usage", headers=headers)).json()
        async with asyncio.timeout(60):
            while len(receiver.received) < before + 2:
                await asyncio.sleep(0.1)
    used = next(c["used"] for c in usage["counters"] if c["name"] == "api_calls")
    print(
        f"attempted {attempted}, acknowledged {acknowledged} ({after_kill} after the kill), "
        f"recorded {used}"
    )
    assert after_kill > 0, "the surviving instance served nothing"
    assert acknowledged <= used <= attempted
