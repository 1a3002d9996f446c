"""Tokens say when and how the person last proved who they are in their session (`auth_time`,
RFC 8176 `amr`): set at sign-in, kept by refresh, shown by introspection."""

from __future__ import annotations

import time
from typing import Any

import jwt

from tests.factories import age_sign_in, new_email, refresh, register, sign_in, start_guest


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def test_tokens_say_how_and_when_the_person_signed_in(client) -> None:
    before = int(time.time())
    by_phone = await sign_in(client)
    by_password = await register(client, new_email())
    guest = await start_guest(client)

    assert claims_of(by_phone["access_token"])["amr"] == ["sms"]
    assert claims_of(by_password["access_token"])["amr"] == ["pwd"]
    assert claims_of(guest["access_token"])["amr"] == []
    for signed in (by_phone, by_password, guest):
        assert before - 2 <= claims_of(signed["access_token"])["auth_time"] <= time.time() + 2
    introspected = await client.post(
        "/api/v1/auth/verify-token", json={"token": by_phone["access_token"]}
    )
    assert introspected.json()["amr"] == ["sms"]
    assert introspected.json()["auth_time"] == claims_of(by_phone["access_token"])["auth_time"]


async def test_refresh_keeps_the_time_of_the_sign_in(app, client) -> None:
    signed = await sign_in(client)
    await age_sign_in(app, signed["session_id"], minutes=45)

    refreshed = await refresh(client, signed["refresh_token"])

    claims = claims_of(refreshed["access_token"])
    assert time.time() - claims["auth_time"] >= 45 * 60 - 5
    assert claims["iat"] > claims["auth_time"] and claims["amr"] == ["sms"]
