"""The seed shop app's shapes on /api/v1 (`KEYTURN_COMPAT` includes `mobile-v0`): the
`user` object's `phone` and `name`, the market of a number without `X-Market`, logout of
every device, and JSON sent the way the seed's curl commands send it."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.config import Settings
from tests.conftest import http_client
from tests.factories import auth, new_phone, open_shop, sign_in

# A traveller's markets: kg also texts US numbers (by default each texts only its own).
TRAVELLER_MARKETS = [
    {"code": "kg", "currency": "KGS", "language": "ru", "country": "KG",
     "sms_countries": ["KG", "US"]},
    {"code": "us", "currency": "USD", "language": "en", "country": "US"},
]  # fmt: skip


@pytest.fixture
async def off_app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(compat="", markets=TRAVELLER_MARKETS))
    yield app
    await app.state.databases.dispose()


@pytest.fixture
async def traveller_client(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(markets=TRAVELLER_MARKETS))
    async with http_client(app) as client:
        yield client
    await app.state.databases.dispose()


async def verify_without_market(
    client: httpx.AsyncClient, phone: str, lands_in: str
) -> httpx.Response:
    """The seed app's own login code: no `X-Market` on either call."""
    sent = await client.post("/api/v1/auth/send-verification", json={"phone": phone})
    assert sent.status_code == 200, sent.text
    outbox = await client.get(
        "/api/v1/dev/outbox", params={"to": phone}, headers={"X-Market": lands_in}
    )
    code = outbox.json()["items"][0]["code"]
    return await client.post(
        "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}
    )


async def test_user_objects_carry_the_seeds_phone_and_name(client: httpx.AsyncClient) -> None:
    signed = await sign_in(client)
    user = signed["user"]
    assert user["phone"] == user["phone_number"] and user["name"] is None
    token = signed["access_token"]
    renamed = await client.patch("/api/v1/profile", json={"full_name": "Ada"}, headers=auth(token))
    assert renamed.json()["name"] == "Ada" and renamed.json()["phone"] == user["phone_number"]
    profile = (await client.get("/api/v1/profile", headers=auth(token))).json()
    assert profile["name"] == "Ada" and profile["phone"] == user["phone_number"]
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": signed["refresh_token"]}
    )
    assert refreshed.json()["user"]["name"] == "Ada"
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    user_schema = schema.get("UserRead-Output") or schema["UserRead"]
    assert {"phone", "name"} <= user_schema["properties"].keys()


async def test_without_mobile_v0_the_user_has_only_keyturns_names(off_app: FastAPI) -> None:
    async with http_client(off_app) as client:
        user = (await sign_in(client))["user"]
        assert "phone" not in user and "name" not in user
        schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
        user_schema = schema.get("UserRead-Output") or schema["UserRead"]
        assert "phone" not in user_schema["properties"]


@pytest.mark.parametrize(
    ("phone", "market"),
    [("+13128059851", "us"), ("+14165550123", "us"), ("+996505325311", "kg")],
)
async def test_a_number_without_x_market_signs_in_where_its_country_is(
    client: httpx.AsyncClient, phone: str, market: str
) -> None:
    """+1 is the `us` market (Canada too), +996 `kg`."""
    response = await verify_without_market(client, phone, market)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["market"] == market
    token = response.json()["access_token"]
    # Later calls follow the token's market, still without the header.
    profile = await client.get("/api/v1/profile", headers=auth(token))
    assert profile.json()["id"] == response.json()["user"]["id"]


async def test_a_number_of_no_markets_country_is_refused_by_the_default_market(
    client: httpx.AsyncClient,
) -> None:
    """A UK number lands in the default market (`kg`), which texts only its own countries."""
    sent = await client.post("/api/v1/auth/send-verification", json={"phone": "+447911123456"})
    assert sent.status_code == 422
    assert sent.json()["code"] == "phone.country_not_allowed"
    outbox = await client.get(
        "/api/v1/dev/outbox", params={"to": "+447911123456"}, headers={"X-Market": "kg"}
    )
    assert outbox.json()["items"] == []


async def test_x_market_still_wins_over_the_numbers_country(
    traveller_client: httpx.AsyncClient,
) -> None:
    client = traveller_client
    signed = await sign_in(client, "+13128059853", market="kg")
    assert signed["user"]["market"] == "kg"
    again = await verify_without_market(client, "+13128059853", "us")
    assert again.json()["user"]["market"] == "us"
    assert again.json()["is_new_user"] is True  # the same number in two markets: two users


async def test_without_mobile_v0_a_number_without_x_market_goes_to_the_default(
    off_app: FastAPI,
) -> None:
    async with http_client(off_app) as client:
        response = await verify_without_market(client, "+13128059854", "kg")
        assert response.json()["user"]["market"] == "kg"


async def test_logout_with_scope_all_signs_out_every_device(client: httpx.AsyncClient) -> None:
    phone = new_phone()
    a = await sign_in(client, phone, device_name="phone A")
    b = await sign_in(client, phone, device_name="phone B")
    c = await sign_in(client, phone, device_name="tablet")
    just_me = await client.post("/api/v1/auth/logout", headers=auth(c["access_token"]))
    assert just_me.status_code == 200
    assert (await client.get("/api/v1/profile", headers=auth(a["access_token"]))).status_code == 200
    everywhere = await client.post(
        "/api/v1/auth/logout", json={"scope": "all"}, headers=auth(a["access_token"])
    )
    assert everywhere.status_code == 200
    assert everywhere.json()["message"] == "Logged out of every device."
    for device in (a, b):
        dead = await client.get("/api/v1/profile", headers=auth(device["access_token"]))
        assert dead.status_code == 401
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": device["refresh_token"]}
        )
        assert refreshed.status_code == 401
    back = await sign_in(client, phone)
    assert back["user"]["id"] == a["user"]["id"] and back["user"]["is_active"] is True


async def test_curls_form_encoded_json_is_read_as_json(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """`curl -d '{...}'` without -H content-type sends application/x-www-form-urlencoded."""
    shop = await open_shop(app, client)
    token = (await sign_in(client))["access_token"]
    added = await client.post(
        "/api/v1/cart/items",
        content=f'{{"sku_id": {shop["sku"]}, "quantity": 2}}',
        headers={**auth(token), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert added.status_code == 200, added.text
    assert added.json()["item_count"] == 2
    garbage = await client.post(
        "/api/v1/cart/items",
        content="sku_id=1&quantity=2",
        headers={**auth(token), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert garbage.status_code == 422
    cart = (await client.get("/api/v1/cart", headers=auth(token))).json()
    assert cart["item_count"] == 2
