"""Sign in with Apple and Google (native id_token) against a local fake provider with its own
keys: the linking rules, every forgery refused with nothing created, key rotation followed.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
import jwt
from sqlalchemy import select

from keyturn.auth.models import Identity
from keyturn.auth.oauth import revocations
from tests.factories import (
    add_to_cart,
    auth,
    new_email,
    open_shop,
    register,
    sign_in,
    start_guest,
)
from tests.harness.oauth_provider import (
    APPLE_CLIENT_ID,
    FakeProviders,
    SigningKey,
    Social,
    counts,
)
from tests.problems import assert_problem

US = {"X-Market": "us"}
NONCE = "2f5d3f0c-nonce-of-this-sign-in"
_subjects = iter(range(10**6))


def new_sub(provider: str = "apple") -> str:
    return f"{provider}-{next(_subjects):06d}.{time.time_ns()}"


async def oauth(
    client: httpx.AsyncClient,
    provider: str,
    token: str,
    *,
    nonce: str | None = NONCE,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    payload = {"id_token": token, **body}
    if nonce is not None:
        payload["nonce"] = nonce
    return await client.post(
        f"/api/v1/auth/oauth/{provider}", json=payload, headers={**US, **(headers or {})}
    )


async def prove_email(client: httpx.AsyncClient, email: str) -> None:
    """The owner proves the mailbox the way keyturn knows: a completed password reset."""
    sent = await client.post("/api/v1/auth/password/forgot", json={"email": email}, headers=US)
    assert sent.status_code == 202, sent.text
    outbox = await client.get("/api/v1/dev/outbox", params={"to": email}, headers=US)
    token = outbox.json()["items"][0]["token"]
    reset = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": token, "new_password": "another horse 🐎 battery"},
        headers=US,
    )
    assert reset.status_code == 200, reset.text


async def test_apple_sign_in_creates_the_account_and_keeps_the_name_apple_sends_once(
    social: Social,
) -> None:
    fake, client = social.fake, social.client
    sub, email = new_sub(), new_email()
    first = await oauth(
        client,
        "apple",
        fake.id_token("apple", sub, email=email, email_verified="true", nonce=NONCE),
        full_name="Ada Lovelace",
        device_name="iPhone 16",
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["is_new_user"] is True
    assert body["user"]["email"] == email and body["user"]["email_verified"] is True
    assert body["user"]["full_name"] == "Ada Lovelace"
    assert body["access_token"] and body["refresh_token"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims.get("amr", ["apple"]) == ["apple"]

    # Later sign-ins: Apple sends no name; the one it sent stays.
    again = await oauth(client, "apple", fake.id_token("apple", sub, email=email, nonce=NONCE))
    assert again.status_code == 200, again.text
    assert again.json()["is_new_user"] is False
    assert again.json()["user"]["id"] == body["user"]["id"]
    assert again.json()["user"]["full_name"] == "Ada Lovelace"
    listed = await client.get(
        "/api/v1/profile/identities", headers=auth(again.json()["access_token"])
    )
    assert [(i["provider"], i["full_name"]) for i in listed.json()["items"]] == [
        ("apple", "Ada Lovelace")
    ]


async def test_google_sign_in_with_a_verified_email_reaches_the_proven_account(
    social: Social,
) -> None:
    fake, client = social.fake, social.client
    email = new_email()
    owner = await register(client, email)
    await prove_email(client, email)
    response = await oauth(
        client, "google", fake.id_token("google", new_sub("google"), email=email, nonce=NONCE)
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == owner["user"]["id"]
    assert response.json()["is_new_user"] is False


async def test_a_verified_email_never_links_to_an_account_whose_email_is_unproven(
    social: Social,
) -> None:
    """Pre-account takeover: someone registers the victim's address first and waits."""
    fake, client = social.fake, social.client
    email = new_email()
    squatter = await register(client, email)
    response = await oauth(
        client, "google", fake.id_token("google", new_sub("google"), email=email, nonce=NONCE)
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_new_user"] is True
    assert response.json()["user"]["id"] != squatter["user"]["id"]
    assert response.json()["user"]["email"] is None  # the squatter's row keeps it, blocking nobody


async def test_an_unverified_email_cannot_take_over_an_existing_account(social: Social) -> None:
    fake, client = social.fake, social.client
    email = new_email()
    await register(client, email)
    await prove_email(client, email)
    before = await counts(social.app)
    for provider, flag in (("google", False), ("apple", "false")):
        token = fake.id_token(
            provider, new_sub(provider), email=email, email_verified=flag, nonce=NONCE
        )
        response = await oauth(client, provider, token)
        assert_problem(response, 409, "identity.unverified_email_taken")
    assert await counts(social.app) == before


async def test_an_unverified_email_without_an_account_makes_an_account_without_it(
    social: Social,
) -> None:
    fake, client = social.fake, social.client
    email = new_email()
    token = fake.id_token(
        "google", new_sub("google"), email=email, email_verified=False, nonce=NONCE
    )
    response = await oauth(client, "google", token)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] is None
    # It blocked nobody: the owner registers the address afterwards.
    await register(client, email)


async def test_apple_private_relay_address_is_recorded_as_such(social: Social) -> None:
    fake, client = social.fake, social.client
    relay = f"x{time.time_ns()}@privaterelay.appleid.com"
    token = fake.id_token(
        "apple", new_sub(), email=relay, email_verified="true", is_private_email="true", nonce=NONCE
    )
    response = await oauth(client, "apple", token)
    assert response.status_code == 200, response.text
    listed = await client.get(
        "/api/v1/profile/identities", headers=auth(response.json()["access_token"])
    )
    assert listed.json()["items"][0]["private_relay"] is True


def _forgeries(fake: FakeProviders) -> dict[str, tuple[str, str, str | None]]:
    """name -> (provider, token, nonce sent)"""
    sub, now = new_sub(), time.time()
    apple_key = fake.keys["apple"][-1]
    stranger = SigningKey(apple_key.kid)  # a published kid, someone else's key
    kid = {"kid": apple_key.kid}
    claims = {"iss": "https://appleid.apple.com", "aud": APPLE_CLIENT_ID, "sub": sub,
              "iat": int(now), "exp": int(now + 600), "nonce": hashed(NONCE)}  # fmt: skip

    def apple(**kw: Any) -> str:
        return fake.id_token("apple", sub, **{"nonce": NONCE, **kw})

    def google(**kw: Any) -> str:
        return fake.id_token("google", sub, **{"nonce": NONCE, **kw})

    return {
        "wrong signature": ("apple", apple(key=stranger), NONCE),
        "foreign aud": ("apple", apple(aud="com.evil.app"), NONCE),
        "apple's aud on google": ("google", google(aud=APPLE_CLIENT_ID), NONCE),
        "expired": ("apple", apple(iat=now - 900, exp=now - 300), NONCE),
        "issued long ago": ("google", google(iat=now - 3000, exp=now + 600), NONCE),
        "issued in the future": ("google", google(iat=now + 3000, exp=now + 4000), NONCE),
        "wrong iss": ("apple", apple(iss="https://appleid.evil.com"), NONCE),
        "google's key for apple": ("apple", google(aud=APPLE_CLIENT_ID), NONCE),
        "missing nonce": ("apple", apple(), None),
        "nonce not in token": ("apple", apple(nonce=None), NONCE),
        "wrong nonce": ("apple", apple(nonce="another"), NONCE),
        "alg none": ("apple", jwt.encode(claims, None, algorithm="none", headers=kid), NONCE),
        "HS256 over the public key": ("apple", _hs256(claims, apple_key.public_pem(), kid), NONCE),
        "unknown kid": ("apple", apple(key=SigningKey("nobody")), NONCE),
        "not a jwt": ("google", "abcdefghij.klmnopqrst.uvwxyz0123", NONCE),
    }  # fmt: skip


def hashed(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _hs256(claims: dict[str, Any], secret: bytes, headers: dict[str, str]) -> str:
    """HMAC over the provider's public key: what a verifier that trusts `alg` would accept."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


async def test_forged_expired_foreign_or_replayed_tokens_are_refused_and_create_nothing(
    social: Social,
) -> None:
    before = await counts(social.app)
    for name, (provider, token, nonce) in _forgeries(social.fake).items():
        response = await oauth(social.client, provider, token, nonce=nonce)
        assert response.status_code == 401, (name, response.text)
        assert response.json()["code"] == "oauth.invalid_id_token", name
    assert await counts(social.app) == before


async def test_the_providers_key_rotation_is_followed_without_hammering_it(
    social: Social,
) -> None:
    fake, client = social.fake, social.client
    sub = new_sub("google")
    assert (
        await oauth(client, "google", fake.id_token("google", sub, nonce=NONCE))
    ).status_code == 200
    assert fake.jwks_fetches["google"] == 1
    social.app.state.oauth.verifier.age_cache("google", seconds=60)  # a minute passes
    fake.rotate("google")
    rotated = await oauth(client, "google", fake.id_token("google", sub, nonce=NONCE))
    assert rotated.status_code == 200, rotated.text
    assert fake.jwks_fetches["google"] == 2
    # Forged kids right after: refused from the cache, no refetch per request.
    for _ in range(5):
        forged = fake.id_token("google", sub, nonce=NONCE, key=SigningKey("forged"))
        assert (await oauth(client, "google", forged)).status_code == 401
    assert fake.jwks_fetches["google"] == 2


async def test_a_guest_signing_in_with_apple_keeps_the_cart(social: Social) -> None:
    fake, client = social.fake, social.client
    shop = await open_shop(social.app, client)
    guest = await start_guest(client)
    assert (await add_to_cart(client, guest["access_token"], shop["sku"], 2)).status_code in (
        200,
        201,
    )
    response = await oauth(
        client,
        "apple",
        fake.id_token("apple", new_sub(), nonce=NONCE),
        headers=auth(guest["access_token"]),
    )
    assert response.status_code == 200, response.text
    cart = await client.get("/api/v1/cart", headers=auth(response.json()["access_token"]))
    assert [(line["sku_id"], line["quantity"]) for line in cart.json()["items"]] == [
        (shop["sku"], 2)
    ]


async def test_a_disabled_account_cannot_sign_in_with_google(social: Social) -> None:
    fake, client = social.fake, social.client
    shop = await open_shop(social.app, client)
    sub = new_sub("google")
    first = (await oauth(client, "google", fake.id_token("google", sub, nonce=NONCE))).json()
    disabled = await client.post(
        f"/api/v1/admin/users/{first['user']['id']}/disable", headers=auth(shop["admin"], "us")
    )
    assert disabled.status_code == 200, disabled.text
    response = await oauth(client, "google", fake.id_token("google", sub, nonce=NONCE))
    assert_problem(response, 403, "auth.account_disabled")


async def test_a_provider_without_client_ids_is_not_enabled(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/oauth/apple",
        json={"id_token": "aaaaaaaaaa.bbbbbbbbbb.cccccccccc", "nonce": "n"},
        headers=US,
    )
    assert_problem(response, 404, "oauth.provider_not_enabled")
    unknown = await client.post(
        "/api/v1/auth/oauth/facebook",
        json={"id_token": "aaaaaaaaaa.bbbbbbbbbb.cccccccccc"},
        headers=US,
    )
    assert unknown.status_code == 422


async def test_a_phone_account_links_google_then_signs_in_with_it(social: Social) -> None:
    fake, client = social.fake, social.client
    person = await sign_in(client)
    token = person["access_token"]
    sub = new_sub("google")
    linked = await client.post(
        "/api/v1/profile/identities/google",
        json={
            "id_token": fake.id_token("google", sub, email=new_email(), nonce=NONCE),
            "nonce": NONCE,
        },
        headers=auth(token),
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["provider"] == "google"
    back = await oauth(client, "google", fake.id_token("google", sub, nonce=NONCE))
    assert back.json()["user"]["id"] == person["user"]["id"]

    # Someone else cannot link the same Google account to theirs.
    other = await sign_in(client)
    taken = await client.post(
        "/api/v1/profile/identities/google",
        json={"id_token": fake.id_token("google", sub, nonce=NONCE), "nonce": NONCE},
        headers=auth(other["access_token"]),
    )
    assert_problem(taken, 409, "identity.taken")

    # The phone remains a way in, so Google can go.
    unlinked = await client.delete("/api/v1/profile/identities/google", headers=auth(token))
    assert unlinked.status_code == 204, unlinked.text
    fresh = await oauth(client, "google", fake.id_token("google", sub, nonce=NONCE))
    assert fresh.json()["is_new_user"] is True


async def test_the_last_way_in_cannot_be_unlinked(social: Social) -> None:
    fake, client = social.fake, social.client
    person = (await oauth(client, "apple", fake.id_token("apple", new_sub(), nonce=NONCE))).json()
    response = await client.delete(
        "/api/v1/profile/identities/apple", headers=auth(person["access_token"])
    )
    assert_problem(response, 409, "identity.last_way_in")
    async with social.app.state.databases.session("us") as db:
        assert len((await db.scalars(select(Identity))).all()) == 1


async def test_apple_code_is_exchanged_for_a_refresh_token_kept_sealed(social: Social) -> None:
    fake, client = social.fake, social.client
    sub = new_sub()
    response = await oauth(
        client,
        "apple",
        fake.id_token("apple", sub, nonce=NONCE),
        authorization_code=fake.authorization_code(sub),
    )
    assert response.status_code == 200, response.text
    (issued,) = fake.refresh_tokens
    async with social.app.state.databases.session("us") as db:
        identity = (await db.scalars(select(Identity))).one()
    assert identity.refresh_token_sealed and issued not in identity.refresh_token_sealed


async def test_a_reset_of_a_planted_address_removes_the_planters_apple_and_google(
    social: Social,
) -> None:
    """Pre-account takeover through a linked identity: a stranger registers the victim's
    address (never proven), links their own Google and Apple, and waits. The owner's password
    reset is the address's first proof; afterwards those identities lead nowhere near the
    owner's account and Apple is asked to revoke the stranger's token."""
    fake, client = social.fake, social.client
    victim = new_email()
    planted = await register(client, victim)
    planter = auth(planted["access_token"])
    google_sub, apple_sub = new_sub("google"), new_sub("apple")
    for provider, sub, extra in (
        ("google", google_sub, {}),
        ("apple", apple_sub, {"authorization_code": fake.authorization_code(apple_sub)}),
    ):
        linked = await client.post(
            f"/api/v1/profile/identities/{provider}",
            json={"id_token": fake.id_token(provider, sub, nonce=NONCE), "nonce": NONCE, **extra},
            headers=planter,
        )
        assert linked.status_code == 200, linked.text

    await prove_email(client, victim)  # the owner takes the address back

    async with social.app.state.databases.session("us") as db:
        assert (await db.scalars(select(Identity))).all() == []
    for provider, sub in (("google", google_sub), ("apple", apple_sub)):
        back = await oauth(client, provider, fake.id_token(provider, sub, nonce=NONCE))
        assert back.status_code == 200, back.text
        assert back.json()["is_new_user"] is True
        assert back.json()["user"]["id"] != planted["user"]["id"]
    (apple_token,) = fake.refresh_tokens
    delivered = await revocations.deliver_due(
        social.app.state.databases, ["us"], social.app.state.oauth
    )
    assert delivered == 1 and fake.revoked == [apple_token]
