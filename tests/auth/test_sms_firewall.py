"""The SMS cost firewall answers 429 with Retry-After, in memory and shared through Redis."""

from datetime import timedelta

import pytest

from keyturn.app import create_app
from tests.conftest import http_client
from tests.factories import new_phone
from tests.problems import assert_problem


def tight(make_settings, **extra):
    return make_settings(
        otp={
            "resend_cooldown": timedelta(0),
            "per_phone": "2/hour",
            "per_ip": "3/hour",
            "per_country": "1000/hour",
            "global_daily": "1000/day",
        },
        **extra,
    )


async def send(client, phone, ip_client=None):
    return await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
    )


@pytest.mark.parametrize("storage", ["memory", "redis"])
async def test_per_phone_and_per_ip_caps(make_settings, request, storage) -> None:
    extra = {}
    if storage == "redis":
        extra["redis_url"] = request.getfixturevalue("redis_server").url
        import redis

        redis.Redis.from_url(extra["redis_url"]).flushall()
    app = create_app(tight(make_settings, **extra))
    async with http_client(app) as client:
        phone = new_phone()
        assert (await send(client, phone)).status_code == 200
        assert (await send(client, phone)).status_code == 200
        capped = await send(client, phone)
        assert_problem(capped, 429, "rate_limited")
        assert capped.json()["limit"] == "phone"
        assert 0 < int(capped.headers["retry-after"]) <= 3600

        # The refused request cost nothing: the IP has spent 2 of 3.
        assert (await send(client, new_phone())).status_code == 200
        ip_capped = await send(client, new_phone())
        assert_problem(ip_capped, 429, "rate_limited")
        assert ip_capped.json()["limit"] == "ip"
    await app.state.databases.dispose()


async def test_two_instances_share_the_budget_through_redis(make_settings, redis_server) -> None:
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    settings = tight(make_settings, redis_url=redis_server.url)
    first, second = create_app(settings), create_app(settings)
    async with http_client(first) as a, http_client(second) as b:
        phone = new_phone()
        assert (await send(a, phone)).status_code == 200
        assert (await send(b, phone)).status_code == 200
        assert (await send(a, phone)).status_code == 429
    for app in (first, second):
        await app.state.databases.dispose()


async def test_unreachable_redis_fails_closed_with_503(make_settings) -> None:
    from tests.harness.postgres import free_port

    app = create_app(tight(make_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    async with http_client(app) as client:
        r = await send(client, new_phone())
        assert_problem(r, 503, "unavailable")
        ready = await client.get("/ready")
        assert ready.status_code == 503 and "redis" in ready.json()["unavailable"]
    await app.state.databases.dispose()


async def test_global_daily_cap(make_settings) -> None:
    app = create_app(make_settings(otp={"global_daily": "2/day"}))
    async with http_client(app) as client:
        assert (await send(client, new_phone())).status_code == 200
        assert (await send(client, new_phone())).status_code == 200
        r = await send(client, new_phone())
        assert_problem(r, 429, "rate_limited")
        assert r.json()["limit"] == "global"
    await app.state.databases.dispose()
