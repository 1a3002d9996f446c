"""Test harness: real PostgreSQL (a throwaway cluster per run) and SQLite, the app in-process
over httpx, Redis when a test asks for it, and the real server for end-to-end tests.

DB-touching tests take the `backend` fixture (directly or through `client`) and so run twice:
once on SQLite, once on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from keyturn.app import create_app
from keyturn.config import Settings
from keyturn.db import migrate
from keyturn.models import load_all_models
from tests.harness import commits
from tests.harness.postgres import PostgresCluster
from tests.harness.redis import RedisServer
from tests.harness.server import KEYTURN, LiveServer

MARKETS = ("kg", "us")
load_all_models()


def base_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "development",
        "data_dir": data_dir,
        "load_demo_catalog": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def pg_urls(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated database per market, shared by the run and emptied before each test."""
    urls = {code: pg.create_database(f"keyturn_{code}") for code in MARKETS}
    settings = base_settings(
        tmp_path_factory.mktemp("pg-migrate"), database_url=pg.url("keyturn_{market}")
    )
    migrate(settings)
    return urls


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated SQLite files, copied into each test's data dir (faster than migrating)."""
    template = tmp_path_factory.mktemp("sqlite-template")
    migrate(base_settings(template))
    return template


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            tables = ", ".join(f'"{name}"' for name in names)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    """Settings on this test's backend with a fresh, empty, migrated database per market."""
    data_dir = tmp_path / "data"
    if backend == "postgres":
        pg_urls: dict[str, str] = request.getfixturevalue("pg_urls")
        for url in pg_urls.values():
            asyncio.run(_truncate(url))
        db_overrides: dict[str, Any] = {
            "database_url": pg_urls["kg"].replace("keyturn_kg", "keyturn_{market}")
        }
    else:
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copytree(template, data_dir)
        db_overrides = {}

    def make(**overrides: Any) -> Settings:
        return base_settings(data_dir, **{**db_overrides, **overrides})

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.databases.dispose()


def http_client(
    application: FastAPI, *, ip: str = "203.0.113.7", **kwargs: Any
) -> httpx.AsyncClient:
    """The app in-process, seen from client address `ip`; every request it sends is held to
    one commit (`_one_commit`)."""
    counted = commits.CountCommits(application)
    transport = httpx.ASGITransport(app=counted, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", **kwargs)


@pytest.fixture(autouse=True)
def _one_commit_per_request() -> Iterator[None]:
    """Every API request a test sends commits at most once: one use case, one transaction."""
    commits.WATCHED.clear()
    yield
    assert not commits.offenders(), f"requests that committed more than once: {commits.offenders()}"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as c:
        yield c


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if not RedisServer.available():
        pytest.fail("redis-server is not installed; scripts/test installs it")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def start_live_server(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveServer]]:
    """Start the real `keyturn serve` on this test's backend, with fresh, migrated databases
    (on PostgreSQL: new databases in the run's cluster). Stopped when the test ends."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        env = {"KEYTURN_LOAD_DEMO_CATALOG": "false", **env}
        if backend == "postgres":
            cluster: PostgresCluster = request.getfixturevalue("pg")
            name = f"live_{uuid.uuid4().hex[:10]}"
            for code in MARKETS:
                cluster.create_database(f"{name}_{code}")
            env["KEYTURN_DATABASE_URL"] = cluster.url(f"{name}_{{market}}")
            subprocess.run(
                [str(KEYTURN), "migrate"],
                env={**os.environ, **env},
                check=True,
                capture_output=True,
                timeout=120,
            )
        server = LiveServer(tmp_path / f"live-{len(started)}", env=env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
