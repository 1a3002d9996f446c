"""An app with the JobPsych API on, HS256 with the seed's shared secret, as its services need."""

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.config import Settings
from tests.harness import commits

SECRET = "343164a0c3169c9defa93088fddfc759dbda6f11cd0322c67a7c086665cbe75a"
SERVICE_IP = "198.51.100.20"
STRANGER_IP = "203.0.113.7"
ORIGIN = "https://testserver"


@pytest.fixture
async def jobpsych_app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    app = create_app(
        make_settings(
            compat="jobpsych",
            tokens={"algorithm": "HS256", "hs256_secret": SECRET},
            jobpsych={"market": "us", "service_ips": [SERVICE_IP]},
        )
    )
    yield app
    await app.state.databases.dispose()


def jobpsych_client(app: FastAPI, ip: str = STRANGER_IP, origin: str = ORIGIN) -> httpx.AsyncClient:
    """Over https (the cookie is `Secure`) from `ip`, as the browser or a service would."""
    transport = httpx.ASGITransport(app=commits.CountCommits(app), client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"Origin": origin})


@pytest.fixture
async def web(jobpsych_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with jobpsych_client(jobpsych_app) as client:
        yield client


@pytest.fixture
async def analysis(jobpsych_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with jobpsych_client(jobpsych_app, SERVICE_IP) as client:
        yield client
