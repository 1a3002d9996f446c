"""Password guessing is throttled per account and per IP, in memory and in Redis, without
keeping the real owner out for longer than the (short) window."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from keyturn.app import create_app
from keyturn.auth.password import hashing
from keyturn.config import Settings
from tests.conftest import http_client
from tests.factories import STRONG_PASSWORD, audit_events, auth, login, new_email, register
from tests.harness.redis import RedisServer
from tests.problems import assert_problem


@pytest.fixture(params=["memory", "redis"])
def limiter_backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings overrides for the limiter's storage; Redis is flushed so tests don't share
    counters."""
    if request.param == "memory":
        yield {}
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    redis.Redis.from_url(server.url).flushdb()
    yield {"redis_url": server.url}


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings], limiter_backend: dict[str, Any]
) -> Callable[..., Any]:
    """An app + client with login throttle overrides, on this test's DB and limiter."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def make(**login: str) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(**limiter_backend, login=login)
        app = create_app(settings)
        try:
            async with http_client(app) as client:
                yield client
        finally:
            await app.state.databases.dispose()

    return make


async def test_throttled_account_answers_429_and_its_owner_signs_in_after_the_window(
    make_client: Callable[..., Any],
) -> None:
    async with make_client(failures_per_account="3/2 second") as client:
        email = new_email()
        await register(client, email)
        for _ in range(3):
            assert (await login(client, email, "a wrong guess")).status_code == 401
        throttled = await login(client, email, "a wrong guess")
        body = assert_problem(throttled, 429, "auth.login_throttled")
        assert 1 <= int(throttled.headers["retry-after"]) <= 2
        assert body["limit"] == "account"
        # Even the right password waits: otherwise guessing could go on.
        assert (await login(client, email)).status_code == 429

        await asyncio.sleep(int(throttled.headers["retry-after"]) + 0.2)
        owner = await login(client, email)
        assert owner.status_code == 200, owner.text


async def test_a_successful_sign_in_clears_the_accounts_failures(
    make_client: Callable[..., Any],
) -> None:
    async with make_client(failures_per_account="3/hour") as client:
        email = new_email()
        await register(client, email)
        for _ in range(2):
            await login(client, email, "a wrong guess")
        assert (await login(client, email)).status_code == 200
        for _ in range(2):
            assert (await login(client, email, "a wrong guess")).status_code == 401
        assert (await login(client, email)).status_code == 200


async def test_unknown_emails_are_throttled_like_real_ones(
    make_client: Callable[..., Any],
) -> None:
    async with make_client(failures_per_account="2/hour") as client:
        known, unknown = new_email(), new_email()
        await register(client, known)
        answers = []
        for email in (known, unknown):
            for _ in range(2):
                await login(client, email, "a wrong guess")
            r = await login(client, email, "a wrong guess")
            answers.append((r.status_code, r.json()["code"], r.json()["limit"]))
        assert answers[0] == answers[1] == (429, "auth.login_throttled", "account")


async def test_one_address_guessing_many_accounts_is_throttled(
    make_client: Callable[..., Any],
) -> None:
    async with make_client(failures_per_ip="4/hour") as client:
        victim = new_email()
        await register(client, victim)
        for _ in range(4):
            assert (await login(client, new_email(), "a wrong guess")).status_code == 401
        r = await login(client, victim, STRONG_PASSWORD)
        assert_problem(r, 429, "auth.login_throttled")
        assert r.json()["limit"] == "ip" and int(r.headers["retry-after"]) > 0


async def test_successful_sign_ins_are_not_counted(make_client: Callable[..., Any]) -> None:
    async with make_client(failures_per_account="2/hour", failures_per_ip="2/hour") as client:
        email = new_email()
        await register(client, email)
        for _ in range(5):
            assert (await login(client, email)).status_code == 200


async def test_concurrent_guesses_never_pass_the_account_limit(
    make_client: Callable[..., Any],
) -> None:
    async with make_client(failures_per_account="5/hour") as client:
        email = new_email()
        await register(client, email)
        answers = await asyncio.gather(
            *(login(client, email, f"wrong guess {i}") for i in range(12))
        )
        statuses = [r.status_code for r in answers]
        assert statuses.count(401) == 5 and statuses.count(429) == 7
        assert (await login(client, email)).status_code == 429


async def test_a_sign_in_storm_past_the_hashing_queue_is_refused_with_503_and_changes_nothing(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Password checks wait for one of two hashing threads; past `MAX_WAITING` waiting, a
    sign-in is refused at once (503 `auth.busy`, Retry-After) instead of queueing without end,
    opens no session, and is not counted as a failed attempt."""
    settings = make_settings(
        login={"failures_per_account": "1000/minute", "failures_per_ip": "1000/minute"}
    )
    app = create_app(settings)
    try:
        async with http_client(app) as client:
            email = new_email()
            await register(client, email)
            monkeypatch.setattr(hashing, "MAX_WAITING", 2)
            answers = await asyncio.gather(*(login(client, email) for _ in range(12)))
            statuses = [a.status_code for a in answers]
            assert set(statuses) == {200, 503}, [a.text for a in answers]
            for refused in (a for a in answers if a.status_code == 503):
                assert_problem(refused, 503, "auth.busy")
                assert refused.headers["retry-after"] == "5"
            token = next(a for a in answers if a.status_code == 200).json()["access_token"]
            sessions = await client.get("/api/v1/auth/sessions", headers=auth(token))
            # one session for the registration, one per sign-in that got through
            assert len(sessions.json()["items"]) == 1 + statuses.count(200)
            assert await audit_events(app, "login.failed") == []
            monkeypatch.setattr(hashing, "MAX_WAITING", 64)
            assert (await login(client, email)).status_code == 200  # the storm is over
    finally:
        await app.state.databases.dispose()
