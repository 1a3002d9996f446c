"""Every error is application/problem+json with a stable code; nothing leaks on a 500."""

import asyncio
import json

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from keyturn.logs import get_logger
from tests.conftest import http_client
from tests.problems import assert_problem


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/no-such-thing"), 404, "not_found")


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/health"), 405, "method_not_allowed")


async def test_validation_error_lists_the_fields(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/dev/outbox"), 422, "request.invalid")
    assert [e["field"] for e in body["errors"]] == ["query.to"]


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret connection string postgres://u:hunter2@db")

    app.include_router(router)
    return app


async def test_unexpected_exception_is_a_generic_500_with_request_id(
    failing_app: FastAPI, capfd: pytest.CaptureFixture[str]
) -> None:
    async with http_client(failing_app) as client:
        response = await client.get("/boom", headers={"X-Request-ID": "req-123"})
    body = assert_problem(response, 500, "internal")
    assert body["request_id"] == "req-123"
    assert response.headers["x-request-id"] == "req-123"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = capfd.readouterr().err
    assert "hunter2" in logged and "RuntimeError" in logged  # the traceback stays in the log
    line = next(json.loads(x) for x in logged.splitlines() if "unhandled_error" in x)
    assert line["request_id"] == "req-123"


async def test_each_log_line_carries_its_own_requests_id(
    failing_app: FastAPI, capfd: pytest.CaptureFixture[str]
) -> None:
    """Requests run one after another and side by side: no line takes another's id, and a
    line written outside any request has none."""
    async with http_client(failing_app) as client:
        await client.get("/boom", headers={"X-Request-ID": "first-1"})
        await asyncio.gather(
            *(client.get("/boom", headers={"X-Request-ID": f"side-{i}"}) for i in range(5))
        )
        await client.get("/health", headers={"X-Request-ID": "quiet-1"})
    get_logger("keyturn.test").warning("outside_any_request")
    lines = [json.loads(x) for x in capfd.readouterr().err.splitlines() if x.startswith("{")]
    failures = [line["request_id"] for line in lines if line["event"] == "unhandled_error"]
    assert sorted(failures) == ["first-1", *(f"side-{i}" for i in range(5))]
    outside = next(line for line in lines if line["event"] == "outside_any_request")
    assert "request_id" not in outside


async def test_api_responses_carry_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.headers["x-request-id"]) >= 16


async def test_malicious_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": 'a"b<script>' + "x" * 80})
    assert response.headers["x-request-id"].isalnum()


async def test_a_value_the_database_refuses_is_a_422_and_stays_out_of_the_log(
    app: FastAPI, backend: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """Validation should stop such values first; whatever slips through is still no 500,
    and the engine hides the statement's parameters from the log."""
    if backend == "sqlite":
        pytest.skip("SQLite stores any value; PostgreSQL refuses with SQLSTATE class 22")
    from sqlalchemy import text

    from keyturn.deps import Db

    router = APIRouter()

    @router.get("/cast")
    async def cast(db: Db) -> None:
        await db.execute(text("SELECT CAST(:v AS integer)"), {"v": "alice@example.com"})

    app.include_router(router)
    async with http_client(app) as client:
        body = assert_problem(await client.get("/cast"), 422, "request.invalid_value")
    assert "alice@example.com" not in str(body)
    assert "alice@example.com" not in capfd.readouterr().err
