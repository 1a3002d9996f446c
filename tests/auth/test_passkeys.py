"""Passkeys as a first sign-in method (issue 14): a software authenticator makes real "none"
attestations and ES256 assertions; every refusal is a 4xx with its code, an audit event, and
no session."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from keyturn.auth.models import PasskeyChallenge
from keyturn.db import utcnow
from keyturn.sessions.models import Session
from tests.factories import (
    add_passkey,
    audit_events,
    auth,
    create_product,
    make_admin,
    passkey_sign_in,
    sign_in,
    start_guest,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.problems import assert_problem

US = {"X-Market": "us"}


async def session_count(app: Any, user_id: int) -> int:
    async with app.state.databases.session("us") as db:
        return int(
            await db.scalar(
                select(func.count()).select_from(Session).where(Session.user_id == user_id)
            )
            or 0
        )


async def introspect(client: Any, token: str) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/verify-token", json={"token": token})
    body: dict[str, Any] = response.json()
    return body


async def test_a_passkey_signs_in_alone_with_passkey_amr(app, client) -> None:
    phone = await sign_in(client)
    device = SoftAuthenticator()
    passkey = await add_passkey(client, phone["access_token"], device, name="My laptop")
    assert passkey["name"] == "My laptop"
    assert passkey["backup_eligible"] is False and passkey["last_used_at"] is None

    before = time.time()
    signed = await passkey_sign_in(client, device)

    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["user"]["id"] == phone["user"]["id"] and body["is_new_user"] is False
    assert body["refresh_token"] and body["session_id"] != phone["session_id"]
    claims = await introspect(client, body["access_token"])
    assert claims["active"] is True
    assert claims["amr"] == ["hwk", "user", "mfa"]
    assert before - 2 <= claims["auth_time"] <= time.time() + 2
    sessions = await client.get("/api/v1/auth/sessions", headers=auth(body["access_token"]))
    current = [s for s in sessions.json()["items"] if s["current"]]
    assert current[0]["auth_method"] == "passkey"
    listed = await client.get("/api/v1/profile/passkeys", headers=auth(body["access_token"]))
    assert listed.json()["items"][0]["last_used_at"] is not None
    assert [e.details["method"] for e in await audit_events(app, "login.succeeded")][-1] == (
        "passkey"
    )
    assert [e.user_id for e in await audit_events(app, "passkey.used")] == [phone["user"]["id"]]


async def test_login_options_let_the_device_offer_any_passkey(client) -> None:
    options = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()
    again = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()

    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert options["rpId"] == "localhost"
    assert options["timeout"] == 300_000
    assert len(options["challenge"]) >= 43 and options["challenge"] != again["challenge"]


async def test_registration_options_ask_for_a_discoverable_verified_passkey(client) -> None:
    signed = await sign_in(client)
    device = SoftAuthenticator()
    first = await add_passkey(client, signed["access_token"], device)

    options = (
        await client.post("/api/v1/profile/passkeys/options", headers=auth(signed["access_token"]))
    ).json()

    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["rp"] == {"name": "keyturn", "id": "localhost"}
    assert options["user"]["name"] == signed["user"]["phone_number"]
    # One user handle per account, never the user id; the passkey it has is not offered again.
    assert options["user"]["id"] == device.credentials[0].user_handle_b64
    assert len(device.credentials[0].user_handle) == 32  # random bytes
    assert [c["id"] for c in options["excludeCredentials"]] == [
        device.credentials[0].credential_id_b64
    ]
    assert first["name"] == "test device"  # the device that added it, for want of a name


async def test_a_synced_passkey_is_a_software_key_and_its_still_counter_is_fine(client) -> None:
    signed = await sign_in(client)
    icloud = SoftAuthenticator(
        backup_eligible=True, aaguid=bytes.fromhex("fbfc3007154e4ecc8c0b6e020557d7bd")
    )
    passkey = await add_passkey(client, signed["access_token"], icloud)
    assert passkey["authenticator"] == "iCloud Keychain" and passkey["name"] == "iCloud Keychain"
    assert passkey["backup_eligible"] is True and passkey["backed_up"] is True

    for _ in range(2):  # the counter stays 0, as synced passkeys' do
        signed_in = await passkey_sign_in(client, icloud)
        assert signed_in.status_code == 200, signed_in.text
    claims = await introspect(client, signed_in.json()["access_token"])
    assert claims["amr"] == ["swk", "user", "mfa"]


async def test_signing_in_with_a_passkey_keeps_the_guest_cart(app, client) -> None:
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"])
    owner = await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)
    guest = await start_guest(client)
    await client.post(
        "/api/v1/cart/items",
        json={"sku_id": product["skus"][0]["id"], "quantity": 2},
        headers=auth(guest["access_token"]),
    )

    options = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()
    signed = await client.post(
        "/api/v1/auth/passkeys/login",
        json={"credential": device.get(options), "device_name": "Phone"},
        headers=auth(guest["access_token"]),
    )

    assert signed.status_code == 200, signed.text
    cart = await client.get("/api/v1/cart", headers=auth(signed.json()["access_token"]))
    assert cart.json()["item_count"] == 2


# Refusals -------------------------------------------------------------------------------------


async def _expire_challenges(app: Any) -> None:
    async with app.state.databases.session("us") as db:
        await db.execute(
            update(PasskeyChallenge).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()


async def _login_answer(client: Any, app: Any, device: SoftAuthenticator, case: str) -> Any:
    options = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()
    if case == "wrong_origin":
        return device.get(options, origin="https://evil.example")
    if case == "wrong_rp_id":
        return device.get(options, rp_id="evil.example")
    if case == "framed_by_another_site":
        return device.get(options, cross_origin=True)
    if case == "user_not_verified":
        return device.get(options, user_verified=False)
    if case == "expired_challenge":
        await _expire_challenges(app)
        return device.get(options)
    if case == "unknown_challenge":
        return device.get(options, challenge="A" * 43)
    if case == "counter_backwards":
        return device.get(options, sign_count=device.credentials[-1].sign_count)
    if case == "bad_signature":  # the signature of another answer
        answer = device.get(options)
        answer["response"]["signature"] = device.get(options, challenge="B" * 43)["response"][
            "signature"
        ]
        return answer
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong_origin", "passkey.origin_not_allowed"),
        ("framed_by_another_site", "passkey.origin_not_allowed"),
        ("wrong_rp_id", "passkey.rp_id_mismatch"),
        ("user_not_verified", "passkey.user_verification_required"),
        ("expired_challenge", "passkey.challenge_expired"),
        ("unknown_challenge", "passkey.challenge_invalid"),
        ("counter_backwards", "passkey.counter_regressed"),
        ("bad_signature", "passkey.invalid"),
    ],
)
async def test_a_refused_passkey_answer_opens_no_session(app, client, case, code) -> None:
    owner = await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)
    assert (await passkey_sign_in(client, device)).status_code == 200  # the counter is now 1
    sessions_before = await session_count(app, owner["user"]["id"])

    answer = await _login_answer(client, app, device, case)
    refused = await client.post(
        "/api/v1/auth/passkeys/login", json={"credential": answer}, headers=US
    )

    assert_problem(refused, 400, code)
    assert "access_token" not in refused.json()
    assert await session_count(app, owner["user"]["id"]) == sessions_before
    events = await audit_events(app, "passkey.refused")
    assert [e.details["reason"] for e in events] == [code]
    assert events[0].details["ceremony"] == "login"


async def test_a_replayed_assertion_is_refused(app, client) -> None:
    owner = await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)
    options = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()
    answer = device.get(options)

    first = await client.post(
        "/api/v1/auth/passkeys/login", json={"credential": answer}, headers=US
    )
    replay = await client.post(
        "/api/v1/auth/passkeys/login", json={"credential": answer}, headers=US
    )

    assert first.status_code == 200
    assert_problem(replay, 400, "passkey.challenge_invalid")
    assert await session_count(app, owner["user"]["id"]) == 2


async def test_one_answer_sent_twice_at_once_signs_in_once(app, client) -> None:
    owner = await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)
    options = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()
    answer = device.get(options)

    results = await asyncio.gather(
        *[
            client.post("/api/v1/auth/passkeys/login", json={"credential": answer}, headers=US)
            for _ in range(4)
        ]
    )

    assert sorted(r.status_code for r in results) == [200, 400, 400, 400]
    assert await session_count(app, owner["user"]["id"]) == 2


async def test_a_passkey_answer_naming_another_account_is_refused(app, client) -> None:
    alice, bob = await sign_in(client), await sign_in(client)
    alice_device, bob_device = SoftAuthenticator(), SoftAuthenticator()
    await add_passkey(client, alice["access_token"], alice_device)
    await add_passkey(client, bob["access_token"], bob_device)

    # Bob's credential claiming to be Alice's account (her user handle).
    refused = await passkey_sign_in(
        client, bob_device, user_handle=alice_device.credentials[0].user_handle
    )

    assert_problem(refused, 400, "passkey.not_recognized")
    assert await session_count(app, alice["user"]["id"]) == 1
    assert await session_count(app, bob["user"]["id"]) == 1
    assert [e.details["reason"] for e in await audit_events(app, "passkey.refused")] == [
        "passkey.not_recognized"
    ]


async def test_an_unregistered_passkey_is_not_recognized(app, client) -> None:
    stranger = SoftAuthenticator()
    stranger.create(
        {"rp": {"id": "localhost"}, "user": {"id": "AAAA", "name": "x"}, "challenge": "AAAA"}
    )

    refused = await passkey_sign_in(client, stranger)

    assert_problem(refused, 400, "passkey.not_recognized")


async def test_a_passkey_of_one_market_does_not_sign_in_to_another(client) -> None:
    owner = await sign_in(client, market="us")
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)

    refused = await passkey_sign_in(client, device, market="kg")

    assert_problem(refused, 400, "passkey.not_recognized")


async def test_a_disabled_account_cannot_sign_in_with_its_passkey(app, client) -> None:
    admin = await make_admin(app, client)
    owner = await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)
    await client.post(
        f"/api/v1/admin/users/{owner['user']['id']}/disable", headers=auth(admin["access_token"])
    )

    refused = await passkey_sign_in(client, device)

    assert_problem(refused, 403, "auth.account_disabled")


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong_origin", "passkey.origin_not_allowed"),
        ("wrong_rp_id", "passkey.rp_id_mismatch"),
        ("user_not_verified", "passkey.user_verification_required"),
        ("expired_challenge", "passkey.challenge_expired"),
        ("replayed_challenge", "passkey.challenge_invalid"),
        ("another_sessions_challenge", "passkey.challenge_invalid"),
        ("login_challenge", "passkey.challenge_invalid"),
    ],
)
async def test_a_refused_registration_adds_no_passkey(app, client, case, code) -> None:
    owner = await sign_in(client)
    token = owner["access_token"]
    device = SoftAuthenticator()
    other_session = await sign_in(client, owner["user"]["phone_number"])
    options = (await client.post("/api/v1/profile/passkeys/options", headers=auth(token))).json()
    answer_args: dict[str, Any] = {}
    if case == "wrong_origin":
        answer_args["origin"] = "http://localhost.evil.example:8000"
    elif case == "wrong_rp_id":
        answer_args["rp_id"] = "evil.example"
    elif case == "user_not_verified":
        answer_args["user_verified"] = False
    elif case == "expired_challenge":
        await _expire_challenges(app)
    elif case == "replayed_challenge":
        first = device.create(options)
        ok = await client.post(
            "/api/v1/profile/passkeys", json={"credential": first}, headers=auth(token)
        )
        assert ok.status_code == 201
    elif case == "another_sessions_challenge":
        token = other_session["access_token"]
    elif case == "login_challenge":
        login = (await client.post("/api/v1/auth/passkeys/login/options", headers=US)).json()
        answer_args["challenge"] = login["challenge"]
    before = (await client.get("/api/v1/profile/passkeys", headers=auth(token))).json()

    refused = await client.post(
        "/api/v1/profile/passkeys",
        json={"credential": device.create(options, **answer_args)},
        headers=auth(token),
    )

    assert_problem(refused, 400, code)
    after = (await client.get("/api/v1/profile/passkeys", headers=auth(token))).json()
    assert after == before
    events = await audit_events(app, "passkey.refused")
    assert [(e.details["reason"], e.details["ceremony"]) for e in events] == [(code, "register")]


async def test_a_passkey_registered_to_another_account_cannot_be_added_again(app, client) -> None:
    alice, bob = await sign_in(client), await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, alice["access_token"], device)
    options = (
        await client.post("/api/v1/profile/passkeys/options", headers=auth(bob["access_token"]))
    ).json()
    # The authenticator attests Alice's credential again, answering Bob's challenge.
    replay = device.create(options, reuse=device.credentials[0])

    refused = await client.post(
        "/api/v1/profile/passkeys",
        json={"credential": replay},
        headers=auth(bob["access_token"]),
    )

    assert_problem(refused, 409, "passkey.already_registered")
    listed = await client.get("/api/v1/profile/passkeys", headers=auth(bob["access_token"]))
    assert listed.json()["items"] == []


async def test_guests_cannot_add_passkeys(client) -> None:
    guest = await start_guest(client)

    refused = await client.post(
        "/api/v1/profile/passkeys/options", headers=auth(guest["access_token"])
    )

    assert_problem(refused, 403, "auth.guest_not_allowed")


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"id": "x", "rawId": "x", "type": "password", "response": {}},
        {"id": "a b", "rawId": "a", "type": "public-key", "response": {"clientDataJSON": "a"}},
    ],
)
async def test_malformed_passkey_answers_are_422(client, credential) -> None:
    refused = await client.post(
        "/api/v1/auth/passkeys/login", json={"credential": credential}, headers=US
    )

    assert_problem(refused, 422, "request.invalid")


async def test_garbage_inside_a_well_formed_answer_is_a_clear_400(app, client) -> None:
    answer = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "bm90IGpzb24", "authenticatorData": "", "signature": ""},
    }

    refused = await client.post(
        "/api/v1/auth/passkeys/login", json={"credential": answer}, headers=US
    )

    assert_problem(refused, 400, "passkey.invalid")
    assert [e.details["reason"] for e in await audit_events(app, "passkey.refused")] == [
        "passkey.invalid"
    ]


# Managing them --------------------------------------------------------------------------------


async def test_rename_and_remove_your_passkeys_but_not_others(app, client) -> None:
    alice, bob = await sign_in(client), await sign_in(client)
    device = SoftAuthenticator()
    passkey = await add_passkey(client, alice["access_token"], device)
    url = f"/api/v1/profile/passkeys/{passkey['id']}"

    not_bobs = await client.patch(url, json={"name": "Mine"}, headers=auth(bob["access_token"]))
    bob_delete = await client.delete(url, headers=auth(bob["access_token"]))
    renamed = await client.patch(url, json={"name": "Work"}, headers=auth(alice["access_token"]))

    assert_problem(not_bobs, 404, "passkey.not_found")
    assert_problem(bob_delete, 404, "passkey.not_found")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Work"

    removed = await client.delete(url, headers=auth(alice["access_token"]))

    assert removed.status_code == 204
    listed = await client.get("/api/v1/profile/passkeys", headers=auth(alice["access_token"]))
    assert listed.json()["items"] == []
    assert_problem(await passkey_sign_in(client, device), 400, "passkey.not_recognized")
    assert [e.details["passkey_id"] for e in await audit_events(app, "passkey.removed")] == [
        passkey["id"]
    ]


async def test_an_account_holds_at_most_twenty_passkeys(client) -> None:
    signed = await sign_in(client)
    for _ in range(20):
        await add_passkey(client, signed["access_token"], SoftAuthenticator())

    refused = await client.post(
        "/api/v1/profile/passkeys/options", headers=auth(signed["access_token"])
    )

    assert_problem(refused, 409, "passkey.limit_reached")


# Native apps ----------------------------------------------------------------------------------

FINGERPRINT = ":".join(["AB"] * 32)


@pytest.fixture
def native_settings(make_settings: Any) -> Any:
    return make_settings(
        passkeys={
            "rp_id": "localhost",
            "origins": ["http://localhost:8000"],
            "apple_app_ids": ["ABCDE12345.com.example.shop"],
            "android_apps": [
                {"package_name": "com.example.shop", "sha256_cert_fingerprints": [FINGERPRINT]}
            ],
        }
    )


async def test_well_known_files_list_the_configured_apps(native_settings) -> None:
    from keyturn.app import create_app
    from tests.conftest import http_client

    app = create_app(native_settings)
    async with http_client(app) as client:
        aasa = await client.get("/.well-known/apple-app-site-association")
        links = await client.get("/.well-known/assetlinks.json")
    await app.state.databases.dispose()

    assert aasa.status_code == 200 and aasa.headers["content-type"] == "application/json"
    assert aasa.json() == {"webcredentials": {"apps": ["ABCDE12345.com.example.shop"]}}
    assert links.status_code == 200 and links.headers["content-type"] == "application/json"
    assert links.json() == [
        {
            "relation": [
                "delegate_permission/common.handle_all_urls",
                "delegate_permission/common.get_login_creds",
            ],
            "target": {
                "namespace": "android_app",
                "package_name": "com.example.shop",
                "sha256_cert_fingerprints": [FINGERPRINT],
            },
        }
    ]


async def test_well_known_files_are_404_when_no_app_is_configured(client) -> None:
    assert_problem(await client.get("/.well-known/apple-app-site-association"), 404, "not_found")
    assert_problem(await client.get("/.well-known/assetlinks.json"), 404, "not_found")


async def test_the_android_app_signs_in_with_the_sites_passkey(native_settings) -> None:
    from keyturn.app import create_app
    from tests.conftest import http_client

    app = create_app(native_settings)
    try:
        async with http_client(app) as client:
            signed = await sign_in(client)
            site = SoftAuthenticator(origin="http://localhost:8000")
            await add_passkey(client, signed["access_token"], site)
            apk_origin = "android:apk-key-hash:" + "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s"

            from_app = await passkey_sign_in(client, site, origin=apk_origin)
            other_port = await passkey_sign_in(client, site, origin="http://localhost:9999")
    finally:
        await app.state.databases.dispose()

    assert from_app.status_code == 200, from_app.text
    assert_problem(other_port, 400, "passkey.origin_not_allowed")


def test_passkey_settings_refuse_origins_off_the_rp_id(make_settings) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not on rp_id"):
        make_settings(passkeys={"rp_id": "shop.example", "origins": ["https://evil.example"]})
    with pytest.raises(ValidationError, match="IP address"):
        make_settings(passkeys={"rp_id": "127.0.0.1"})


async def test_passkey_sign_ins_are_counted_by_outcome(client) -> None:
    from tests.system.test_metrics import moved, scrape

    owner = await sign_in(client)
    device = SoftAuthenticator()
    await add_passkey(client, owner["access_token"], device)
    before = await scrape(client)

    assert (await passkey_sign_in(client, device)).status_code == 200
    refused = await passkey_sign_in(client, device, user_verified=False)

    assert refused.status_code == 400
    changes = moved(before, await scrape(client))
    assert changes["keyturn_sign_ins_total{market=us,method=passkey,outcome=ok}"] == 1
    assert changes["keyturn_sign_ins_total{market=us,method=passkey,outcome=refused}"] == 1
