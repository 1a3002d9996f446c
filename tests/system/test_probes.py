import httpx
import pytest

from keyturn.app import create_app
from tests.conftest import base_settings, http_client
from tests.harness.postgres import PostgresCluster, free_port


async def test_health_and_index_answer(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    index = (await client.get("/")).json()
    assert index["name"] == "keyturn"
    assert index["links"]["docs"] == "/docs"


async def test_index_names_the_apple_and_google_sign_ins_configured_here(
    client: httpx.AsyncClient, make_settings
) -> None:
    assert (await client.get("/")).json()["oauth_providers"] == []
    app = create_app(make_settings(oauth={"google_client_ids": ["web.apps.example"]}))
    async with http_client(app) as google_only:
        index = (await google_only.get("/")).json()
    await app.state.databases.dispose()
    assert index["oauth_providers"] == ["google"]


async def test_ready_when_every_dependency_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database:kg": True, "database:us": True, "storage": True, "sms": True},
        "unavailable": [],
        "degraded": [],
        "problems": {},
    }


async def test_ready_names_redis_when_it_does_not_answer(make_settings, tmp_path) -> None:
    app = create_app(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    async with http_client(app) as client:
        down = await client.get("/ready")
        health = await client.get("/health")
    await app.state.databases.dispose()
    assert down.status_code == 503
    assert down.json()["unavailable"] == ["redis"]
    assert down.json()["problems"] == {"redis": "does not answer"}
    assert down.json()["checks"]["database:us"] is True
    assert health.status_code == 200  # liveness does not depend on anything


async def test_docs_and_openapi_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/health" in spec["paths"]


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    body = (await client.get("/metrics")).text
    assert 'keyturn_http_requests_total{method="GET",route="/health",status="200"}' in body


@pytest.mark.slow
async def test_ready_names_the_market_whose_postgres_is_down_and_recovers(tmp_path) -> None:
    cluster = PostgresCluster().start()
    try:
        us_url = cluster.create_database("keyturn_us")
        settings = base_settings(
            tmp_path,
            **{
                "markets": [
                    {"code": "kg", "currency": "KGS", "language": "ru", "country": "KG"},
                    {
                        "code": "us",
                        "currency": "USD",
                        "language": "en",
                        "country": "US",
                        "database_url": us_url,
                    },
                ]
            },
        )
        app = create_app(settings)
        async with http_client(app) as client:
            assert (await client.get("/ready")).status_code == 200

            cluster.stop()
            cluster.wait_until_down()
            down = await client.get("/ready")
            assert down.status_code == 503
            assert down.json()["unavailable"] == ["database:us"]

            cluster.start_again()
            assert (await client.get("/ready")).status_code == 200
        await app.state.databases.dispose()
    finally:
        cluster.destroy()
