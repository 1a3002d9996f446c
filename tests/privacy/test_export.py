"""The data export: everything the test created about the person, and no secret."""

from __future__ import annotations

import json

from sqlalchemy import select

from keyturn.auth.models import Identity
from keyturn.users.models import User
from tests.factories import STRONG_PASSWORD, add_passkey, auth, register
from tests.harness.authenticator import SoftAuthenticator
from tests.harness.oauth_provider import Social
from tests.privacy.people import everything


async def test_the_export_holds_everything_about_the_person(social: Social) -> None:
    person = await everything(social)
    response = await social.client.get("/api/v1/profile/export", headers=auth(person.token))
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["format"] == "keyturn.export/1" and doc["market"] == "us"
    assert doc["profile"]["id"] == person.user_id
    assert doc["profile"]["full_name"] == person.name
    methods = doc["sign_in_methods"]
    assert (methods["email"], methods["phone_number"]) == (person.email, person.phone)
    assert [i["provider"] for i in methods["identities"]] == ["apple"]
    assert [p["name"] for p in methods["passkeys"]] == [f"{person.name}'s YubiKey"]
    assert [a["line1"] for a in doc["addresses"]] == [person.street]
    assert [line["sku_id"] for line in doc["cart"]["items"]] == [person.shop["mug_sku"]]
    assert [i["product_id"] for i in doc["wishlist"]["items"]] == [person.shop["mug"]]
    (order,) = doc["orders"]
    assert order["id"] == person.order_id and order["total_amount"] == person.order_total
    assert [h["status"] for h in order["history"]] == ["pending"]
    assert [f["filename"] for f in doc["files"]] == [f"{person.name} resume.pdf"]
    assert {c["name"]: c["used"] for c in doc["usage"]["counters"]}["uploads"] == 1
    assert any(s["device_name"] == f"{person.name}'s iPhone" for s in doc["sessions"])
    events = [e["event"] for e in doc["audit_events"]]
    assert "login.succeeded" in events and "account.linked" in events


async def test_the_export_contains_no_secret(social: Social) -> None:
    person = await everything(social)
    (apple_token,) = social.fake.refresh_tokens
    response = await social.client.get("/api/v1/profile/export", headers=auth(person.token))
    async with social.app.state.databases.session("us") as db:
        sealed = (await db.scalars(select(Identity.refresh_token_sealed))).one()
    text = response.text
    for secret in (person.token, person.refresh_token, apple_token, sealed):
        assert secret and secret not in text
    assert "token" not in json.dumps(list(_keys(response.json())))


async def test_a_password_accounts_export_has_no_hash(social: Social) -> None:
    signed = await register(social.client)
    response = await social.client.get(
        "/api/v1/profile/export", headers=auth(signed["access_token"])
    )
    assert response.status_code == 200, response.text
    async with social.app.state.databases.session("us") as db:
        password_hash = (await db.scalars(select(User.password_hash))).one()
    assert password_hash and password_hash not in response.text
    assert "$argon2" not in response.text and STRONG_PASSWORD not in response.text
    assert response.json()["sign_in_methods"]["has_password"] is True


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_the_export_lists_passkeys_without_their_keys(social: Social) -> None:
    signed = await register(social.client)
    device = SoftAuthenticator()
    added = await add_passkey(social.client, signed["access_token"], device, name="Work laptop")
    response = await social.client.get(
        "/api/v1/profile/export", headers=auth(signed["access_token"])
    )
    assert response.status_code == 200, response.text
    (listed,) = response.json()["sign_in_methods"]["passkeys"]
    assert listed["id"] == added["id"] and listed["name"] == "Work laptop"
    assert device.credentials[0].credential_id_b64 not in response.text
    assert "public_key" not in response.text
