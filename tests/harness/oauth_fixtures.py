"""Fixtures for tests that sign in with Apple/Google against the local fake providers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from keyturn.app import create_app
from keyturn.config import Settings
from tests.conftest import http_client
from tests.harness.oauth_provider import FakeProviders, Social, running_providers


@pytest.fixture
async def providers() -> AsyncIterator[FakeProviders]:
    async with running_providers() as fake:
        yield fake


@pytest.fixture
async def social(
    make_settings: Callable[..., Settings], providers: FakeProviders
) -> AsyncIterator[Social]:
    app = create_app(make_settings(oauth=providers.settings()))
    try:
        async with http_client(app) as client:
            yield Social(app, client, providers)
    finally:
        await app.state.oauth.aclose()
        await app.state.databases.dispose()
