"""Refresh-token rotation: a lost response never logs anyone out; a superseded token is theft."""

import asyncio
import json

import httpx
from sqlalchemy import select

from keyturn.audit.models import AuditEvent
from keyturn.sessions.models import Session
from tests.factories import auth, sign_in
from tests.problems import assert_problem

US = {"X-Market": "us"}


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token}, headers=US)


async def test_refresh_rotates_to_a_new_pair_on_the_same_session(client) -> None:
    signed = await sign_in(client)
    r = await refresh(client, signed["refresh_token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refresh_token"] != signed["refresh_token"]
    assert body["access_token"] != signed["access_token"]
    assert body["session_id"] == signed["session_id"]
    assert body["user"]["id"] == signed["user"]["id"]
    assert 0 < body["expires_in"] <= 900
    assert (
        await client.get("/api/v1/profile", headers=auth(body["access_token"]))
    ).status_code == 200


async def test_retry_after_a_lost_response_still_works(client) -> None:
    signed = await sign_in(client)
    lost = await refresh(client, signed["refresh_token"])  # the phone never saw this answer
    assert lost.status_code == 200
    retry = await refresh(client, signed["refresh_token"])
    assert retry.status_code == 200
    # The chain continues from the retry's child.
    assert (await refresh(client, retry.json()["refresh_token"])).status_code == 200


async def test_replaying_a_superseded_token_ends_the_session(app, client) -> None:
    signed = await sign_in(client)
    child = (await refresh(client, signed["refresh_token"])).json()
    grandchild = (await refresh(client, child["refresh_token"])).json()

    stolen = await refresh(client, signed["refresh_token"])
    assert stolen.status_code == 401
    assert stolen.json()["code"] == "auth.unauthorized"

    # Every token of the session is dead now, the legitimate one included.
    assert (await refresh(client, grandchild["refresh_token"])).status_code == 401
    profile = await client.get("/api/v1/profile", headers=auth(grandchild["access_token"]))
    assert profile.status_code == 401
    async with app.state.databases.session("us") as db:
        session = await db.get(Session, signed["session_id"])
        assert session is not None and session.revoke_reason == "refresh_reuse"
        events = (await db.scalars(select(AuditEvent.event))).all()
    assert "refresh.reuse_detected" in events


async def test_sibling_of_the_redeemed_chain_is_theft(client) -> None:
    signed = await sign_in(client)
    first = (await refresh(client, signed["refresh_token"])).json()
    second = (await refresh(client, signed["refresh_token"])).json()  # concurrent twin
    assert (await refresh(client, first["refresh_token"])).status_code == 200
    assert (await refresh(client, second["refresh_token"])).status_code == 401


async def test_twenty_concurrent_refreshes_of_one_token_leave_one_live_chain(app, client) -> None:
    signed = await sign_in(client)
    answers = await asyncio.gather(*(refresh(client, signed["refresh_token"]) for _ in range(20)))
    assert {r.status_code for r in answers} == {200}
    children = [r.json()["refresh_token"] for r in answers]
    assert len(set(children)) == 20
    assert {r.json()["session_id"] for r in answers} == {signed["session_id"]}

    # The first child redeemed decides the chain; the others are superseded.
    assert (await refresh(client, children[0])).status_code == 200
    assert (await refresh(client, children[1])).status_code == 401
    async with app.state.databases.session("us") as db:
        sessions = (await db.scalars(select(Session))).all()
    assert len(sessions) == 1  # concurrency never created a second session


async def test_garbage_and_unknown_refresh_tokens_are_401(client) -> None:
    for token in ["x" * 43, "not-a-token-but-long-enough-1234567890"]:
        r = await refresh(client, token)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert (await client.post("/api/v1/auth/refresh", json={}, headers=US)).status_code == 401


async def test_any_string_that_is_not_a_live_refresh_token_is_the_same_401(client) -> None:
    """A mobile client treats 401 as "sign in again": a short, long, empty or strange string
    must get exactly the answer an unknown token gets, never a 422."""
    signed = await sign_in(client)
    reference = await refresh(client, "us." + "x" * 43)
    assert_problem(reference, 401, "auth.unauthorized")
    for token in [
        "",
        "x",
        "garbage",
        "us.",
        "kg.short",
        "x" * 201,
        "us." + "y" * 5000,
        "é" * 300,
        "us." + "\ud800" * 43,
        "us.\x00" + "z" * 42,
    ]:
        # Sent as JSON escapes (`\\ud800`), as a client could; a lone surrogate cannot be UTF-8.
        body = json.dumps({"refresh_token": token})
        r = await client.post(
            "/api/v1/auth/refresh",
            content=body,
            headers={**US, "Content-Type": "application/json"},
        )
        assert r.status_code == 401, (token[:20], r.text)
        assert r.json() == reference.json()
        assert r.headers["www-authenticate"] == reference.headers["www-authenticate"]
    # Nothing was spent: the real token still works.
    assert (await refresh(client, signed["refresh_token"])).status_code == 200


async def test_a_refresh_token_of_the_wrong_json_type_is_a_422(client) -> None:
    for value in [12345678901234567890, ["us.abc"], {"token": "x"}, True]:
        r = await client.post("/api/v1/auth/refresh", json={"refresh_token": value}, headers=US)
        assert_problem(r, 422, "request.invalid")


async def test_refresh_after_logout_is_refused(client) -> None:
    signed = await sign_in(client)
    await client.post("/api/v1/auth/logout", headers=auth(signed["access_token"]))
    assert (await refresh(client, signed["refresh_token"])).status_code == 401


async def test_session_past_its_absolute_lifetime_cannot_refresh(app, client) -> None:
    from datetime import timedelta

    from keyturn.db import utcnow

    signed = await sign_in(client)
    async with app.state.databases.session("us") as db:
        session = await db.get(Session, signed["session_id"])
        assert session is not None
        session.created_at = session.created_at - timedelta(days=31)
        session.expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    assert (await refresh(client, signed["refresh_token"])).status_code == 401
    assert (
        await client.get("/api/v1/profile", headers=auth(signed["access_token"]))
    ).status_code == 401


async def test_refresh_finds_its_market_without_x_market(client) -> None:
    signed = await sign_in(client, market="us")
    assert signed["refresh_token"].startswith("us.")
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]})
    assert r.status_code == 200 and r.json()["user"]["market"] == "us"


async def test_refresh_token_with_another_markets_header_is_403_and_not_spent(client) -> None:
    signed = await sign_in(client, market="us")
    r = await client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": signed["refresh_token"]},
        headers={"X-Market": "kg"},
    )
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    assert (await refresh(client, signed["refresh_token"])).status_code == 200


async def test_a_forged_market_prefix_finds_nothing(client) -> None:
    signed = await sign_in(client, market="us")
    forged = "kg." + signed["refresh_token"].split(".", 1)[1]
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": forged})
    assert r.status_code == 401
