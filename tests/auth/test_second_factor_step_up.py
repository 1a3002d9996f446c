"""Second factors and step-up (DESIGN §13): changing them needs a recent proof of identity; the
app's codes and recovery codes prove it again; `amr` never loses a factor the session proved;
a user-verified passkey is two factors and skips the second step."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import (
    STRONG_PASSWORD,
    add_passkey,
    audit_events,
    auth,
    enrol_totp,
    login,
    new_email,
    old_sign_in,
    passkey_sign_in,
    register,
    sign_in,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.system.test_errors import assert_problem

US = {"X-Market": "us"}
CHALLENGE = 'Bearer error="insufficient_user_authentication", max_age=600'
CHANGES = [
    ("post", "/api/v1/profile/mfa/totp"),
    ("delete", "/api/v1/profile/mfa/totp"),
    ("post", "/api/v1/profile/mfa/recovery-codes"),
]


async def reauthenticate(client: httpx.AsyncClient, token: str, **proof: str) -> httpx.Response:
    return await client.post("/api/v1/auth/reauthenticate", json=proof, headers=auth(token))


async def mfa_status(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/profile/mfa", headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def introspect(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/verify-token", json={"token": token}, headers=US)
    assert response.status_code == 200 and response.json()["active"], response.text
    body: dict[str, Any] = response.json()
    return body


async def with_app_long_ago(
    app: FastAPI, client: httpx.AsyncClient
) -> tuple[dict[str, Any], Any, list[str], str]:
    """A password account with an authenticator app, and an access token of its session whose
    proof of identity is 30 minutes old."""
    signed = await register(client, new_email())
    phone_app, codes = await enrol_totp(client, signed["access_token"])
    return signed, phone_app, codes, await old_sign_in(app, client, signed)


async def test_an_old_sign_in_must_step_up_to_add_remove_or_replace_second_factors(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, _, codes, old = await with_app_long_ago(app, client)
    for method, path in CHANGES:
        refused = await client.request(method, path, headers=auth(old))
        problem = assert_problem(refused, 401, "auth.insufficient_user_authentication")
        assert refused.headers["www-authenticate"] == CHALLENGE
        assert problem["methods"] == ["password", "totp", "recovery_code"]
    status = await mfa_status(client, old)
    assert status["totp_enabled"] is True and status["recovery_codes_remaining"] == 10
    assert await audit_events(app, "mfa.disabled") == []
    assert await audit_events(app, "mfa.recovery_codes_replaced") == []
    assert codes


async def test_a_code_from_the_app_steps_up_and_then_the_app_can_be_removed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    signed, phone_app, _, old = await with_app_long_ago(app, client)
    before = time.time()
    renewed = await reauthenticate(client, old, method="totp", code=phone_app.code(1))
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["session_id"] == signed["session_id"]
    assert body["amr"] == ["pwd", "otp", "mfa"]  # the sign-in's password and now the app
    assert before - 2 <= body["auth_time"] <= time.time() + 2

    replay = await reauthenticate(client, old, method="totp", code=phone_app.code(1))
    assert_problem(replay, 400, "mfa.code_invalid")
    failed = await audit_events(app, "session.reauthentication_failed")
    assert [e.details["method"] for e in failed] == ["totp"]

    removed = await client.delete("/api/v1/profile/mfa/totp", headers=auth(body["access_token"]))
    assert removed.status_code == 200, removed.text
    assert (await mfa_status(client, old))["totp_enabled"] is False
    direct = await login(client, signed["user"]["email"])
    assert direct.status_code == 200 and "access_token" in direct.json()


async def test_a_recovery_code_steps_up_once_and_the_count_falls(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, _, codes, old = await with_app_long_ago(app, client)
    renewed = await reauthenticate(client, old, method="recovery_code", recovery_code=codes[0])
    assert renewed.status_code == 200, renewed.text
    assert (await mfa_status(client, old))["recovery_codes_remaining"] == 9
    used = await audit_events(app, "mfa.recovery_code_used")
    assert [e.details["remaining"] for e in used] == [9]

    again = await reauthenticate(client, old, method="recovery_code", recovery_code=codes[0])
    assert_problem(again, 400, "mfa.recovery_code_invalid")
    replaced = await client.post(
        "/api/v1/profile/mfa/recovery-codes", headers=auth(renewed.json()["access_token"])
    )
    assert replaced.status_code == 200, replaced.text
    assert (await mfa_status(client, old))["recovery_codes_remaining"] == 10


async def test_guessing_app_codes_to_step_up_is_throttled(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A stolen access token without the phone: each guess is counted like the second step's."""
    _, phone_app, _, old = await with_app_long_ago(app, client)
    right = phone_app.code(1)
    answers = []
    for n in range(1, 7):
        guess = await reauthenticate(
            client, old, method="totp", code=f"{(int(right) + n) % 10**6:06d}"
        )
        answers.append(guess.status_code)
    assert answers == [400] * 5 + [429]
    held = await reauthenticate(client, old, method="totp", code=right)
    assert_problem(held, 429, "mfa.throttled")
    assert (await client.delete("/api/v1/profile/mfa/totp", headers=auth(old))).status_code == 401


async def test_a_password_re_authentication_does_not_lower_a_two_factor_session(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Keycloak #39084: proving one factor again keeps what the session had already proven."""
    email = new_email()
    await register(client, email)
    registered = await login(client, email)
    phone_app, _ = await enrol_totp(client, registered.json()["access_token"])
    answer = await login(client, email)
    finished = await client.post(
        "/api/v1/auth/mfa/verify",
        json={"mfa_token": answer.json()["mfa_token"], "code": phone_app.code(1)},
        headers=US,
    )
    assert finished.status_code == 200, finished.text
    old = await old_sign_in(app, client, finished.json())
    assert (await introspect(client, old))["amr"] == ["pwd", "otp", "mfa"]

    renewed = await reauthenticate(client, old, method="password", password=STRONG_PASSWORD)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["amr"] == ["pwd", "otp", "mfa"]
    assert (await introspect(client, renewed.json()["access_token"]))["amr"] == [
        "pwd",
        "otp",
        "mfa",
    ]


async def test_an_account_without_an_app_cannot_step_up_with_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    signed = await sign_in(client)
    old = await old_sign_in(app, client, signed)
    for proof in (
        {"method": "totp", "code": "123456"},
        {
            "method": "recovery_code",
            "recovery_code": "abcd-efgh-ijkm-npqr",
        },
    ):
        refused = await reauthenticate(client, old, **proof)
        assert_problem(refused, 400, "auth.reauthentication_method_unavailable")
    assert (await introspect(client, old))["auth_time"] < time.time() - 600
    assert await audit_events(app, "session.reauthenticated") == []


async def test_a_passkey_sign_in_skips_the_second_step(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A user-verified passkey is the device and its PIN or biometrics: two factors already."""
    email = new_email()
    signed = await register(client, email)
    await enrol_totp(client, signed["access_token"])
    device = SoftAuthenticator()
    await add_passkey(client, signed["access_token"], device)

    by_passkey = await passkey_sign_in(client, device)
    assert by_passkey.status_code == 200, by_passkey.text
    assert "mfa_required" not in by_passkey.json()
    assert by_passkey.json()["user"]["email"] == email
    assert (await introspect(client, by_passkey.json()["access_token"]))["amr"] == [
        "hwk",
        "user",
        "mfa",
    ]
    by_password = await login(client, email)
    assert by_password.json()["mfa_required"] is True  # the password alone still is not
