"""Deleting an account: nothing personal left in any table or in storage, orders kept for
accounting with their totals, Apple's token revoked (retried when Apple was down), and the
same phone or email free to sign up again. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from keyturn.app import create_app
from keyturn.auth.models import AppleRevocation
from keyturn.auth.oauth import revocations
from keyturn.db import utcnow
from keyturn.events.models import Event
from keyturn.orders.models import Order, OrderItem
from tests.conftest import http_client
from tests.factories import audit_events, auth, make_admin, sign_in
from tests.harness.oauth_provider import Social
from tests.privacy.people import NONCE, US, everything, find_everywhere
from tests.problems import assert_problem


def stored_files(social: Social) -> list[str]:
    root = social.app.state.settings.data_dir / "files"
    return [p.name for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_deleting_your_account_leaves_nothing_personal_and_keeps_the_orders(
    social: Social,
) -> None:
    fake, client = social.fake, social.client
    person = await everything(social)
    needles = [person.phone, person.email, person.name, person.apple_sub, person.street]
    assert len(await find_everywhere(social.app, needles)) > 5  # the scan sees them before
    assert stored_files(social)
    (apple_token,) = fake.refresh_tokens

    deleted = await client.delete("/api/v1/profile", headers=auth(person.token))
    assert deleted.status_code == 204, deleted.text

    assert await find_everywhere(social.app, needles) == []
    assert stored_files(social) == []
    assert fake.revoked == [apple_token]
    assert (await client.get("/api/v1/profile", headers=auth(person.token))).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.refresh_token}, headers=US
    )
    assert refreshed.status_code == 401
    async with social.app.state.databases.session("us") as db:
        order = await db.get(Order, person.order_id)
        assert order is not None and order.total_amount == Decimal(person.order_total)
        assert order.shipping_address["country"] == "US" and order.note is None
        items = await db.scalar(
            select(func.sum(OrderItem.quantity)).where(OrderItem.order_id == order.id)
        )
        assert items == 2

    # The same phone and the same Apple account start over as a new person.
    again = await sign_in(client, person.phone)
    assert again["is_new_user"] is True and again["user"]["id"] != person.user_id
    apple = await client.post(
        "/api/v1/auth/oauth/apple",
        json={"id_token": fake.id_token("apple", person.apple_sub, email=person.email,
                                        nonce=NONCE), "nonce": NONCE},
        headers=US,
    )  # fmt: skip
    assert apple.status_code == 200, apple.text
    assert apple.json()["is_new_user"] is True
    assert apple.json()["user"]["email"] == person.email
    orders = await client.get("/api/v1/profile/orders", headers=auth(again["access_token"]))
    assert orders.json()["items"] == []


async def test_apple_revocation_is_retried_until_apple_confirms(social: Social) -> None:
    fake, client = social.fake, social.client
    person = await everything(social)
    (apple_token,) = fake.refresh_tokens
    fake.revoke_down = True

    deleted = await client.delete("/api/v1/profile", headers=auth(person.token))
    assert deleted.status_code == 204, deleted.text
    assert fake.revoke_requests == 1 and fake.revoked == []
    oauth, databases = social.app.state.oauth, social.app.state.databases
    later = utcnow() + timedelta(days=2)
    assert await revocations.deliver_due(databases, ["us"], oauth, now=later) == 0  # still down
    assert fake.revoke_requests == 2

    fake.revoke_down = False
    assert await revocations.deliver_due(databases, ["us"], oauth, now=later) == 1
    assert fake.revoked == [apple_token]
    async with databases.session("us") as db:
        assert await db.scalar(select(func.count()).select_from(AppleRevocation)) == 0
    assert await find_everywhere(social.app, [apple_token]) == []


async def test_an_admin_deletes_a_customer_account(social: Social) -> None:
    client = social.client
    person = await everything(social)
    admin = person.shop["admin"]
    refused = await client.delete(
        f"/api/v1/admin/users/{person.user_id}", headers=auth(person.token)
    )
    assert_problem(refused, 403, "auth.forbidden")
    deleted = await client.delete(f"/api/v1/admin/users/{person.user_id}", headers=auth(admin))
    assert deleted.status_code == 204, deleted.text
    assert await find_everywhere(social.app, [person.phone, person.email, person.name]) == []
    assert (await client.get("/api/v1/profile", headers=auth(person.token))).status_code == 401
    again = await client.delete(f"/api/v1/admin/users/{person.user_id}", headers=auth(admin))
    assert_problem(again, 404, "not_found")
    enable = await client.post(f"/api/v1/admin/users/{person.user_id}/enable", headers=auth(admin))
    assert_problem(enable, 404, "not_found")  # a deleted account cannot be brought back


async def test_deleting_a_phone_account_frees_the_number(social: Social) -> None:
    client = social.client
    await make_admin(social.app, client)
    person = await sign_in(client)
    phone = person["user"]["phone_number"]
    assert (
        await client.delete("/api/v1/profile", headers=auth(person["access_token"]))
    ).status_code == 204
    assert await find_everywhere(social.app, [phone]) == []
    again = await sign_in(client, phone)
    assert again["is_new_user"] is True


async def test_other_services_hear_of_the_deletion_after_its_sessions_end(social: Social) -> None:
    client = social.client
    phone_one = await sign_in(client, device_name="phone")
    phone = phone_one["user"]["phone_number"]
    laptop = await sign_in(client, phone, device_name="laptop")
    user_id = phone_one["user"]["id"]
    async with social.app.state.databases.session("us") as db:
        before = await db.scalar(select(func.max(Event.id))) or 0

    deleted = await client.delete("/api/v1/profile", headers=auth(laptop["access_token"]))
    assert deleted.status_code == 204, deleted.text

    async with social.app.state.databases.session("us") as db:
        told = [
            (e.type, e.payload)
            for e in await db.scalars(select(Event).where(Event.id > before).order_by(Event.id))
        ]
    revoked = [p for t, p in told if t == "session.revoked"]
    assert {p["session_id"] for p in revoked} == {phone_one["session_id"], laptop["session_id"]}
    assert {p["reason"] for p in revoked} == {"account_deleted"}
    assert told[-1] == (
        "user.deleted",
        {
            "user_id": user_id,
            "market": "us",
            "role": "customer",
            "is_active": False,
            "by": "self",
            "by_admin_id": None,
        },
    )


async def test_your_address_is_not_kept_when_you_delete_your_account_but_staffs_is(
    make_settings,
) -> None:
    proxy, home, office = "203.0.113.7", "198.51.100.77", "192.0.2.41"  # proxy: the test client
    app = create_app(make_settings(trusted_proxies=[proxy]))
    try:
        async with http_client(app) as client:
            admin = await make_admin(app, client)
            from_home = {**US, "X-Forwarded-For": home}
            person = await sign_in(client, headers=from_home)
            deleted = await client.delete(
                "/api/v1/profile", headers={**from_home, **auth(person["access_token"])}
            )
            assert deleted.status_code == 204, deleted.text
            assert await find_everywhere(app, [home]) == []
            (by_self,) = await audit_events(app, "account.deleted")
            assert by_self.ip is None and by_self.details["by"] == "self"

            customer = await sign_in(client)
            by_staff = await client.delete(
                f"/api/v1/admin/users/{customer['user']['id']}",
                headers={**auth(admin["access_token"]), "X-Forwarded-For": office},
            )
            assert by_staff.status_code == 204, by_staff.text
            (_, staff) = await audit_events(app, "account.deleted")
            assert staff.ip == office
            assert staff.details["by"] == f"admin:{admin['user']['id']}"
    finally:
        await app.state.databases.dispose()
