"""The per-process memory of verified signatures never makes a token live longer: a token whose
key retired, or whose `exp` passed, fails on its next request even though it was verified a
moment before. (Sessions are never remembered: see test_logout, test_admin_accounts and
test_revocation_across_instances.)"""

import asyncio
import json
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from keyturn.db import utcnow
from keyturn.sessions import keys
from keyturn.sessions.tokens import LEEWAY
from tests.factories import auth, sign_in
from tests.system.test_errors import assert_problem


async def test_a_remembered_token_fails_once_its_key_retires(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = await sign_in(client)
    headers = auth(signed["access_token"])
    assert (await client.get("/api/v1/cart", headers=headers)).status_code == 200

    path = keys.keyring_path(app.state.settings)
    ring = json.loads(path.read_text())
    for key in ring["keys"]:
        key["retires_at"] = (utcnow() - timedelta(seconds=1)).isoformat()
    path.write_text(json.dumps(ring))
    monkeypatch.setattr(keys, "RELOAD_EVERY", 0.0)  # re-read the file on the next look

    for route in ("/api/v1/cart", "/api/v1/profile", "/api/v1/auth/sessions"):
        assert_problem(await client.get(route, headers=headers), 401, "auth.unauthorized")


@pytest.mark.slow
async def test_a_remembered_token_fails_once_it_expires(app: FastAPI, client: AsyncClient) -> None:
    signed = await sign_in(client)
    token, lifetime = app.state.issuer.access_token(
        user_id=signed["user"]["id"],
        session_id=signed["session_id"],
        market="us",
        role="customer",
        session_expires_at=utcnow() + timedelta(seconds=1),
        auth_time=utcnow(),
        amr=("sms",),
    )
    assert lifetime <= 1
    expires = time.time() + lifetime
    assert (await client.get("/api/v1/cart", headers=auth(token))).status_code == 200

    await asyncio.sleep(max(0.0, expires + LEEWAY + 1 - time.time()))
    expired = await client.get("/api/v1/cart", headers=auth(token))
    assert_problem(expired, 401, "auth.unauthorized")
    assert "expired" in expired.json()["detail"]
