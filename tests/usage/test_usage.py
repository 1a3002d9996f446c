"""Usage counters over HTTP: consume atomically, 429 with the counter, admin limits, periods."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from keyturn.app import create_app
from keyturn.config import Settings, UsageSettings
from keyturn.usage.models import UsageCounter
from tests.conftest import http_client
from tests.factories import auth, make_admin, sign_in
from tests.problems import assert_problem


async def counters(client: httpx.AsyncClient, token: str) -> list[dict]:
    r = await client.get("/api/v1/usage", headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["counters"])


async def consume(
    client: httpx.AsyncClient, token: str, amount: object = 1, name: str = "uploads"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/usage/{name}/consume", json={"amount": amount}, headers=auth(token)
    )


async def test_a_new_user_sees_the_plan_default_untouched(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    assert await counters(client, token) == [
        {"name": "uploads", "used": 0, "limit": 10, "remaining": 10, "resets_at": None}
    ]


async def test_consuming_counts_up_and_refuses_past_the_limit(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    r = await consume(client, token, 7)
    assert r.status_code == 200
    assert r.json() == {
        "name": "uploads",
        "used": 7,
        "limit": 10,
        "remaining": 3,
        "resets_at": None,
    }

    over = await consume(client, token, 4)
    body = assert_problem(over, 429, "usage.quota_exceeded")
    assert body["counter"]["used"] == 7 and body["counter"]["remaining"] == 3
    assert over.headers["retry-after"] == "3600"

    assert (await consume(client, token, 3)).json()["remaining"] == 0
    assert (await counters(client, token))[0]["used"] == 10


@pytest.mark.parametrize("amount", [0, -1, "x", 1001, 1.5, None, True])
async def test_bad_amounts_are_refused_and_consume_nothing(
    client: httpx.AsyncClient, amount: object
) -> None:
    token = (await sign_in(client))["access_token"]
    assert_problem(await consume(client, token, amount), 422, "request.invalid")
    assert (await counters(client, token))[0]["used"] == 0


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [("credits", 404, "usage.unknown_counter"), ("Bad Name!", 422, "request.invalid")],
)
async def test_unknown_or_malformed_counter_names_are_refused(
    client: httpx.AsyncClient, name: str, status: int, code: str
) -> None:
    token = (await sign_in(client))["access_token"]
    assert_problem(await consume(client, token, 1, name), status, code)
    assert [c["name"] for c in await counters(client, token)] == ["uploads"]


async def test_usage_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/usage"), 401, "auth.unauthorized")
    r = await client.post("/api/v1/usage/uploads/consume", json={"amount": 1})
    assert_problem(r, 401, "auth.unauthorized")


async def test_parallel_consumers_never_pass_the_limit(client: httpx.AsyncClient) -> None:
    token = (await sign_in(client))["access_token"]
    answers = await asyncio.gather(*(consume(client, token, 3) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 3 + [429] * 5
    assert (await counters(client, token))[0]["used"] == 9


async def test_admin_sets_one_users_limit(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = (await make_admin(app, client))["access_token"]
    user = await sign_in(client)
    token, user_id = user["access_token"], user["user"]["id"]
    await consume(client, token, 10)

    r = await client.put(
        f"/api/v1/admin/users/{user_id}/usage/uploads", json={"limit": 25}, headers=auth(admin)
    )
    assert r.status_code == 200
    assert r.json() == {
        "name": "uploads",
        "used": 10,
        "limit": 25,
        "remaining": 15,
        "resets_at": None,
    }
    assert (await consume(client, token, 15)).status_code == 200

    custom = await client.put(
        f"/api/v1/admin/users/{user_id}/usage/analyses", json={"limit": 2}, headers=auth(admin)
    )
    assert custom.status_code == 200 and custom.json()["used"] == 0
    assert (await consume(client, token, 2, "analyses")).status_code == 200
    assert_problem(await consume(client, token, 1, "analyses"), 429, "usage.quota_exceeded")


@pytest.mark.parametrize(
    ("path_user", "body", "status", "code"),
    [
        (None, {"limit": -1}, 422, "request.invalid"),
        (None, {"limit": "x"}, 422, "request.invalid"),
        (None, {}, 422, "request.invalid"),
        (999999, {"limit": 5}, 404, "not_found"),
    ],
)
async def test_bad_admin_limit_changes_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    path_user: int | None,
    body: dict,
    status: int,
    code: str,
) -> None:
    admin = (await make_admin(app, client))["access_token"]
    user = await sign_in(client)
    user_id = path_user or user["user"]["id"]
    r = await client.put(
        f"/api/v1/admin/users/{user_id}/usage/uploads", json=body, headers=auth(admin)
    )
    assert_problem(r, status, code)
    assert (await counters(client, user["access_token"]))[0]["limit"] == 10


async def test_only_admins_set_limits(client: httpx.AsyncClient) -> None:
    user = await sign_in(client)
    r = await client.put(
        f"/api/v1/admin/users/{user['user']['id']}/usage/uploads",
        json={"limit": 1000},
        headers=auth(user["access_token"]),
    )
    assert_problem(r, 403, "auth.forbidden")
    assert (await counters(client, user["access_token"]))[0]["limit"] == 10


async def test_a_periodic_counter_resets_when_its_period_ends(settings: Settings) -> None:
    daily = settings.model_copy(
        update={
            "usage": UsageSettings(limits={"uploads": 2}, periods={"uploads": timedelta(days=1)})
        }
    )
    app = create_app(daily)
    try:
        async with http_client(app) as client:
            signed = await sign_in(client)
            token = signed["access_token"]
            first = (await consume(client, token, 2)).json()
            resets_at = datetime.fromisoformat(first["resets_at"])
            assert timedelta(hours=23) < resets_at - datetime.now(UTC) <= timedelta(days=1)

            over = await consume(client, token, 1)
            assert_problem(over, 429, "usage.quota_exceeded")
            assert 23 * 3600 < int(over.headers["retry-after"]) <= 24 * 3600

            async with app.state.databases.session("us") as db:
                await db.execute(
                    update(UsageCounter)
                    .where(UsageCounter.user_id == signed["user"]["id"])
                    .values(resets_at=datetime.now(UTC) - timedelta(seconds=1))
                )
                await db.commit()
            assert (await counters(client, token))[0]["used"] == 0
            again = await consume(client, token, 1)
            assert again.status_code == 200 and again.json()["used"] == 1
    finally:
        await app.state.databases.dispose()
