"""Apple/Google with step-up (RFC 9470) and second factors: tokens name the provider in `amr`;
linking, unlinking, deleting and exporting need a recent proof; a linked Apple/Google account
is itself a way to give one; an account with an authenticator app asks for it after Apple.
Runs on SQLite and PostgreSQL against the local fake providers."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from keyturn.auth.models import Identity
from keyturn.users.models import User
from tests.factories import (
    add_passkey,
    audit_events,
    auth,
    enrol_totp,
    old_sign_in,
    passkey_sign_in,
    sign_in,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.harness.oauth_provider import SigningKey, Social
from tests.problems import assert_problem

US = {"X-Market": "us"}
NONCE = "step-up-nonce-0b5e"
CHALLENGE = 'Bearer error="insufficient_user_authentication", max_age=600'


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def new_sub(provider: str) -> str:
    return f"{provider}-stepup.{time.time_ns()}"


async def provider_sign_in(social: Social, provider: str, sub: str) -> dict[str, Any]:
    response = await social.client.post(
        f"/api/v1/auth/oauth/{provider}",
        json={"id_token": social.fake.id_token(provider, sub, nonce=NONCE), "nonce": NONCE},
        headers=US,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def identities_of(social: Social, user_id: int) -> list[tuple[str, str]]:
    async with social.app.state.databases.session("us") as db:
        rows = await db.execute(
            select(Identity.provider, Identity.subject).where(Identity.user_id == user_id)
        )
        return sorted((p, s) for p, s in rows.all())


@pytest.mark.parametrize("provider", ["apple", "google"])
async def test_a_provider_sign_in_names_the_provider_in_amr(social: Social, provider: str) -> None:
    before = time.time()
    signed = await provider_sign_in(social, provider, new_sub(provider))

    claims = claims_of(signed["access_token"])
    assert claims["amr"] == [provider]
    assert before - 2 <= claims["auth_time"] <= time.time() + 2
    introspected = await social.client.post(
        "/api/v1/auth/verify-token", json={"token": signed["access_token"]}
    )
    assert introspected.json()["amr"] == [provider]
    assert introspected.json()["auth_time"] == claims["auth_time"]


COVERED = [
    ("link apple", "post", "/api/v1/profile/identities/apple", "apple id_token"),
    ("unlink google", "delete", "/api/v1/profile/identities/google", None),
    ("delete the account", "delete", "/api/v1/profile", None),
    ("export the data", "get", "/api/v1/profile/export", None),
]


@pytest.mark.parametrize(("action", "method", "path", "body"), COVERED, ids=[c[0] for c in COVERED])
async def test_an_old_sign_in_must_step_up_to_link_unlink_delete_or_export(
    social: Social, action: str, method: str, path: str, body: str | None
) -> None:
    client, fake = social.client, social.fake
    signed = await sign_in(client)  # a phone account...
    google_sub = new_sub("google")
    linked = await client.post(  # ...that linked Google while its sign-in was fresh
        "/api/v1/profile/identities/google",
        json={"id_token": fake.id_token("google", google_sub, nonce=NONCE), "nonce": NONCE},
        headers=auth(signed["access_token"]),
    )
    assert linked.status_code == 200, linked.text
    old = await old_sign_in(social.app, client, signed)
    user_id = signed["user"]["id"]
    held = await identities_of(social, user_id)
    payload = None
    if body is not None:
        payload = {
            "id_token": fake.id_token("apple", new_sub("apple"), nonce=NONCE),
            "nonce": NONCE,
        }

    refused = await client.request(method, path, json=payload, headers=auth(old))

    assert_problem(refused, 401, "auth.insufficient_user_authentication")
    assert refused.headers["www-authenticate"] == CHALLENGE
    assert refused.json()["methods"] == ["sms", "google"]
    # Nothing changed: the same identities, the account and its sessions alive, no export.
    assert await identities_of(social, user_id) == held
    profile = await client.get("/api/v1/profile", headers=auth(old))
    assert profile.status_code == 200
    async with social.app.state.databases.session("us") as db:
        user = await db.get(User, user_id)
        assert user is not None and user.deleted_at is None
    assert await audit_events(social.app, "account.exported") == []


async def test_an_apple_only_account_proves_itself_with_apple_then_deletes(
    social: Social,
) -> None:
    client, fake = social.client, social.fake
    sub = new_sub("apple")
    signed = await provider_sign_in(social, "apple", sub)
    old = await old_sign_in(social.app, client, signed)
    refused = await client.delete("/api/v1/profile", headers=auth(old))
    assert_problem(refused, 401, "auth.insufficient_user_authentication")
    assert refused.json()["methods"] == ["apple"]

    before = time.time()
    renewed = await client.post(
        "/api/v1/auth/reauthenticate",
        json={"method": "apple", "id_token": fake.id_token("apple", sub, nonce=NONCE),
              "nonce": NONCE},
        headers=auth(old),
    )  # fmt: skip

    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["session_id"] == signed["session_id"] and body["amr"] == ["apple"]
    assert before - 2 <= body["auth_time"] <= time.time() + 2
    deleted = await client.delete("/api/v1/profile", headers=auth(body["access_token"]))
    assert deleted.status_code == 204, deleted.text
    events = await audit_events(social.app, "session.reauthenticated")
    assert [e.details["method"] for e in events] == ["apple"]


async def test_someone_elses_or_a_forged_apple_token_does_not_step_up(social: Social) -> None:
    client, fake = social.client, social.fake
    mine, theirs = new_sub("apple"), new_sub("apple")
    signed = await provider_sign_in(social, "apple", mine)
    await provider_sign_in(social, "apple", theirs)
    old = await old_sign_in(social.app, client, signed)
    attempts = {
        "another person's apple": fake.id_token("apple", theirs, nonce=NONCE),
        "google's token as apple": fake.id_token("google", mine, nonce=NONCE),
        "signed by a stranger": fake.id_token(
            "apple", mine, nonce=NONCE, key=SigningKey(fake.keys["apple"][-1].kid)
        ),
    }
    expected = {
        "another person's apple": (400, "identity.not_linked"),
        "google's token as apple": (401, "oauth.invalid_id_token"),
        "signed by a stranger": (401, "oauth.invalid_id_token"),
    }
    for name, token in attempts.items():
        refused = await client.post(
            "/api/v1/auth/reauthenticate",
            json={"method": "apple", "id_token": token, "nonce": NONCE},
            headers=auth(old),
        )
        status, code = expected[name]
        assert refused.status_code == status, (name, refused.text)
        assert refused.json()["code"] == code, name

    still = await client.delete("/api/v1/profile", headers=auth(old))
    assert_problem(still, 401, "auth.insufficient_user_authentication")
    failed = await audit_events(social.app, "session.reauthentication_failed")
    assert [(e.session_id, e.details["method"]) for e in failed] == [
        (signed["session_id"], "apple")
    ] * 3
    assert await audit_events(social.app, "session.reauthenticated") == []


async def test_an_apple_account_with_a_passkey_may_unlink_apple_and_keep_signing_in(
    social: Social,
) -> None:
    client = social.client
    signed = await provider_sign_in(social, "apple", new_sub("apple"))
    token = signed["access_token"]
    refused = await client.delete("/api/v1/profile/identities/apple", headers=auth(token))
    assert_problem(refused, 409, "identity.last_way_in")

    device = SoftAuthenticator()
    await add_passkey(client, token, device)
    unlinked = await client.delete("/api/v1/profile/identities/apple", headers=auth(token))

    assert unlinked.status_code == 204, unlinked.text
    assert await identities_of(social, signed["user"]["id"]) == []
    back = await passkey_sign_in(client, device)
    assert back.status_code == 200, back.text
    assert back.json()["user"]["id"] == signed["user"]["id"]


async def test_an_apple_account_with_an_authenticator_app_needs_its_code_after_apple(
    social: Social,
) -> None:
    client, fake = social.client, social.fake
    sub = new_sub("apple")
    signed = await provider_sign_in(social, "apple", sub)
    app, _ = await enrol_totp(client, signed["access_token"])

    first = await client.post(
        "/api/v1/auth/oauth/apple",
        json={"id_token": fake.id_token("apple", sub, nonce=NONCE), "nonce": NONCE},
        headers=US,
    )

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["mfa_required"] is True and "access_token" not in body
    assert "refresh_token" not in body
    finished = await client.post(
        "/api/v1/auth/mfa/verify",
        json={"mfa_token": body["mfa_token"], "code": app.code(ahead=1)},
        headers=US,
    )
    assert finished.status_code == 200, finished.text
    assert finished.json()["user"]["id"] == signed["user"]["id"]
    assert set(claims_of(finished.json()["access_token"])["amr"]) == {"apple", "otp", "mfa"}
    export = await client.get(
        "/api/v1/profile/export", headers=auth(finished.json()["access_token"])
    )
    factor = export.json()["sign_in_methods"]["second_factor"]
    assert factor["totp_enabled"] is True and factor["recovery_codes_remaining"] == 10
    assert app.totp.secret not in export.text
