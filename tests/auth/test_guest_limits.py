"""What a guest may own (a cart and a wishlist), how many a client address may start, and the
sweep that removes idle guests and the stored files nobody refers to any more.

The attack (issue 10, item 3): 150 `POST /auth/guest` in 5 s were all 201, each with a fresh
10-upload quota, never cleaned up; a guest's uploads stayed on disk after its merge.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from keyturn.app import create_app
from keyturn.config import GuestSettings, Settings
from keyturn.db import utcnow
from keyturn.sessions.models import Session
from keyturn.users.models import User
from tests.factories import (
    add_to_cart,
    auth,
    create_product,
    make_admin,
    sign_in,
    start_guest,
    upload,
)
from tests.harness.server import KEYTURN, LiveServer
from tests.problems import assert_problem

US = {"X-Market": "us"}


async def test_guests_cannot_upload(client: httpx.AsyncClient, settings: Settings) -> None:
    guest = (await start_guest(client))["access_token"]
    assert_problem(await upload(client, guest), 403, "files.sign_in_required")
    usage = (await client.get("/api/v1/usage", headers=auth(guest))).json()
    assert all(c["used"] == 0 for c in usage["counters"])
    assert not list((settings.data_dir / "files").rglob("*"))
    assert not list((settings.data_dir / "tmp").glob("*"))


async def test_guest_sessions_are_limited_per_client_address(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(guests=GuestSettings(per_ip="3/hour")))
    near = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    far = httpx.ASGITransport(app=app, client=("198.51.100.9", 50000))
    try:
        async with (
            httpx.AsyncClient(transport=near, base_url="http://t", headers=US) as here,
            httpx.AsyncClient(transport=far, base_url="http://t", headers=US) as there,
        ):
            started = [await here.post("/api/v1/auth/guest") for _ in range(4)]
            assert [r.status_code for r in started] == [201, 201, 201, 429]
            assert_problem(started[-1], 429, "rate_limited")
            assert int(started[-1].headers["retry-after"]) > 0
            assert (await there.post("/api/v1/auth/guest")).status_code == 201
    finally:
        await app.state.databases.dispose()


async def age(app, market: str, user_id: int, days: int) -> None:
    """Make a user and their sessions look `days` old."""
    then = utcnow() - timedelta(days=days)
    async with app.state.databases.session(market) as db:
        await db.execute(update(User).where(User.id == user_id).values(created_at=then))
        await db.execute(
            update(Session)
            .where(Session.user_id == user_id)
            .values(created_at=then, last_seen_at=then)
        )
        await db.commit()


def stored_object(settings: Settings, key: str, *, days_old: int) -> Path:
    path = settings.data_dir / "files" / key[:2] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    then = time.time() - days_old * 86400
    os.utime(path, (then, then))
    return path


def run_cli(settings: Settings, *args: str) -> str:
    env = {**os.environ, "KEYTURN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["KEYTURN_DATABASE_URL"] = settings.database_url
    done = subprocess.run(
        [str(KEYTURN), *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


async def test_purge_guests_removes_idle_guests_and_files_nobody_owns(
    app, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = (await make_admin(app, client))["access_token"]
    sku = (await create_product(client, admin))["skus"][0]["id"]
    idle = await start_guest(client)
    await add_to_cart(client, idle["access_token"], sku)
    fresh = await start_guest(client)
    customer = await sign_in(client)
    await age(app, "us", idle["user"]["id"], 40)
    await age(app, "us", customer["user"]["id"], 400)
    # A guest from before uploads were refused: its file goes when the guest does.
    legacy = await sign_in(client)
    assert (await upload(client, legacy["access_token"])).status_code == 201
    async with app.state.databases.session("us") as db:
        await db.execute(update(User).where(User.id == legacy["user"]["id"]).values(role="guest"))
        await db.commit()
    await age(app, "us", legacy["user"]["id"], 40)
    os.utime(next((settings.data_dir / "files").glob("??/*")), (0, 0))
    crashed = stored_object(settings, "ab" * 16, days_old=2)  # stored, never committed
    in_flight = stored_object(settings, "cd" * 16, days_old=0)  # still within the grace

    out = run_cli(settings, "purge-guests", "--older-than", "30d")
    assert "us: 2 idle guests removed" in out and "2 orphaned stored files removed" in out, out

    assert (await client.get("/api/v1/cart", headers=auth(idle["access_token"]))).status_code == 401
    assert (
        await client.get("/api/v1/cart", headers=auth(fresh["access_token"]))
    ).status_code == 200
    profile = await client.get("/api/v1/profile", headers=auth(customer["access_token"]))
    assert profile.status_code == 200  # only guests are purged, however old
    remaining = [p.name for p in (settings.data_dir / "files").glob("??/*")]
    assert remaining == [in_flight.name] and not crashed.exists()


@pytest.mark.slow
async def test_serve_sweeps_idle_guests_by_itself(
    start_live_server: Callable[..., LiveServer],
) -> None:
    server = start_live_server(KEYTURN_GUESTS__IDLE_TTL="PT2S", KEYTURN_GUESTS__SWEEP_EVERY="PT1S")
    async with httpx.AsyncClient(base_url=server.url, headers=US, timeout=10) as http:
        guest = (await http.post("/api/v1/auth/guest")).json()["access_token"]
        assert (await http.get("/api/v1/cart", headers=auth(guest))).status_code == 200
        deadline = time.monotonic() + 20
        status = 200
        while status == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            status = (await http.get("/api/v1/cart", headers=auth(guest))).status_code
        assert status == 401
