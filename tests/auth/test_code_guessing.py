"""Guessing SMS codes: a stranger's wrong guesses lock out the stranger, not the phone's owner,
and the guesses every address together may make for one phone stay few (docs/sms-firewall.md)."""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.config import Settings
from tests.conftest import http_client
from tests.factories import latest_code, new_phone
from tests.problems import assert_problem

US = {"X-Market": "us"}
OWNER_IP = "198.51.100.20"


@pytest.fixture
async def app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(otp={"resend_cooldown": timedelta(0)}))
    yield application
    await application.state.databases.dispose()


async def send(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post("/api/v1/auth/send-verification", json={"phone": phone}, headers=US)


async def verify(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}, headers=US
    )


def wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 10**6:06d}"


async def test_a_strangers_wrong_codes_do_not_lock_the_owner_out(app: FastAPI) -> None:
    phone = new_phone()
    async with http_client(app, ip=OWNER_IP) as owner, http_client(app) as stranger:
        assert (await send(owner, phone)).status_code == 200
        code = await latest_code(owner, phone)
        remaining = []
        for n in range(1, 6):
            guess = await verify(stranger, phone, wrong(code, n))
            remaining.append(assert_problem(guess, 400, "otp.invalid")["attempts_remaining"])
        assert remaining == [4, 3, 2, 1, 0]
        locked = await verify(stranger, phone, code)  # even the right code: the stranger is out
        assert_problem(locked, 429, "otp.too_many_attempts")
        assert int(locked.headers["retry-after"]) > 0

        signed = await verify(owner, phone, code)
        assert signed.status_code == 200, signed.text
        assert signed.json()["user"]["phone_number"] == phone


async def test_a_stranger_cannot_dodge_the_lock_with_more_addresses_of_one_ipv6_network(
    app: FastAPI,
) -> None:
    phone = new_phone()
    async with AsyncExitStack() as stack:
        owner = await stack.enter_async_context(http_client(app, ip=OWNER_IP))
        assert (await send(owner, phone)).status_code == 200
        code = await latest_code(owner, phone)
        answers = []
        for n in range(1, 8):  # seven addresses of one /64 are one client
            stranger = await stack.enter_async_context(http_client(app, ip=f"2001:db8:1:2::{n}"))
            answers.append((await verify(stranger, phone, wrong(code, n))).status_code)
        assert answers == [400] * 5 + [429] * 2
        assert (await verify(owner, phone, code)).status_code == 200


async def test_guesses_from_every_address_together_stop_at_the_phones_daily_ceiling(
    app: FastAPI,
) -> None:
    """The brute-force bound: 30 wrong codes a day per phone, however many addresses send
    them (6 addresses x 5); then nobody can try, the owner included, until the day is over."""
    phone = new_phone()
    async with AsyncExitStack() as stack:
        owner = await stack.enter_async_context(http_client(app, ip=OWNER_IP))
        assert (await send(owner, phone)).status_code == 200
        code = await latest_code(owner, phone)
        guesses = 0
        for address in range(1, 7):
            stranger = await stack.enter_async_context(http_client(app, ip=f"192.0.2.{address}"))
            for _ in range(5):
                guesses += 1
                r = await verify(stranger, phone, wrong(code, guesses))
                assert_problem(r, 400, "otp.invalid")
            # A resend gives a new code, never more guesses.
            assert (await send(owner, phone)).status_code == 200
            code = await latest_code(owner, phone)
        assert guesses == 30
        late = await stack.enter_async_context(http_client(app, ip="192.0.2.99"))
        refused = await verify(late, phone, wrong(code))
        assert_problem(refused, 429, "otp.too_many_attempts")
        owner_refused = await verify(owner, phone, code)
        assert_problem(owner_refused, 429, "otp.too_many_attempts")
        assert int(owner_refused.headers["retry-after"]) > 3600
