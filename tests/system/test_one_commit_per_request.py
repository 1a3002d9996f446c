"""Every API request is one use case and commits at most once (docs/transactions.md).

`tests/conftest.py` holds every request of every in-process test to that; these tests show
the counter sees real commits and catches a second one.
"""

import httpx
from fastapi import APIRouter, FastAPI, Request

from keyturn.config import Settings
from keyturn.db import end_read
from tests.conftest import http_client
from tests.factories import auth, new_phone, sign_in
from tests.harness import commits


def _counted(path_end: str) -> list[int]:
    return [n for wrapper in commits.WATCHED for r, n in wrapper.requests if r.endswith(path_end)]


async def test_a_sign_in_and_a_wrong_code_each_commit_once(client: httpx.AsyncClient) -> None:
    phone = new_phone()
    us = {"X-Market": "us"}
    await client.post("/api/v1/auth/send-verification", json={"phone": phone}, headers=us)
    wrong = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": "000000"},
        headers=us,
    )
    assert wrong.status_code == 400
    token = (await sign_in(client))["access_token"]
    await client.post("/api/v1/auth/logout", headers=auth(token))
    assert _counted("/auth/send-verification") == [1, 1]
    assert _counted("/auth/verify-code") == [1, 1]  # the failure counter, then the sign-in
    assert _counted("/auth/logout") == [1]


async def test_a_password_login_ending_its_read_before_hashing_counts_once(
    client: httpx.AsyncClient,
) -> None:
    body = {"email": "once@example.com", "password": "correct horse battery"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    assert (await client.post("/api/v1/auth/login", json=body)).status_code == 200
    wrong = await client.post("/api/v1/auth/login", json={**body, "password": "not it at all"})
    assert wrong.status_code == 401
    assert _counted("/auth/login") == [1, 1]


async def test_a_request_committing_twice_is_caught(settings: Settings) -> None:
    app = FastAPI()
    app.state.settings = settings
    router = APIRouter()

    @router.post("/twice")
    async def twice(request: Request) -> None:
        from keyturn.db import Databases

        databases = Databases(request.app.state.settings)
        async with databases.session("us") as db:
            await end_read(db)  # not counted
            await db.commit()
            await db.commit()
        await databases.dispose()

    app.include_router(router)
    async with http_client(app) as client:
        await client.post("/twice")
    try:
        assert commits.offenders() == [("POST /twice", 2)]
    finally:
        commits.WATCHED.clear()
