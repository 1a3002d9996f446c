"""A password reset that first proves a planted email removes every way in the planter added
(docs/email-proof.md); other services hear each removal with its reason."""

from __future__ import annotations

from sqlalchemy import select

from keyturn.events.models import Event
from tests.auth.test_email_proof import link_phone
from tests.factories import add_passkey, auth, new_email, new_phone, register
from tests.harness.authenticator import SoftAuthenticator
from tests.harness.oauth_provider import Social

US = {"X-Market": "us"}


async def test_a_first_proof_announces_each_way_in_it_removed(social: Social) -> None:
    client, fake = social.client, social.fake
    email = new_email()
    planted = await register(client, email)
    token = planted["access_token"]
    await link_phone(client, token, new_phone())
    passkey = await add_passkey(client, token, SoftAuthenticator())
    linked = await client.post(
        "/api/v1/profile/identities/google",
        json={"id_token": fake.id_token("google", f"g-{email}", nonce="n"), "nonce": "n"},
        headers=auth(token),
    )
    assert linked.status_code == 200, linked.text
    async with social.app.state.databases.session("us") as db:
        before = await db.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))

    asked = await client.post("/api/v1/auth/password/forgot", json={"email": email}, headers=US)
    assert asked.status_code == 202, asked.text
    outbox = await client.get("/api/v1/dev/outbox", params={"to": email}, headers=US)
    (mail,) = [m for m in outbox.json()["items"] if m["kind"] == "password_reset"]
    reset = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": mail["token"], "new_password": "the owner's 🐎 new horse"},
        headers=US,
    )
    assert reset.status_code == 200, reset.text

    async with social.app.state.databases.session("us") as db:
        rows = await db.scalars(select(Event).where(Event.id > before).order_by(Event.id))
        told = [(e.type, e.payload) for e in rows]
    user_id = planted["user"]["id"]
    assert (
        "passkey.removed",
        {"user_id": user_id, "passkey_id": passkey["id"], "reason": "email_first_proven"},
    ) in told
    assert (
        "identity.unlinked",
        {"user_id": user_id, "provider": "google", "reason": "email_first_proven"},
    ) in told
    (updated,) = [p for t, p in told if t == "user.updated"]
    assert updated["changed"] == ["email_verified", "phone_number"]
    (changed,) = [p for t, p in told if t == "password.changed"]
    assert changed["how"] == "reset"
