"""The revocation feed lists revoked sessions to services holding a service token, in commit
order, long-polling without holding the database."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.db import utcnow
from keyturn.events import service as events
from keyturn.events.models import Event
from tests.factories import auth, login, register, sign_in, start_guest
from tests.problems import assert_problem

SERVICE_TOKEN = "svc-" + "s" * 40
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
FEED = "/api/v1/auth/revocations"


@pytest.fixture
def settings(make_settings):
    return make_settings(revocations={"service_tokens": [SERVICE_TOKEN], "check_every": 0.05})


async def feed(client, **params) -> dict:
    answer = await client.get(FEED, params=params, headers=SERVICE)
    assert answer.status_code == 200, answer.text
    return answer.json()


def revoked(page: dict) -> dict[str, str]:
    return {item["session_id"]: item["reason"] for item in page["items"]}


async def test_only_a_service_token_reads_the_feed(client) -> None:
    user = await sign_in(client)
    for headers in ({}, auth(user["access_token"]), {"Authorization": "Bearer " + "x" * 44}):
        assert_problem(
            await client.get(FEED, headers=headers), 401, "auth.service_credential_invalid"
        )
    assert (await client.get(FEED, headers=SERVICE)).status_code == 200


async def test_a_deployment_without_service_tokens_refuses_everyone(make_settings) -> None:
    from tests.conftest import http_client

    app = create_app(make_settings())
    async with http_client(app) as client:
        answer = await client.get(FEED, headers=SERVICE)
    await app.state.databases.dispose()
    assert_problem(answer, 401, "auth.service_credential_invalid")


async def test_every_way_a_session_ends_is_in_the_feed(app, client) -> None:
    start = (await feed(client))["next_cursor"]
    a = await sign_in(client, device_name="a")
    phone = a["user"]["phone_number"]
    b = await sign_in(client, phone, device_name="b")
    c = await sign_in(client, phone, device_name="c")
    d = await sign_in(client, phone, device_name="d")
    await client.delete(f"/api/v1/auth/sessions/{b['session_id']}", headers=auth(a["access_token"]))
    await client.post(
        "/api/v1/auth/logout", json={"scope": "current"}, headers=auth(c["access_token"])
    )
    await client.post("/api/v1/auth/logout", json={"scope": "all"}, headers=auth(d["access_token"]))
    person = await register(client)
    other = (await login(client, person["user"]["email"])).json()
    await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "correct horse 🐎 battery", "new_password": "new horse 🐎 ok"},
        headers=auth(person["access_token"]),
    )
    guest = await start_guest(client)
    await sign_in(client, headers=auth(guest["access_token"]))
    reused = await sign_in(client)
    first = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": reused["refresh_token"]}
    )
    await client.post("/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]})
    await client.post("/api/v1/auth/refresh", json={"refresh_token": reused["refresh_token"]})

    listed = revoked(await feed(client, since=start))
    assert listed == {
        b["session_id"]: "revoked_by_user",
        c["session_id"]: "logout",
        a["session_id"]: "logout_all",
        d["session_id"]: "logout_all",
        other["session_id"]: "password_changed",
        guest["session_id"]: "guest_signed_in",
        reused["session_id"]: "refresh_reuse",
    }


async def test_items_say_when_they_can_be_forgotten(client) -> None:
    start = (await feed(client))["next_cursor"]
    user = await sign_in(client)
    await client.post(
        "/api/v1/auth/logout", json={"scope": "current"}, headers=auth(user["access_token"])
    )
    (item,) = (await feed(client, since=start))["items"]
    revoked_at = datetime.fromisoformat(item["revoked_at"])
    expires_at = datetime.fromisoformat(item["expires_at"])
    # The last token of the session ends at most 15 minutes after the revocation; a minute
    # more covers verifiers' leeway and clocks.
    assert expires_at - revoked_at == timedelta(minutes=16)
    assert item["market"] == "us"


async def test_a_new_follower_gets_only_revocations_whose_tokens_may_live(app, client) -> None:
    user = await sign_in(client)
    await client.post(
        "/api/v1/auth/logout", json={"scope": "current"}, headers=auth(user["access_token"])
    )
    long_ago = utcnow() - timedelta(hours=1)
    async with app.state.databases.session("us") as db:  # one from long ago
        db.add(
            Event(
                type="session.revoked",
                created_at=long_ago,
                payload={
                    "session_id": "old" * 8,
                    "user_id": 1,
                    "reason": "logout",
                    "revoked_at": events.timestamp(long_ago),
                    "expires_at": events.timestamp(utcnow() + timedelta(days=1)),
                },
            )
        )
        await db.commit()
    assert revoked(await feed(client)) == {user["session_id"]: "logout"}


async def test_a_long_poll_answers_as_soon_as_a_session_is_revoked(client) -> None:
    cursor = (await feed(client))["next_cursor"]
    user = await sign_in(client)
    waiting = asyncio.create_task(feed(client, since=cursor, wait=20))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    started = time.monotonic()
    await client.post(
        "/api/v1/auth/logout", json={"scope": "current"}, headers=auth(user["access_token"])
    )
    page = await asyncio.wait_for(waiting, 20)
    print(f"long-poll answered {time.monotonic() - started:.3f} s after the logout")
    assert revoked(page) == {user["session_id"]: "logout"}
    quiet = await feed(client, since=page["next_cursor"], wait=0.2)
    assert quiet["items"] == []


@pytest.mark.parametrize(
    "since", ["nonsense", "us:1:2", "us:1:2:xyz", "us:-1:2:", "us:1:2:,kg", "ü:1:2:"]
)
async def test_a_cursor_it_never_gave_is_422(client, since) -> None:
    answer = await client.get(FEED, params={"since": since}, headers=SERVICE)
    assert_problem(answer, 422, "revocations.cursor_invalid")


async def test_a_revocation_committed_late_is_not_skipped(app: FastAPI, client, backend) -> None:
    """On PostgreSQL an event's id is taken before its transaction commits: a revocation
    whose transaction commits after a later one must still reach the follower."""
    if backend != "postgres":
        pytest.skip("SQLite runs one writer at a time: id order is commit order")
    cursor = (await feed(client))["next_cursor"]
    slow, fast = await sign_in(client), await sign_in(client)
    async with app.state.databases.session("us") as held:
        events.emit(
            held,
            "session.revoked",
            {
                "session_id": slow["session_id"],
                "user_id": slow["user"]["id"],
                "reason": "logout",
                "revoked_at": events.timestamp(utcnow()),
                "expires_at": events.timestamp(utcnow() + timedelta(days=1)),
            },
        )
        await held.flush()  # the lower id, not yet committed
        await client.post(
            "/api/v1/auth/logout", json={"scope": "current"}, headers=auth(fast["access_token"])
        )
        early = await feed(client, since=cursor)
        assert revoked(early) == {fast["session_id"]: "logout"}  # seen at once...
        await held.commit()
    later = await feed(client, since=early["next_cursor"])
    assert slow["session_id"] in revoked(later)  # ...and the earlier id is not lost
