"""Webhook tests: the app in-process on both databases, a real receiver on 127.0.0.1 that
verifies signatures with `standardwebhooks`, and the worker driven by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.config import Settings
from keyturn.worker import Worker
from tests.conftest import http_client
from tests.factories import auth, make_admin
from tests.harness.oauth_fixtures import providers  # noqa: F401
from tests.harness.receiver import Receiver

# Seconds, not days: the same code paths, fast enough for a test. (The claim grace stays
# generous: on a busy machine recording an outcome can wait seconds for SQLite's connection.)
FAST: dict[str, dict[str, Any]] = {
    "worker": {"poll_interval": 0.05, "claim_grace": 20},
    "webhooks": {
        "allow_networks": ["127.0.0.1/32"],
        "timeout": 15,  # no test waits for it: a loaded CI machine must not time attempts out
        "backoff_first": 0.2,
        "backoff_max": 1,
        "retry_for": 60,
    },
}


def fast(**overrides: Any) -> dict[str, Any]:
    """FAST with some of its groups' values replaced."""
    merged = {group: dict(values) for group, values in FAST.items()}
    for group, values in overrides.items():
        merged.setdefault(group, {}).update(values)
    return merged


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def hook_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**FAST)


@pytest.fixture
async def app(hook_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(hook_settings)
    yield application
    await application.state.databases.dispose()


@pytest.fixture
def worker(app: FastAPI, hook_settings: Settings) -> Worker:
    return Worker(hook_settings, app.state.databases)


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    return auth((await make_admin(app, client))["access_token"], "us")


async def subscribe(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    receiver: Receiver,
    event_types: list[str],
    **fields: Any,
) -> dict[str, Any]:
    """Create an endpoint for the receiver and teach the receiver its secret."""
    created = await client.post(
        "/api/v1/admin/webhooks",
        json={"url": receiver.url, "event_types": event_types, **fields},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    receiver.secrets.append(body["secret"])
    return body


async def deliveries(
    client: httpx.AsyncClient, admin: dict[str, str], webhook_id: int, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/admin/webhooks/{webhook_id}/deliveries",
        params={"limit": 100, **params},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


__all__ = ["deliveries", "fast", "http_client", "subscribe"]
