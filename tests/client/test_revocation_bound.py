"""The example downstream service follows keyturn's revocation feed: after a logout it refuses
the token within the documented bound (docs/revocation-feed.md), and never asks keyturn
about a token (no introspection)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from examples.downstream_service.app import create_app
from keyturn.client import KeyturnVerifier, RevocationFeed
from tests.factories import auth, sign_in

SERVICE_TOKEN = "svc-" + "t" * 40
CHECK_EVERY = 0.5  # keyturn's default `revocations.check_every`
# The documented bound: keyturn's check interval plus one round trip of the feed (and of the
# request that notices it); docs/revocation-feed.md. Generous for a busy CI machine.
BOUND = CHECK_EVERY + 1.0


class Counting(httpx.AsyncBaseTransport):
    """Passes requests to keyturn and remembers their paths."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def settings(make_settings):
    return make_settings(revocations={"service_tokens": [SERVICE_TOKEN]})


async def test_a_logged_out_token_is_refused_downstream_within_the_bound(app, client) -> None:
    to_keyturn = Counting(app)
    feed = RevocationFeed(
        "http://keyturn.test", service_token=SERVICE_TOKEN, wait=10, transport=to_keyturn
    )
    verifier = KeyturnVerifier("http://keyturn.test", transport=to_keyturn, revocations=feed)
    downstream = create_app(verifier, feed)
    await feed.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=downstream), base_url="http://recommendations.test"
        ) as service:
            user = await sign_in(client)
            other = await sign_in(client, user["user"]["phone_number"], device_name="other")
            for signed in (user, other):
                ok = await service.get("/recommendations", headers=auth(signed["access_token"]))
                assert ok.status_code == 200, ok.text
            await asyncio.sleep(0.3)  # the follower is waiting in its long-poll

            logged_out = time.monotonic()
            await client.post(
                "/api/v1/auth/logout",
                json={"scope": "current"},
                headers=auth(user["access_token"]),
            )
            while True:
                answer = await service.get("/recommendations", headers=auth(user["access_token"]))
                if answer.status_code == 401:
                    break
                assert answer.status_code == 200
                assert time.monotonic() - logged_out < 10, "never refused"
                await asyncio.sleep(0.01)
            took = time.monotonic() - logged_out
            print(f"refused downstream {took:.3f} s after the logout (bound {BOUND} s)")
            assert took <= BOUND
            assert "session has ended" in answer.json()["detail"]
            still = await service.get("/recommendations", headers=auth(other["access_token"]))
            assert still.status_code == 200  # only that device's session ended
    finally:
        await feed.aclose()
        await verifier.aclose()
    assert "/api/v1/auth/verify-token" not in to_keyturn.paths
    assert set(to_keyturn.paths) == {"/.well-known/jwks.json", "/api/v1/auth/revocations"}


async def test_a_feed_that_is_not_followed_fails_closed(app, client) -> None:
    now = [0.0]
    feed = RevocationFeed(
        "http://keyturn.test",
        service_token=SERVICE_TOKEN,
        wait=5,
        max_lag=6,
        transport=httpx.ASGITransport(app=app),
        clock=lambda: now[0],
    )
    verifier = KeyturnVerifier(
        "http://keyturn.test", transport=httpx.ASGITransport(app=app), revocations=feed
    )
    downstream = create_app(verifier, feed)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=downstream), base_url="http://recommendations.test"
    ) as service:
        user = await sign_in(client)
        before_sync = await service.get("/recommendations", headers=auth(user["access_token"]))
        await feed.sync(wait=0)
        synced = await service.get("/recommendations", headers=auth(user["access_token"]))
        now[0] += 7  # nothing heard from the feed for longer than max_lag
        stale = await service.get("/recommendations", headers=auth(user["access_token"]))
    await verifier.aclose()
    await feed.aclose()
    assert before_sync.status_code == 503
    assert synced.status_code == 200
    assert stale.status_code == 503 and stale.headers["retry-after"]
