"""Step-up (RFC 9470): actions that could take an account over need a recent proof of identity;
an older sign-in gets 401 `insufficient_user_authentication` and re-authenticates in the same
session. Tokens say when and how the person proved who they are (`auth_time`, `amr`)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest

from keyturn.app import create_app
from tests.conftest import http_client
from tests.factories import (
    STRONG_PASSWORD,
    add_passkey,
    age_sign_in,
    audit_events,
    auth,
    latest_code,
    login,
    new_email,
    new_phone,
    old_sign_in,
    refresh,
    register,
    sign_in,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.problems import assert_problem

CHALLENGE = 'Bearer error="insufficient_user_authentication", max_age=600'


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def full_account(client: Any) -> tuple[dict[str, Any], SoftAuthenticator, str]:
    """An email + password account that also has a phone and a passkey."""
    signed = await register(client, new_email())
    phone = new_phone()
    sent = await client.post(
        "/api/v1/auth/link/phone/send", json={"phone": phone}, headers=auth(signed["access_token"])
    )
    assert sent.status_code == 200, sent.text
    linked = await client.post(
        "/api/v1/auth/link/phone/verify",
        json={"phone": phone, "verification_code": await latest_code(client, phone)},
        headers=auth(signed["access_token"]),
    )
    assert linked.status_code == 200, linked.text
    device = SoftAuthenticator()
    await add_passkey(client, signed["access_token"], device)
    return signed, device, phone


async def passkeys_of(client: Any, token: str) -> list[dict[str, Any]]:
    listed = await client.get("/api/v1/profile/passkeys", headers=auth(token))
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


COVERED = [
    ("add a passkey: options", "post", "/api/v1/profile/passkeys/options", None),
    ("add a passkey", "post", "/api/v1/profile/passkeys", "credential"),
    ("remove a passkey", "delete", "/api/v1/profile/passkeys/{passkey_id}", None),
    (
        "change the password",
        "post",
        "/api/v1/auth/password/change",
        {"current_password": STRONG_PASSWORD, "new_password": "a brand new passphrase 77"},
    ),
    (
        "link an email",
        "post",
        "/api/v1/auth/link/email",
        {"email": "new@example.com", "password": "a brand new passphrase 77"},
    ),
    ("link a phone: send", "post", "/api/v1/auth/link/phone/send", {"phone": "+13125550999"}),
    ("add an authenticator app", "post", "/api/v1/profile/mfa/totp", None),
    ("remove the authenticator app", "delete", "/api/v1/profile/mfa/totp", None),
    ("replace the recovery codes", "post", "/api/v1/profile/mfa/recovery-codes", None),
    (
        "link a phone",
        "post",
        "/api/v1/auth/link/phone/verify",
        {"phone": "+13125550999", "verification_code": "123456"},
    ),
]


@pytest.mark.parametrize(("action", "method", "path", "body"), COVERED, ids=[c[0] for c in COVERED])
async def test_an_old_sign_in_must_step_up_for_each_covered_action(
    app, client, action, method, path, body
) -> None:
    signed, _, _ = await full_account(client)
    old = await old_sign_in(app, client, signed)
    passkeys = await passkeys_of(client, old)
    if body == "credential":
        options = await client.post(
            "/api/v1/profile/passkeys/options", headers=auth(signed["access_token"])
        )
        body = {"credential": SoftAuthenticator().create(options.json())}

    refused = await client.request(
        method,
        path.format(passkey_id=passkeys[0]["id"]),
        json=body,
        headers=auth(old),
    )

    assert_problem(refused, 401, "auth.insufficient_user_authentication")
    assert refused.headers["www-authenticate"] == CHALLENGE
    problem = refused.json()
    assert problem["methods"] == ["password", "sms", "passkey"]
    assert problem["max_age"] == 600
    assert problem["reauthenticate"] == "/api/v1/auth/reauthenticate"
    # Nothing changed: the same passkeys, the same password, the same email.
    assert await passkeys_of(client, old) == passkeys
    assert (await login(client, signed["user"]["email"])).status_code == 200
    profile = await client.get("/api/v1/profile", headers=auth(old))
    assert profile.json()["email"] == signed["user"]["email"]


async def _reauthenticate(client: Any, token: str, method: str, **proof: Any) -> Any:
    return await client.post(
        "/api/v1/auth/reauthenticate", json={"method": method, **proof}, headers=auth(token)
    )


async def _proof(client: Any, token: str, method: str, device: Any, phone: str) -> dict[str, Any]:
    if method == "password":
        return {"password": STRONG_PASSWORD}
    if method == "sms":
        sent = await client.post(
            "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
        )
        assert sent.status_code == 200, sent.text
        return {"verification_code": await latest_code(client, phone)}
    options = await client.post("/api/v1/auth/reauthenticate/passkey/options", headers=auth(token))
    assert options.status_code == 200, options.text
    assert [c["id"] for c in options.json()["allowCredentials"]] == [
        device.credentials[0].credential_id_b64
    ]
    return {"credential": device.get(options.json())}


# The session signed in with its password; `amr` keeps that and adds the new proof
# (`sessions.combined_amr`): a password and a phone code are two factors.
AMR = {
    "password": ["pwd"],
    "sms": ["pwd", "sms", "mfa"],
    "passkey": ["pwd", "hwk", "user", "mfa"],
}


@pytest.mark.parametrize("method", ["password", "sms", "passkey"])
async def test_reauthenticating_lifts_step_up_in_the_same_session(app, client, method) -> None:
    signed, device, phone = await full_account(client)
    old = await old_sign_in(app, client, signed)
    sessions_before = (await client.get("/api/v1/auth/sessions", headers=auth(old))).json()

    before = time.time()
    renewed = await _reauthenticate(
        client, old, method, **await _proof(client, old, method, device, phone)
    )

    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["session_id"] == signed["session_id"]
    assert body["amr"] == AMR[method] and before - 2 <= body["auth_time"] <= time.time() + 2
    token = body["access_token"]
    assert claims_of(token)["amr"] == AMR[method]
    assert claims_of(token)["auth_time"] == body["auth_time"]
    added = await client.post("/api/v1/profile/passkeys/options", headers=auth(token))
    assert added.status_code == 200, added.text
    # The same session, not a new one; its refresh token still works and keeps the new proof.
    sessions = (await client.get("/api/v1/auth/sessions", headers=auth(token))).json()
    assert [s["id"] for s in sessions["items"]] == [s["id"] for s in sessions_before["items"]]
    refreshed = await refresh(client, signed["refresh_token"])
    assert claims_of(refreshed["access_token"])["auth_time"] == body["auth_time"]
    assert claims_of(refreshed["access_token"])["amr"] == AMR[method]
    events = await audit_events(app, "session.reauthenticated")
    assert [(e.session_id, e.details["method"]) for e in events] == [(signed["session_id"], method)]


async def test_a_stolen_older_access_token_cannot_add_a_passkey_or_change_the_password(
    app, client
) -> None:
    signed, _, _ = await full_account(client)
    stolen = await old_sign_in(app, client, signed)
    # The owner proves who they are again in this very session...
    owner = await _reauthenticate(client, stolen, "password", password=STRONG_PASSWORD)
    assert owner.status_code == 200

    # ...but the older token the attacker holds still carries the old proof.
    add = await client.post("/api/v1/profile/passkeys/options", headers=auth(stolen))
    change = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": STRONG_PASSWORD, "new_password": "attacker passphrase 99"},
        headers=auth(stolen),
    )

    assert_problem(add, 401, "auth.insufficient_user_authentication")
    assert_problem(change, 401, "auth.insufficient_user_authentication")
    assert (await login(client, signed["user"]["email"])).status_code == 200
    assert len(await passkeys_of(client, stolen)) == 1


async def test_a_wrong_proof_leaves_the_session_as_it_was(app, client) -> None:
    signed, _, phone = await full_account(client)
    old = await old_sign_in(app, client, signed)
    stranger = SoftAuthenticator()
    await add_passkey(client, (await sign_in(client))["access_token"], stranger)
    await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
    )
    options = await client.post("/api/v1/auth/reauthenticate/passkey/options", headers=auth(old))

    wrong_password = await _reauthenticate(client, old, "password", password="not it at all")
    wrong_code = await _reauthenticate(client, old, "sms", verification_code="000000")
    someone_elses = await _reauthenticate(
        client,
        old,
        "passkey",
        credential=stranger.get(options.json(), credential=stranger.credentials[0]),
    )

    assert_problem(wrong_password, 400, "auth.reauthentication_failed")
    assert_problem(wrong_code, 400, "otp.invalid")
    assert_problem(someone_elses, 400, "passkey.not_recognized")
    still = await client.post("/api/v1/profile/passkeys/options", headers=auth(old))
    assert_problem(still, 401, "auth.insufficient_user_authentication")
    failed = await audit_events(app, "session.reauthentication_failed")
    assert [e.details["method"] for e in failed] == ["password", "sms"]
    assert [e.details["ceremony"] for e in await audit_events(app, "passkey.refused")] == ["reauth"]


async def test_only_methods_the_account_has_can_reauthenticate(app, client) -> None:
    phone_only = await sign_in(client)
    old = await old_sign_in(app, client, phone_only)

    refused = await client.post("/api/v1/profile/passkeys/options", headers=auth(old))
    by_password = await _reauthenticate(client, old, "password", password=STRONG_PASSWORD)
    no_passkeys = await client.post(
        "/api/v1/auth/reauthenticate/passkey/options", headers=auth(old)
    )

    assert refused.json()["methods"] == ["sms"]
    assert_problem(by_password, 400, "auth.reauthentication_method_unavailable")
    assert_problem(no_passkeys, 400, "passkey.none_registered")


async def test_reauthenticate_needs_a_signed_in_caller(client) -> None:
    refused = await _reauthenticate(client, "not-a-token", "password", password="x")

    assert_problem(refused, 401, "auth.unauthorized")


async def test_the_step_up_window_is_a_setting(make_settings) -> None:
    app = create_app(make_settings(tokens={"step_up_max_age": timedelta(minutes=1)}))
    try:
        async with http_client(app) as client:
            signed = await sign_in(client)
            await age_sign_in(app, signed["session_id"], minutes=2)
            old = (await refresh(client, signed["refresh_token"]))["access_token"]
            refused = await client.post("/api/v1/profile/passkeys/options", headers=auth(old))
            fresh = await client.post(
                "/api/v1/profile/passkeys/options", headers=auth(signed["access_token"])
            )
    finally:
        await app.state.databases.dispose()

    assert refused.headers["www-authenticate"] == (
        'Bearer error="insufficient_user_authentication", max_age=60'
    )
    assert fresh.status_code == 200
