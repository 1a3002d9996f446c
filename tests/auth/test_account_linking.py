"""Account linking: phone and email sign-ins reach the same user, profile and cart."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from keyturn.audit.models import AuditEvent
from keyturn.users.models import User
from tests.factories import (
    STRONG_PASSWORD,
    add_to_cart,
    auth,
    create_product,
    latest_code,
    login,
    make_admin,
    new_email,
    new_phone,
    register,
    sign_in,
    start_guest,
)
from tests.problems import assert_problem


async def claim_email(
    client: httpx.AsyncClient, token: str, email: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/link/email",
        json={"email": email, "password": password},
        headers=auth(token),
    )


async def link_email(
    client: httpx.AsyncClient, token: str, email: str, password: str = STRONG_PASSWORD
) -> httpx.Response:
    """Claim the address, then answer the code emailed to it (docs/email-proof.md)."""
    claimed = await claim_email(client, token, email, password)
    if claimed.status_code != 202:
        return claimed
    outbox = await client.get(
        "/api/v1/dev/outbox", params={"to": email}, headers={"X-Market": "us"}
    )
    code = outbox.json()["items"][0]["code"]
    return await client.post(
        "/api/v1/auth/link/email/verify", json={"code": code}, headers=auth(token)
    )


async def link_phone(client: httpx.AsyncClient, token: str, phone: str) -> httpx.Response:
    sent = await client.post(
        "/api/v1/auth/link/phone/send", json={"phone": phone}, headers=auth(token)
    )
    assert sent.status_code == 200, sent.text
    code = await latest_code(client, phone)
    return await client.post(
        "/api/v1/auth/link/phone/verify",
        json={"phone": phone, "verification_code": code},
        headers=auth(token),
    )


async def _snapshot(app: FastAPI) -> list[tuple[Any, ...]]:
    async with app.state.databases.session("us") as db:
        rows = await db.execute(
            select(User.id, User.email, User.phone_number, User.password_hash).order_by(User.id)
        )
        return [tuple(r) for r in rows]


async def test_phone_user_adds_an_email_and_signs_in_by_email_to_the_same_profile_and_cart(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await make_admin(app, client)
    product = await create_product(client, admin["access_token"])
    phone = new_phone()
    by_phone = await sign_in(client, phone)
    added = await add_to_cart(client, by_phone["access_token"], product["skus"][0]["id"], 2)
    assert added.status_code == 200, added.text

    email = new_email()
    linked = await link_email(client, by_phone["access_token"], email)
    assert linked.status_code == 200, linked.text
    assert linked.json()["email"] == email and linked.json()["phone_number"] == phone

    by_email = await login(client, email)
    assert by_email.status_code == 200, by_email.text
    token = by_email.json()["access_token"]
    assert by_email.json()["user"]["id"] == by_phone["user"]["id"]
    profile = await client.get("/api/v1/profile", headers=auth(token))
    assert profile.json()["id"] == by_phone["user"]["id"]
    assert profile.json()["phone_number"] == phone
    cart = await client.get("/api/v1/cart", headers=auth(token))
    assert cart.status_code == 200
    assert [(i["sku_id"], i["quantity"]) for i in cart.json()["items"]] == [
        (product["skus"][0]["id"], 2)
    ]
    # And the phone still reaches the same account.
    again = await sign_in(client, phone)
    assert again["user"]["id"] == by_phone["user"]["id"] and again["user"]["email"] == email


async def test_email_user_adds_a_phone_proven_by_sms_and_signs_in_by_phone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = new_email()
    created = await register(client, email)
    phone = new_phone()
    linked = await link_phone(client, created["access_token"], phone)
    assert linked.status_code == 200, linked.text
    assert linked.json()["phone_number"] == phone and linked.json()["is_verified"] is True

    by_phone = await sign_in(client, phone)
    assert by_phone["is_new_user"] is False
    assert by_phone["user"]["id"] == created["user"]["id"]
    assert by_phone["user"]["email"] == email
    async with app.state.databases.session("us") as db:
        events = (
            await db.scalars(select(AuditEvent).where(AuditEvent.event == "account.linked"))
        ).all()
    assert [(e.user_id, e.details["method"]) for e in events] == [(created["user"]["id"], "phone")]


async def test_claiming_someone_elses_email_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner_email = new_email()
    await register(client, owner_email, company="Owner Inc")
    intruder = await sign_in(client)
    before = await _snapshot(app)
    r = await claim_email(client, intruder["access_token"], owner_email.upper(), "attacker 🦹 pass")
    assert r.status_code == 202  # the same answer as for a free address (no oracle)
    assert await _snapshot(app) == before
    assert (await login(client, owner_email)).json()["user"]["company"] == "Owner Inc"
    assert (await login(client, owner_email, "attacker 🦹 pass")).status_code == 401


async def test_linking_someone_elses_phone_is_a_conflict_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    phone = new_phone()
    phone_owner = await sign_in(client, phone)
    email_user = await register(client, new_email())
    before = await _snapshot(app)
    r = await link_phone(client, email_user["access_token"], phone)
    assert_problem(r, 409, "account.phone_taken")
    assert await _snapshot(app) == before
    owner = await client.get("/api/v1/profile", headers=auth(phone_owner["access_token"]))
    assert owner.json()["phone_number"] == phone


async def test_linking_needs_a_right_code(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await register(client, new_email())
    phone = new_phone()
    await client.post(
        "/api/v1/auth/link/phone/send", json={"phone": phone}, headers=auth(created["access_token"])
    )
    code = await latest_code(client, phone)
    before = await _snapshot(app)
    r = await client.post(
        "/api/v1/auth/link/phone/verify",
        json={"phone": phone, "verification_code": "000000" if code != "000000" else "111111"},
        headers=auth(created["access_token"]),
    )
    assert_problem(r, 400, "otp.invalid")
    assert await _snapshot(app) == before


async def test_wrong_link_codes_count_until_the_phone_is_locked(client: httpx.AsyncClient) -> None:
    created = await register(client, new_email())
    phone = new_phone()
    headers = auth(created["access_token"])
    await client.post("/api/v1/auth/link/phone/send", json={"phone": phone}, headers=headers)
    code = await latest_code(client, phone)
    wrong = "000000" if code != "000000" else "111111"
    remaining = []
    for _ in range(5):
        r = await client.post(
            "/api/v1/auth/link/phone/verify",
            json={"phone": phone, "verification_code": wrong},
            headers=headers,
        )
        remaining.append(assert_problem(r, 400, "otp.invalid")["attempts_remaining"])
    assert remaining == [4, 3, 2, 1, 0]
    locked = await client.post(
        "/api/v1/auth/link/phone/verify",
        json={"phone": phone, "verification_code": code},
        headers=headers,
    )
    assert_problem(locked, 429, "otp.too_many_attempts")
    me = await client.get("/api/v1/profile", headers=headers)
    assert me.json()["phone_number"] is None


async def test_an_account_with_an_email_cannot_link_another(client: httpx.AsyncClient) -> None:
    created = await register(client, new_email())
    r = await link_email(client, created["access_token"], new_email())
    assert_problem(r, 409, "account.already_linked")


async def test_link_email_applies_the_password_rules(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    signed = await sign_in(client)
    before = await _snapshot(app)
    r = await link_email(client, signed["access_token"], new_email(), "password123")
    assert_problem(r, 422, "password.weak")
    assert await _snapshot(app) == before


async def test_guests_register_instead_of_linking(client: httpx.AsyncClient) -> None:
    guest = await start_guest(client)
    r = await link_email(client, guest["access_token"], new_email())
    assert_problem(r, 403, "auth.guest_not_allowed")


async def test_linking_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/link/email",
        json={"email": new_email(), "password": STRONG_PASSWORD},
        headers={"X-Market": "us"},
    )
    assert r.status_code == 401
