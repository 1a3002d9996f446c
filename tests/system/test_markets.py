"""A request's market: X-Market, else the token's, else the default; unknown → 400."""

import httpx
import pytest

from keyturn.config import ConfigError, load_settings
from keyturn.notify import outbox
from tests.problems import assert_problem


async def _seed_outbox(app, market: str, phone: str) -> None:
    async with app.state.databases.session(market) as db:
        await outbox.keep(
            db,
            channel="sms",
            recipient=phone,
            kind="verification",
            body=f"code for {market}",
            code="123456",
        )
        await db.commit()


async def test_x_market_header_selects_the_market_database(app, client: httpx.AsyncClient) -> None:
    await _seed_outbox(app, "us", "+13125550100")
    us = await client.get(
        "/api/v1/dev/outbox", params={"to": "+13125550100"}, headers={"X-Market": "us"}
    )
    kg = await client.get(
        "/api/v1/dev/outbox", params={"to": "+13125550100"}, headers={"X-Market": "kg"}
    )
    assert [m["body"] for m in us.json()["items"]] == ["code for us"]
    assert kg.json()["items"] == []


async def test_without_header_the_default_market_is_used(app, client: httpx.AsyncClient) -> None:
    await _seed_outbox(app, "kg", "+996700000001")
    response = await client.get("/api/v1/dev/outbox", params={"to": "+996700000001"})
    assert [m["body"] for m in response.json()["items"]] == ["code for kg"]


@pytest.mark.parametrize("market", ["zz", "", "KG-", "x" * 40])
async def test_unknown_market_is_a_400_problem(client: httpx.AsyncClient, market: str) -> None:
    response = await client.get(
        "/api/v1/dev/outbox", params={"to": "+13125550100"}, headers={"X-Market": market}
    )
    assert_problem(response, 400, "market.unknown")


def test_per_market_database_url_overrides_the_template(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("KEYTURN_DATABASE_URL", "postgresql+asyncpg://app@db/keyturn_{market}")
    monkeypatch.setenv("KEYTURN_MARKET_US_DATABASE_URL", "postgresql+asyncpg://app@us-db/shop")
    urls = load_settings(_env_file=None).database_urls()
    assert urls == {
        "kg": "postgresql+asyncpg://app@db/keyturn_kg",
        "us": "postgresql+asyncpg://app@us-db/shop",
    }


def test_embedded_default_is_one_sqlite_file_per_market(tmp_path) -> None:
    urls = load_settings(_env_file=None, data_dir=tmp_path).database_urls()
    assert urls["kg"].endswith(f"{tmp_path}/keyturn_kg.sqlite3")
    assert urls["us"].endswith(f"{tmp_path}/keyturn_us.sqlite3")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KEYTURN_DEFAULT_MARKET": "fr"}, "default_market"),
        ({"KEYTURN_ENV": "staging"}, "KEYTURN_ENV"),
        (
            {"KEYTURN_TOKENS__ALGORITHM": "HS256", "KEYTURN_TOKENS__HS256_SECRET": "short"},
            "hs256_secret",
        ),
        ({"KEYTURN_CORS_ORIGINS": '["*"]'}, "KEYTURN_CORS_ORIGINS"),
        ({"KEYTURN_ENV": "production"}, "console SMS"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_setting(monkeypatch, env, named) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=named):
        load_settings(_env_file=None)
