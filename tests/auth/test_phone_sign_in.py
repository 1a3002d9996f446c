"""The seed 001 scenario and the phone sign-in rules, over HTTP on both backends."""

import httpx

from tests.factories import auth, latest_code, new_phone, sign_in


async def test_sign_in_logout_sign_in_again_is_the_same_user(client: httpx.AsyncClient) -> None:
    phone = new_phone()
    first = await sign_in(client, phone)
    assert first["is_new_user"] is True and first["token_type"] == "bearer"
    assert first["user"]["phone_number"] == phone

    out = await client.post("/api/v1/auth/logout", headers=auth(first["access_token"]))
    assert out.status_code == 200 and out.json()["success"] is True

    stale = await client.get("/api/v1/profile", headers=auth(first["access_token"]))
    assert stale.status_code == 401
    assert stale.headers["www-authenticate"].startswith("Bearer")

    second = await sign_in(client, phone)
    assert second["is_new_user"] is False
    assert second["user"]["id"] == first["user"]["id"]
    assert second["access_token"] != first["access_token"]
    profile = await client.get("/api/v1/profile", headers=auth(second["access_token"]))
    assert profile.status_code == 200 and profile.json()["id"] == first["user"]["id"]


async def test_send_verification_answer_is_the_same_for_known_and_unknown_numbers(
    client: httpx.AsyncClient,
) -> None:
    known = new_phone()
    await sign_in(client, known)
    answers = []
    for phone in (known, new_phone()):
        r = await client.post(
            "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
        )
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1]
    assert answers[0][1] == {
        "success": True,
        "message": "Verification code sent.",
        "expires_in": 300,
        "resend_after": 60,
    }


async def test_wrong_code_says_how_many_attempts_remain(client: httpx.AsyncClient) -> None:
    phone = new_phone()
    await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
    )
    code = await latest_code(client, phone)
    wrong = "000000" if code != "000000" else "111111"
    r = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": wrong},
        headers={"X-Market": "us"},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "otp.invalid" and r.json()["attempts_remaining"] == 4
