"""Logs (stderr, JSON) never carry tokens, codes or full phone numbers. The console SMS
provider's delivery line goes to stdout in development only: that is the dev "phone"."""

from tests.factories import auth, latest_code, new_phone


async def test_a_full_session_leaves_no_secret_in_the_logs(client, capfd) -> None:
    phone = new_phone()
    capfd.readouterr()
    await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
    )
    code = await latest_code(client, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": wrong},
        headers={"X-Market": "us"},
    )
    signed = (
        await client.post(
            "/api/v1/auth/verify-code",
            json={"phone": phone, "verification_code": code},
            headers={"X-Market": "us"},
        )
    ).json()
    refreshed = (
        await client.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": signed["refresh_token"]},
            headers={"X-Market": "us"},
        )
    ).json()
    await client.post("/api/v1/auth/logout", headers=auth(refreshed["access_token"]))

    captured = capfd.readouterr()
    logs = captured.err
    assert '"event": "audit"' in logs and "+1312" in logs  # masked numbers are logged
    for secret in (
        phone,
        code,
        wrong,
        signed["access_token"],
        signed["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
    ):
        assert secret not in logs
    assert code in captured.out  # the console provider "delivered" it
