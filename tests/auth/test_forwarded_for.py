"""Behind a trusted proxy the client is the nearest untrusted X-Forwarded-For hop, across
every X-Forwarded-For line: a proxy that adds its own line (HAProxy) must not let a client's
forged line speak for it."""

import pytest

from keyturn.app import create_app
from tests.conftest import http_client
from tests.factories import auth

PROXY = "203.0.113.7"  # the in-process test client's address


@pytest.mark.parametrize(
    "lines, seen",
    [
        ([], PROXY),
        (["198.51.100.9"], "198.51.100.9"),
        (["10.9.9.9, 198.51.100.9"], "198.51.100.9"),
        (["10.9.9.9", "198.51.100.9"], "198.51.100.9"),  # forged line first, the proxy's last
        (["198.51.100.9", PROXY], "198.51.100.9"),
    ],
)
async def test_the_client_address_comes_from_the_nearest_untrusted_hop(
    make_settings, lines, seen
) -> None:
    app = create_app(make_settings(trusted_proxies=[PROXY]))
    headers = [("X-Market", "us"), *(("X-Forwarded-For", line) for line in lines)]
    async with http_client(app) as client:
        guest = (await client.post("/api/v1/auth/guest", headers=headers)).json()
        devices = await client.get("/api/v1/auth/sessions", headers=auth(guest["access_token"]))
    await app.state.databases.dispose()
    assert devices.json()["items"][0]["ip"] == seen


async def test_an_untrusted_peer_cannot_claim_an_address(make_settings) -> None:
    app = create_app(make_settings(trusted_proxies=[]))
    async with http_client(app) as client:
        guest = (
            await client.post(
                "/api/v1/auth/guest",
                headers={"X-Market": "us", "X-Forwarded-For": "198.51.100.9"},
            )
        ).json()
        devices = await client.get("/api/v1/auth/sessions", headers=auth(guest["access_token"]))
    await app.state.databases.dispose()
    assert devices.json()["items"][0]["ip"] == PROXY
