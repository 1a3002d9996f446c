"""Staff find an account, read it, and end its sessions (`/api/v1/admin/users/...`)."""

import httpx
import pytest
from sqlalchemy import func, select

from keyturn.audit.models import AuditEvent
from keyturn.sessions.models import Session
from tests.factories import (
    add_passkey,
    auth,
    enrol_totp,
    make_admin,
    new_email,
    new_phone,
    register,
    sign_in,
)
from tests.harness.authenticator import SoftAuthenticator
from tests.harness.oauth_provider import Social
from tests.problems import assert_problem


async def live_sessions(app, user_id: int, market: str = "us") -> int:
    async with app.state.databases.session(market) as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(Session)
                .where(Session.user_id == user_id, Session.revoked_at.is_(None))
            )
            or 0
        )


async def test_staff_find_a_customer_by_email_phone_or_id_and_read_their_account(
    app, client: httpx.AsyncClient
) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    email = new_email()
    by_mail = await register(client, email, full_name="Ada Customer")
    phone = new_phone()
    by_phone = await sign_in(client, phone, device_name="Phone A")
    await sign_in(client, phone, device_name="Phone B")

    def ids(response: httpx.Response) -> list[int]:
        assert response.status_code == 200, response.text
        return [u["id"] for u in response.json()["items"]]

    assert ids(await client.get("/api/v1/admin/users", params={"q": email}, headers=admin)) == [
        by_mail["user"]["id"]
    ]
    part = email.split("@")[0].upper()  # any case, any part
    assert by_mail["user"]["id"] in ids(
        await client.get("/api/v1/admin/users", params={"q": part}, headers=admin)
    )
    spaced = f"{phone[:2]} {phone[2:5]} {phone[5:]}"  # as staff type it from a call
    assert ids(
        await client.get("/api/v1/admin/users", params={"q": phone[-7:]}, headers=admin)
    ) == [by_phone["user"]["id"]]
    assert by_phone["user"]["id"] in ids(
        await client.get("/api/v1/admin/users", params={"q": spaced}, headers=admin)
    )
    user_id = str(by_phone["user"]["id"])
    assert by_phone["user"]["id"] in ids(
        await client.get("/api/v1/admin/users", params={"q": user_id}, headers=admin)
    )
    assert (
        ids(await client.get("/api/v1/admin/users", params={"q": "nobody@"}, headers=admin)) == []
    )

    detail = await client.get(f"/api/v1/admin/users/{by_phone['user']['id']}", headers=admin)
    assert detail.status_code == 200
    body = detail.json()
    assert body["phone_number"] == phone and body["sign_in_methods"] == ["phone"]
    assert body["live_sessions"] == 2 and body["is_active"] is True
    mail_detail = (
        await client.get(f"/api/v1/admin/users/{by_mail['user']['id']}", headers=admin)
    ).json()
    assert mail_detail["sign_in_methods"] == ["password"]
    assert mail_detail["full_name"] == "Ada Customer"
    assert "password_hash" not in mail_detail

    await add_passkey(client, by_phone["access_token"], SoftAuthenticator())
    detail = await client.get(f"/api/v1/admin/users/{by_phone['user']['id']}", headers=admin)
    assert detail.json()["sign_in_methods"] == ["phone", "passkey"]

    await enrol_totp(client, by_phone["access_token"])
    detail = await client.get(f"/api/v1/admin/users/{by_phone['user']['id']}", headers=admin)
    assert detail.json()["sign_in_methods"] == ["phone", "passkey", "totp"]


async def test_staff_end_one_session_or_all_of_them(app, client: httpx.AsyncClient) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    phone = new_phone()
    a = await sign_in(client, phone, device_name="Laptop")
    b = await sign_in(client, phone, device_name="Phone")
    c = await sign_in(client, phone, device_name="Tablet")
    user_id = a["user"]["id"]

    listed = await client.get(f"/api/v1/admin/users/{user_id}/sessions", headers=admin)
    assert listed.status_code == 200
    assert {s["device_name"] for s in listed.json()["items"]} == {"Laptop", "Phone", "Tablet"}

    ended = await client.delete(
        f"/api/v1/admin/users/{user_id}/sessions/{a['session_id']}", headers=admin
    )
    assert ended.status_code == 204
    assert (await client.get("/api/v1/profile", headers=auth(a["access_token"]))).status_code == 401
    assert (await client.get("/api/v1/profile", headers=auth(b["access_token"]))).status_code == 200

    everything = await client.delete(f"/api/v1/admin/users/{user_id}/sessions", headers=admin)
    assert everything.status_code == 200 and everything.json()["sessions_revoked"] == 2
    for token in (b, c):
        r = await client.get("/api/v1/profile", headers=auth(token["access_token"]))
        assert r.status_code == 401
    # The account stays enabled: the person simply signs in again.
    assert (await sign_in(client, phone))["user"]["id"] == user_id
    async with app.state.databases.session("us") as db:
        revoked = (
            await db.scalars(
                select(AuditEvent.details).where(
                    AuditEvent.user_id == user_id, AuditEvent.event == "session.revoked"
                )
            )
        ).all()
    assert len(revoked) == 2 and all("by" in d for d in revoked)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/admin/users?limit=0", 422, "request.invalid"),
        ("GET", "/api/v1/admin/users?q=", 422, "request.invalid"),
        ("GET", "/api/v1/admin/users?cursor=abc", 422, "request.invalid"),
        ("GET", "/api/v1/admin/users/0", 422, "request.invalid"),
        ("GET", "/api/v1/admin/users/999999", 404, "not_found"),
        ("GET", "/api/v1/admin/users/999999/sessions", 404, "not_found"),
        ("DELETE", "/api/v1/admin/users/999999/sessions", 404, "not_found"),
        ("DELETE", "/api/v1/admin/users/{user}/sessions/nothex!", 422, "request.invalid"),
        ("DELETE", "/api/v1/admin/users/{user}/sessions/{other}", 404, "not_found"),
    ],
)
async def test_bad_admin_user_requests_are_refused_and_end_nothing(
    app, client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    victim = await sign_in(client)
    other = await sign_in(client)  # someone else's session is not this user's to end
    url = path.format(user=victim["user"]["id"], other=other["session_id"])
    assert_problem(await client.request(method, url, headers=admin), status, code)
    assert await live_sessions(app, victim["user"]["id"]) == 1
    assert await live_sessions(app, other["user"]["id"]) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/users/{user}"),
        ("GET", "/api/v1/admin/users/{user}/sessions"),
        ("DELETE", "/api/v1/admin/users/{user}/sessions"),
        ("DELETE", "/api/v1/admin/users/{user}/sessions/{session}"),
    ],
)
async def test_customers_cannot_use_the_admin_user_api(
    app, client: httpx.AsyncClient, method: str, path: str
) -> None:
    customer = await sign_in(client)
    url = path.format(user=customer["user"]["id"], session=customer["session_id"])
    refused = await client.request(method, url, headers=auth(customer["access_token"]))
    assert_problem(refused, 403, "auth.forbidden")
    assert await live_sessions(app, customer["user"]["id"]) == 1


async def test_another_markets_accounts_are_never_visible(app, client: httpx.AsyncClient) -> None:
    us_admin = auth((await make_admin(app, client, "us"))["access_token"], "us")
    kg_user = await sign_in(client, market="kg")
    kg_phone = kg_user["user"]["phone_number"]
    found = await client.get("/api/v1/admin/users", params={"q": kg_phone}, headers=us_admin)
    assert found.status_code == 200 and found.json()["items"] == []
    # A us admin token cannot be pointed at the kg database.
    kg_headers = {**us_admin, "X-Market": "kg"}
    for path in ("/api/v1/admin/users", f"/api/v1/admin/users/{kg_user['user']['id']}/sessions"):
        assert_problem(await client.get(path, headers=kg_headers), 403, "auth.forbidden")
    assert await live_sessions(app, kg_user["user"]["id"], "kg") == 1


async def test_staff_see_an_apple_or_google_sign_in_among_the_methods(social: Social) -> None:
    client, nonce = social.client, "nonce-of-this-sign-in"
    admin = auth((await make_admin(social.app, client))["access_token"])
    token = social.fake.id_token("google", "google-admin-view-1", email=new_email(), nonce=nonce)
    signed = await client.post(
        "/api/v1/auth/oauth/google",
        json={"id_token": token, "nonce": nonce},
        headers={"X-Market": "us"},
    )
    assert signed.status_code == 200, signed.text
    detail = await client.get(f"/api/v1/admin/users/{signed.json()['user']['id']}", headers=admin)
    assert detail.json()["sign_in_methods"] == ["google"]
