"""If the database that knows about revocations is unreachable, protected routes answer 503."""

import asyncio

import pytest

from keyturn.app import create_app
from keyturn.db import migrate
from tests.conftest import base_settings, http_client
from tests.factories import auth, sign_in
from tests.harness.postgres import PostgresCluster
from tests.problems import assert_problem

pytestmark = pytest.mark.slow


async def test_protected_routes_fail_closed_while_the_database_is_down(tmp_path) -> None:
    cluster = PostgresCluster().start()
    try:
        for market in ("kg", "us"):
            cluster.create_database(f"keyturn_{market}")
        settings = base_settings(tmp_path, database_url=cluster.url("keyturn_{market}"))
        await asyncio.to_thread(migrate, settings)
        app = create_app(settings)
        async with http_client(app) as client:
            signed = await sign_in(client)
            assert (
                await client.get("/api/v1/profile", headers=auth(signed["access_token"]))
            ).status_code == 200

            cluster.stop()
            cluster.wait_until_down()
            down = await client.get("/api/v1/profile", headers=auth(signed["access_token"]))
            assert_problem(down, 503, "unavailable")
            assert "Traceback" not in down.text

            cluster.start_again()
            back = await client.get("/api/v1/profile", headers=auth(signed["access_token"]))
            assert back.status_code == 200
        await app.state.databases.dispose()
    finally:
        cluster.destroy()
