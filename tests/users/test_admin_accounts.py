"""Only an admin enables or disables an account; disabling ends every session."""

from sqlalchemy import select

from keyturn.audit.models import AuditEvent
from tests.factories import auth, make_admin, new_phone, sign_in
from tests.problems import assert_problem


async def test_disabling_ends_every_session_and_blocks_sign_in(app, client) -> None:
    admin = await make_admin(app, client)
    phone = new_phone()
    a = await sign_in(client, phone, device_name="A")
    b = await sign_in(client, phone, device_name="B")
    user_id = a["user"]["id"]

    r = await client.post(
        f"/api/v1/admin/users/{user_id}/disable", headers=auth(admin["access_token"])
    )
    assert r.status_code == 200
    assert r.json()["user"]["is_active"] is False and r.json()["sessions_revoked"] == 2
    for token in (a, b):
        assert (
            await client.get("/api/v1/profile", headers=auth(token["access_token"]))
        ).status_code == 401
    assert (
        await client.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": a["refresh_token"]},
            headers={"X-Market": "us"},
        )
    ).status_code == 401

    # Signing in never re-enables a disabled account.
    await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
    )
    from tests.factories import latest_code

    code = await latest_code(client, phone)
    refused = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code},
        headers={"X-Market": "us"},
    )
    assert_problem(refused, 403, "auth.account_disabled")

    enabled = await client.post(
        f"/api/v1/admin/users/{user_id}/enable", headers=auth(admin["access_token"])
    )
    assert enabled.json()["user"]["is_active"] is True
    again = await sign_in(client, phone)
    assert again["user"]["id"] == user_id

    async with app.state.databases.session("us") as db:
        events = (
            await db.scalars(select(AuditEvent.event).where(AuditEvent.user_id == user_id))
        ).all()
    assert "account.disabled" in events and "account.enabled" in events


async def test_customers_cannot_use_admin_endpoints(client) -> None:
    customer = await sign_in(client)
    victim = await sign_in(client)
    r = await client.post(
        f"/api/v1/admin/users/{victim['user']['id']}/disable",
        headers=auth(customer["access_token"]),
    )
    assert_problem(r, 403, "auth.forbidden")
    assert (
        await client.get("/api/v1/profile", headers=auth(victim["access_token"]))
    ).status_code == 200


async def test_disabling_an_unknown_user_is_404(app, client) -> None:
    admin = await make_admin(app, client)
    r = await client.post("/api/v1/admin/users/999999/disable", headers=auth(admin["access_token"]))
    assert_problem(r, 404, "not_found")
