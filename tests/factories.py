"""Small async factories over HTTP: what a client app would do, nothing hidden."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

_numbers = itertools.count(100)


def new_phone(market: str = "us") -> str:
    """A fresh valid number per call (US 312-555-01xx style, KG +996 700 xxx xxx)."""
    n = next(_numbers)
    return f"+1312555{n:04d}" if market == "us" else f"+996700{n:06d}"


def auth(token: str, market: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if market:
        headers["X-Market"] = market
    return headers


async def latest_code(client: httpx.AsyncClient, phone: str, market: str = "us") -> str:
    outbox = await client.get(
        "/api/v1/dev/outbox", params={"to": phone}, headers={"X-Market": market}
    )
    assert outbox.status_code == 200, outbox.text
    return str(outbox.json()["items"][0]["code"])


async def sign_in(
    client: httpx.AsyncClient,
    phone: str | None = None,
    *,
    market: str = "us",
    device_name: str = "test device",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Phone sign-in through the dev outbox; returns the token response."""
    phone = phone or new_phone(market)
    sent = await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": market}
    )
    assert sent.status_code == 200, sent.text
    code = await latest_code(client, phone, market)
    response = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": device_name},
        headers={"X-Market": market, **(headers or {})},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_admin(app: Any, client: httpx.AsyncClient, market: str = "us") -> dict[str, Any]:
    """Sign a user in and promote them, as `keyturn create-admin` would."""
    from sqlalchemy import update

    from keyturn.users.models import User

    signed = await sign_in(client, market=market)
    async with app.state.databases.session(market) as db:
        await db.execute(update(User).where(User.id == signed["user"]["id"]).values(role="admin"))
        await db.commit()
    return await sign_in(client, signed["user"]["phone_number"], market=market)
