"""SMS codes: attempts, expiry, single use, resend rules, throttles."""

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from keyturn.app import create_app
from keyturn.auth.models import PhoneChallenge
from keyturn.db import utcnow
from keyturn.users.models import User
from tests.conftest import http_client
from tests.factories import latest_code, new_phone
from tests.problems import assert_problem

US = {"X-Market": "us"}


async def send(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post("/api/v1/auth/send-verification", json={"phone": phone}, headers=US)


async def verify(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}, headers=US
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
def no_cooldown(make_settings):
    return make_settings(otp={"resend_cooldown": timedelta(0)})


async def test_five_wrong_codes_then_the_right_one_is_refused(client) -> None:
    phone = new_phone()
    await send(client, phone)
    code = await latest_code(client, phone)
    remaining = []
    for _ in range(5):
        r = await verify(client, phone, wrong(code))
        assert r.status_code == 400
        remaining.append(r.json()["attempts_remaining"])
    assert remaining == [4, 3, 2, 1, 0]
    locked = await verify(client, phone, code)
    assert_problem(locked, 429, "otp.too_many_attempts")
    assert int(locked.headers["retry-after"]) > 0


async def test_resend_does_not_reset_failures(no_cooldown) -> None:
    app = create_app(no_cooldown)
    async with http_client(app) as client:
        phone = new_phone()
        await send(client, phone)
        for _ in range(3):
            await verify(client, phone, wrong(await latest_code(client, phone)))
        await send(client, phone)  # a new code, same failure count
        fresh = await latest_code(client, phone)
        r = await verify(client, phone, wrong(fresh))
        assert r.json()["attempts_remaining"] == 1
        await verify(client, phone, wrong(fresh))
        assert (await verify(client, phone, fresh)).status_code == 429
    await app.state.databases.dispose()


async def test_code_is_single_use(client) -> None:
    phone = new_phone()
    await send(client, phone)
    code = await latest_code(client, phone)
    assert (await verify(client, phone, code)).status_code == 200
    assert_problem(await verify(client, phone, code), 400, "otp.invalid")


async def test_expired_code_is_refused(app, client) -> None:
    phone = new_phone()
    await send(client, phone)
    code = await latest_code(client, phone)
    async with app.state.databases.session("us") as db:
        await db.execute(update(PhoneChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    r = await verify(client, phone, code)
    assert_problem(r, 400, "otp.invalid")
    assert "expired" in r.json()["detail"]


async def test_code_for_one_phone_does_not_sign_in_another(client) -> None:
    phone, other = new_phone(), new_phone()
    await send(client, phone)
    await send(client, other)
    assert (await verify(client, other, await latest_code(client, phone))).status_code in (200, 400)
    # The only way the line above could pass is a coincidentally equal code; check the owner.
    assert (await verify(client, phone, await latest_code(client, phone))).status_code == 200


async def test_resend_within_a_minute_is_429_with_retry_after(client) -> None:
    phone = new_phone()
    assert (await send(client, phone)).status_code == 200
    again = await send(client, phone)
    assert_problem(again, 429, "otp.resend_cooldown")
    assert 1 <= int(again.headers["retry-after"]) <= 60


async def test_codes_are_stored_hashed(app, client) -> None:
    phone = new_phone()
    await send(client, phone)
    code = await latest_code(client, phone)
    async with app.state.databases.session("us") as db:
        stored = await db.scalar(select(PhoneChallenge.code_hash))
    assert stored and code not in stored and len(stored) == 64


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": "12"}, 422, "request.invalid"),
        ({"phone": "not a phone"}, 422, "phone.invalid"),
        ({"phone": "+1 555 000 0000"}, 422, "phone.invalid"),
        ({"phone": "+99"}, 422, "phone.invalid"),
        ({}, 422, "request.invalid"),
        ({"phone": 13125550100}, 422, "request.invalid"),
    ],
)
async def test_bad_numbers_are_422_and_send_nothing(app, client, body, status, code) -> None:
    assert_problem(
        await client.post("/api/v1/auth/send-verification", json=body, headers=US), status, code
    )
    async with app.state.databases.session("us") as db:
        assert (await db.scalars(select(PhoneChallenge))).all() == []


@pytest.mark.parametrize("code", ["12345", "abcdef", "", "1234567890"])
async def test_malformed_codes_are_422_and_cost_no_attempt(app, client, code) -> None:
    phone = new_phone()
    await send(client, phone)
    r = await verify(client, phone, code)
    assert r.status_code in (400, 422)
    async with app.state.databases.session("us") as db:
        challenge = await db.scalar(select(PhoneChallenge))
    assert challenge is not None and challenge.failed_attempts <= (1 if r.status_code == 400 else 0)


async def test_local_numbers_are_read_in_the_markets_country(client) -> None:
    r = await client.post(
        "/api/v1/auth/send-verification", json={"phone": "(312) 555-0199"}, headers=US
    )
    assert r.status_code == 200
    code = await latest_code(client, "+13125550199")
    signed = await verify(client, "+1 312-555-0199", code)
    assert signed.json()["user"]["phone_number"] == "+13125550199"


async def test_markets_can_refuse_sms_to_other_countries(make_settings) -> None:
    app = create_app(
        make_settings(
            markets=[
                {
                    "code": "kg",
                    "currency": "KGS",
                    "language": "ru",
                    "country": "KG",
                    "sms_countries": ["KG"],
                },
                {"code": "us", "currency": "USD", "language": "en", "country": "US"},
            ]
        )
    )
    async with http_client(app) as client:
        r = await client.post(
            "/api/v1/auth/send-verification",
            json={"phone": "+13125550142"},
            headers={"X-Market": "kg"},
        )
        assert_problem(r, 422, "phone.country_not_allowed")
        ok = await client.post(
            "/api/v1/auth/send-verification",
            json={"phone": "+996700123456"},
            headers={"X-Market": "kg"},
        )
        assert ok.status_code == 200
    await app.state.databases.dispose()


async def test_same_phone_in_two_markets_is_two_users(make_settings) -> None:
    from tests.factories import sign_in

    # A traveller: the kg market here also texts US numbers (by default it texts only KG).
    markets = [
        {"code": "kg", "currency": "KGS", "language": "ru", "country": "KG",
         "sms_countries": ["KG", "US"]},
        {"code": "us", "currency": "USD", "language": "en", "country": "US"},
    ]  # fmt: skip
    app = create_app(make_settings(markets=markets))
    async with http_client(app) as client:
        phone = "+13125550177"
        us = await sign_in(client, phone, market="us")
        kg = await sign_in(client, phone, market="kg")
    await app.state.databases.dispose()
    assert us["user"]["market"] == "us" and kg["user"]["market"] == "kg"
    assert us["is_new_user"] and kg["is_new_user"]


async def test_concurrent_verifications_of_one_code_open_one_session(app, client) -> None:
    phone = new_phone()
    await send(client, phone)
    code = await latest_code(client, phone)
    answers = await asyncio.gather(*(verify(client, phone, code) for _ in range(8)))
    assert sorted(r.status_code for r in answers) == [200] + [400] * 7
    async with app.state.databases.session("us") as db:
        assert len((await db.scalars(select(User))).all()) == 1
