"""Logout is per session and immediate; it never touches the account (the seed's bug:
docs/tokens-and-sessions.md)."""

import httpx

from tests.factories import auth, new_phone, sign_in


async def profile_status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/profile", headers=auth(token))).status_code


async def test_logged_out_device_stays_dead_when_the_user_signs_in_elsewhere(client) -> None:
    phone = new_phone()
    device_a = await sign_in(client, phone, device_name="A")
    await client.post("/api/v1/auth/logout", headers=auth(device_a["access_token"]))
    device_b = await sign_in(client, phone, device_name="B")
    assert await profile_status(client, device_a["access_token"]) == 401
    assert await profile_status(client, device_b["access_token"]) == 200


async def test_logging_out_one_device_leaves_the_other_working(client) -> None:
    phone = new_phone()
    a = await sign_in(client, phone, device_name="A")
    b = await sign_in(client, phone, device_name="B")
    await client.post(
        "/api/v1/auth/logout", json={"scope": "current"}, headers=auth(a["access_token"])
    )
    assert await profile_status(client, a["access_token"]) == 401
    assert await profile_status(client, b["access_token"]) == 200


async def test_scope_all_ends_every_device(client) -> None:
    phone = new_phone()
    a = await sign_in(client, phone, device_name="A")
    b = await sign_in(client, phone, device_name="B")
    r = await client.post(
        "/api/v1/auth/logout", json={"scope": "all"}, headers=auth(a["access_token"])
    )
    assert r.status_code == 200 and r.json() == {
        "success": True,
        "message": "Logged out of every device.",
    }
    assert await profile_status(client, a["access_token"]) == 401
    assert await profile_status(client, b["access_token"]) == 401


async def test_scope_others_keeps_only_this_device(client) -> None:
    phone = new_phone()
    a = await sign_in(client, phone, device_name="A")
    b = await sign_in(client, phone, device_name="B")
    c = await sign_in(client, phone, device_name="C")
    await client.post(
        "/api/v1/auth/logout", json={"scope": "others"}, headers=auth(a["access_token"])
    )
    assert [await profile_status(client, t["access_token"]) for t in (a, b, c)] == [200, 401, 401]


async def test_logout_never_disables_the_account(client) -> None:
    signed = await sign_in(client)
    await client.post("/api/v1/auth/logout", headers=auth(signed["access_token"]))
    again = await sign_in(client, signed["user"]["phone_number"])
    assert again["user"]["is_active"] is True


async def test_bad_logout_scope_is_422_and_logs_nobody_out(client) -> None:
    signed = await sign_in(client)
    r = await client.post(
        "/api/v1/auth/logout", json={"scope": "everyone"}, headers=auth(signed["access_token"])
    )
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    assert await profile_status(client, signed["access_token"]) == 200


async def test_sessions_list_marks_the_current_device(client) -> None:
    phone = new_phone()
    a = await sign_in(client, phone, device_name="Pixel")
    await sign_in(client, phone, device_name="iPad")
    listed = (await client.get("/api/v1/auth/sessions", headers=auth(a["access_token"]))).json()
    by_name = {s["device_name"]: s for s in listed["items"]}
    assert set(by_name) == {"Pixel", "iPad"}
    assert by_name["Pixel"]["current"] is True and by_name["iPad"]["current"] is False
    assert by_name["Pixel"]["ip"] == "203.0.113.7"


async def test_deleting_a_session_signs_that_device_out(client) -> None:
    phone = new_phone()
    a = await sign_in(client, phone, device_name="A")
    b = await sign_in(client, phone, device_name="B")
    r = await client.delete(
        f"/api/v1/auth/sessions/{b['session_id']}", headers=auth(a["access_token"])
    )
    assert r.status_code == 204
    assert await profile_status(client, b["access_token"]) == 401
    assert await profile_status(client, a["access_token"]) == 200


async def test_another_users_session_is_not_found_and_survives(client) -> None:
    mine = await sign_in(client)
    theirs = await sign_in(client)
    r = await client.delete(
        f"/api/v1/auth/sessions/{theirs['session_id']}", headers=auth(mine["access_token"])
    )
    assert r.status_code == 404
    assert await profile_status(client, theirs["access_token"]) == 200
