"""Codes go only to numbers that can receive an SMS, in the countries a market serves: premium
rate, toll-free and landline numbers, and other countries, are the SMS-pumping bill."""

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from keyturn.app import create_app
from keyturn.auth.models import PhoneChallenge
from keyturn.config import Settings
from keyturn.notify.models import DevMessage
from tests.conftest import http_client
from tests.factories import auth, register
from tests.problems import assert_problem


async def send(client: httpx.AsyncClient, phone: str, market: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": market}
    )


async def nothing_sent(app: FastAPI) -> bool:
    for market in ("kg", "us"):
        async with app.state.databases.session(market) as db:
            if (await db.scalars(select(PhoneChallenge))).all():
                return False
            if (await db.scalars(select(DevMessage))).all():
                return False
    return True


@pytest.mark.parametrize(
    ("phone", "market"),
    [
        ("+19002000123", "us"),  # US premium rate (900)
        ("+18005551234", "us"),  # US toll-free
        ("+996312123456", "kg"),  # Bishkek landline
    ],
)
async def test_numbers_that_cannot_receive_sms_get_no_code(
    app: FastAPI, client: httpx.AsyncClient, phone: str, market: str
) -> None:
    refused = await send(client, phone, market)
    assert_problem(refused, 422, "phone.not_mobile")
    assert await nothing_sent(app)


@pytest.mark.parametrize(
    ("phone", "market"),
    [
        ("+449091234567", "us"),  # UK premium rate
        ("+447911123456", "us"),  # a UK (Guernsey) mobile: not a country the us market serves
        ("+18765550100", "us"),  # Jamaica shares +1 and is a classic pumping destination
        ("+996700123456", "us"),
        ("+13125550100", "kg"),
        ("+79161234567", "kg"),
    ],
)
async def test_default_markets_text_only_their_own_countries(
    app: FastAPI, client: httpx.AsyncClient, phone: str, market: str
) -> None:
    refused = await send(client, phone, market)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] in ("phone.country_not_allowed", "phone.not_mobile")
    assert await nothing_sent(app)


@pytest.mark.parametrize(
    ("phone", "market"),
    [
        ("+13125550100", "us"),
        ("+14155552671", "us"),
        ("+996700123456", "kg"),
        ("+996555123456", "kg"),
    ],
)
async def test_mobile_numbers_of_the_markets_country_get_a_code(
    client: httpx.AsyncClient, phone: str, market: str
) -> None:
    assert (await send(client, phone, market)).status_code == 200


async def test_a_premium_number_is_refused_even_where_its_country_is_allowed(
    make_settings: Callable[..., Settings],
) -> None:
    markets = [
        {"code": "kg", "currency": "KGS", "language": "ru", "country": "KG"},
        {"code": "us", "currency": "USD", "language": "en", "country": "US",
         "sms_countries": ["US", "GB"]},
    ]  # fmt: skip
    app = create_app(make_settings(markets=markets))
    try:
        async with http_client(app) as client:
            assert_problem(await send(client, "+449091234567", "us"), 422, "phone.not_mobile")
            assert (await send(client, "+447400123456", "us")).status_code == 200  # configured
    finally:
        await app.state.databases.dispose()


async def test_linking_a_premium_number_sends_no_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await register(client)
    refused = await client.post(
        "/api/v1/auth/link/phone/send",
        json={"phone": "+19002000123"},
        headers=auth(created["access_token"]),
    )
    assert_problem(refused, 422, "phone.not_mobile")
    assert await nothing_sent(app)
