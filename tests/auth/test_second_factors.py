"""Second factors over HTTP (docs/second-factors.md): adding an authenticator app, the second
step of password and phone sign-ins, recovery codes, removal, an administrator's reset."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from keyturn.app import create_app
from keyturn.audit.models import AuditEvent
from keyturn.auth.models import MfaChallenge, RecoveryCode, TotpFactor
from keyturn.config import Settings
from keyturn.db import utcnow
from tests.conftest import http_client
from tests.factories import (
    STRONG_PASSWORD,
    AuthenticatorApp,
    add_to_cart,
    auth,
    enrol_totp,
    latest_code,
    login,
    make_admin,
    new_email,
    new_phone,
    open_shop,
    register,
    reset_password,
    sign_in,
    start_guest,
)
from tests.harness.qr import decode_svg
from tests.system.test_errors import assert_problem

US = {"X-Market": "us"}


async def verify(
    client: httpx.AsyncClient, mfa_token: str, headers: dict[str, str] | None = None, **proof: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/mfa/verify",
        json={"mfa_token": mfa_token, **proof},
        headers={**US, **(headers or {})},
    )


async def mfa_status(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/profile/mfa", headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def second_step(response: httpx.Response) -> str:
    """The `mfa_token` of a sign-in answer that asks for the second factor (and has no tokens)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True
    assert body["methods"] == ["totp", "recovery_code"]
    assert "access_token" not in body and "refresh_token" not in body
    assert not response.cookies
    token: str = body["mfa_token"]
    return token


async def password_account(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    email = new_email()
    return email, await register(client, email)


async def amr_of(client: httpx.AsyncClient, access_token: str) -> list[str]:
    """How the token's session proved who it is, as introspection tells another service."""
    response = await client.post(
        "/api/v1/auth/verify-token", json={"token": access_token}, headers=US
    )
    assert response.status_code == 200 and response.json()["active"], response.text
    amr: list[str] = response.json()["amr"]
    return amr


async def audit_events(app: FastAPI, user_id: int, prefix: str) -> list[AuditEvent]:
    async with app.state.databases.session("us") as db:
        rows = await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.user_id == user_id, AuditEvent.event.startswith(prefix))
            .order_by(AuditEvent.id)
        )
        return list(rows)


# Adding an authenticator app -------------------------------------------------------------------


async def test_enrolment_shows_a_qr_code_of_the_uri_and_counts_only_after_a_right_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email, account = await password_account(client)
    token = account["access_token"]
    started = await client.post("/api/v1/profile/mfa/totp", headers=auth(token))
    assert started.status_code == 200, started.text
    enrolment = started.json()
    assert decode_svg(enrolment["qr_svg"]) == [enrolment["otpauth_uri"]]
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/keyturn:")
    assert f"secret={enrolment['secret']}" in enrolment["otpauth_uri"]
    assert "issuer=keyturn" in enrolment["otpauth_uri"]
    assert (await mfa_status(client, token))["totp_pending"] is True

    phone_app = AuthenticatorApp(enrolment["secret"])
    wrong = f"{(int(phone_app.code()) + 1) % 10**6:06d}"
    refused = await client.post(
        "/api/v1/profile/mfa/totp/confirm", json={"code": wrong}, headers=auth(token)
    )
    assert_problem(refused, 400, "mfa.code_invalid")
    status = await mfa_status(client, token)
    assert status["totp_enabled"] is False and status["recovery_codes_remaining"] == 0
    signed = await login(client, email)
    assert signed.status_code == 200 and "access_token" in signed.json()  # still one step

    confirmed = await client.post(
        "/api/v1/profile/mfa/totp/confirm", json={"code": phone_app.code()}, headers=auth(token)
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    status = await mfa_status(client, token)
    assert status["totp_enabled"] is True and status["recovery_codes_remaining"] == 10
    assert status["methods"] == ["totp", "recovery_code"]
    assert [e.event for e in await audit_events(app, account["user"]["id"], "mfa.")] == [
        "mfa.enabled"
    ]

    again = await client.post("/api/v1/profile/mfa/totp", headers=auth(token))
    assert_problem(again, 409, "mfa.already_enabled")
    assert (await mfa_status(client, token))["totp_enabled"] is True


async def test_the_secret_is_stored_encrypted_and_only_the_enrolment_shows_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, account = await password_account(client)
    started = await client.post("/api/v1/profile/mfa/totp", headers=auth(account["access_token"]))
    secret = started.json()["secret"]
    async with app.state.databases.session("us") as db:
        stored = await db.scalar(select(TotpFactor.secret))
    assert stored is not None and secret not in stored and secret.lower() not in stored.lower()
    status = await client.get("/api/v1/profile/mfa", headers=auth(account["access_token"]))
    assert secret not in status.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/profile/mfa/totp/confirm", {"code": "12345"}),
        ("/api/v1/profile/mfa/totp/confirm", {"code": "\uff11\uff12\uff13\uff14\uff15\uff16"}),
        ("/api/v1/profile/mfa/totp/confirm", {}),
        ("/api/v1/auth/mfa/verify", {"mfa_token": "x" * 43}),
        (
            "/api/v1/auth/mfa/verify",
            {"mfa_token": "x" * 43, "code": "123456", "recovery_code": "abcd-efgh-ijkm-npqr"},
        ),
        ("/api/v1/auth/mfa/verify", {"mfa_token": "not a token!", "code": "123456"}),
        ("/api/v1/auth/mfa/verify", {"mfa_token": "x" * 43, "recovery_code": "<script>"}),
    ],
)
async def test_malformed_second_factor_requests_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    account = await sign_in(client)
    response = await client.post(path, json=body, headers=auth(account["access_token"]))
    assert_problem(response, 422, "request.invalid")
    assert (await mfa_status(client, account["access_token"]))["totp_pending"] is False


async def test_confirming_without_an_enrolment_or_after_it_expired_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    account = await sign_in(client)
    token = account["access_token"]
    nothing = await client.post(
        "/api/v1/profile/mfa/totp/confirm", json={"code": "123456"}, headers=auth(token)
    )
    assert_problem(nothing, 409, "mfa.no_enrolment")
    started = await client.post("/api/v1/profile/mfa/totp", headers=auth(token))
    phone_app = AuthenticatorApp(started.json()["secret"])
    async with app.state.databases.session("us") as db:
        await db.execute(update(TotpFactor).values(created_at=utcnow() - timedelta(hours=1)))
        await db.commit()
    late = await client.post(
        "/api/v1/profile/mfa/totp/confirm", json={"code": phone_app.code()}, headers=auth(token)
    )
    assert_problem(late, 409, "mfa.enrolment_expired")
    status = await mfa_status(client, token)
    assert status["totp_enabled"] is False and status["totp_pending"] is False


# The second step of a sign-in ------------------------------------------------------------------


async def test_a_password_sign_in_needs_the_authenticator_code_and_then_says_both_methods(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])

    mfa_token = await second_step(await login(client, email))
    async with app.state.databases.session("us") as db:
        assert await db.scalar(select(func.count()).select_from(MfaChallenge)) == 1
        stored = await db.scalar(select(MfaChallenge.token_hash))
    assert stored != mfa_token  # kept as a hash

    wrong = f"{(int(phone_app.code(1)) + 1) % 10**6:06d}"
    refused = assert_problem(await verify(client, mfa_token, code=wrong), 400, "mfa.code_invalid")
    assert refused["attempts_remaining"] == 4

    signed = await verify(client, mfa_token, code=phone_app.code(1))
    assert signed.status_code == 200, signed.text
    tokens = signed.json()
    assert tokens["user"]["email"] == email and tokens["refresh_token"]
    assert await amr_of(client, tokens["access_token"]) == ["pwd", "otp", "mfa"]

    used = await verify(client, mfa_token, code=phone_app.code(1))  # single-use
    assert_problem(used, 400, "mfa.token_invalid")
    events = [e.event for e in await audit_events(app, account["user"]["id"], "login.")]
    assert events == [
        "login.succeeded",  # the registration
        "login.second_factor_required",
        "login.failed",
        "login.succeeded",
    ]


async def test_a_phone_sign_in_needs_the_second_step_too(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    phone = new_phone()
    account = await sign_in(client, phone)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    await client.post("/api/v1/auth/send-verification", json={"phone": phone}, headers=US)
    code = await latest_code(client, phone)
    answer = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": "Pixel 8"},
        headers=US,
    )
    mfa_token = await second_step(answer)
    signed = await verify(client, mfa_token, code=phone_app.code(1))
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["phone_number"] == phone
    assert await amr_of(client, signed.json()["access_token"]) == ["sms", "otp", "mfa"]
    sessions = await client.get(
        "/api/v1/auth/sessions", headers=auth(signed.json()["access_token"])
    )
    current = next(s for s in sessions.json()["items"] if s["current"])
    assert current["device_name"] == "Pixel 8"  # the first step's device


async def test_a_used_code_does_not_work_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    code = phone_app.code(1)
    first = await verify(client, await second_step(await login(client, email)), code=code)
    assert first.status_code == 200, first.text
    replay = await verify(client, await second_step(await login(client, email)), code=code)
    assert_problem(replay, 400, "mfa.code_invalid")
    confirm_code = await verify(
        client, await second_step(await login(client, email)), code=phone_app.code()
    )  # the enrolment's code is spent too
    assert_problem(confirm_code, 400, "mfa.code_invalid")


async def test_an_expired_mfa_token_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    mfa_token = await second_step(await login(client, email))
    async with app.state.databases.session("us") as db:
        await db.execute(update(MfaChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert_problem(
        await verify(client, mfa_token, code=phone_app.code(1)), 400, "mfa.token_expired"
    )
    assert_problem(
        await verify(client, mfa_token, code=phone_app.code(1)), 400, "mfa.token_invalid"
    )
    async with app.state.databases.session("us") as db:
        assert await db.scalar(select(func.count()).select_from(MfaChallenge)) == 0


async def test_an_mfa_token_works_only_for_its_own_sign_in_and_device(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    on_laptop = {"User-Agent": "Laptop browser"}
    signing_in = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": STRONG_PASSWORD},
        headers={**US, **on_laptop},
    )
    mfa_token = await second_step(signing_in)
    elsewhere = await verify(
        client, mfa_token, {"User-Agent": "Another phone"}, code=phone_app.code(1)
    )
    assert_problem(elsewhere, 400, "mfa.token_invalid")
    # Having been shown elsewhere, the token is spent even on its own device.
    assert_problem(
        await verify(client, mfa_token, on_laptop, code=phone_app.code(1)), 400, "mfa.token_invalid"
    )
    invented = await verify(client, "A" * 43, on_laptop, code=phone_app.code(1))
    assert_problem(invented, 400, "mfa.token_invalid")

    # Another account's right code does not finish this account's sign-in.
    other_email, other = await password_account(client)
    other_app, _ = await enrol_totp(client, other["access_token"])
    mine = await second_step(await login(client, email))
    assert_problem(await verify(client, mine, code=other_app.code(1)), 400, "mfa.code_invalid")
    signed = await verify(client, mine, code=phone_app.code(1))
    assert signed.status_code == 200 and signed.json()["user"]["email"] == email
    assert other_email != email


async def test_an_mfa_token_allows_five_tries(app: FastAPI, client: httpx.AsyncClient) -> None:
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    mfa_token = await second_step(await login(client, email))
    right = phone_app.code(1)
    left = []
    for n in range(1, 6):
        wrong = f"{(int(right) + n) % 10**6:06d}"
        left.append(
            assert_problem(await verify(client, mfa_token, code=wrong), 400, "mfa.code_invalid")[
                "attempts_remaining"
            ]
        )
    assert left == [4, 3, 2, 1, 0]
    assert_problem(await verify(client, mfa_token, code=right), 400, "mfa.token_invalid")


@pytest.fixture
async def strict_app(make_settings: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    """Many tries per token, so the account's throttle is what stops the guessing."""
    application = create_app(make_settings(mfa={"token_attempts": 100}))
    yield application
    await application.state.databases.dispose()


async def test_a_strangers_wrong_codes_do_not_lock_the_owner_out(strict_app: FastAPI) -> None:
    """Someone who has the password guesses codes from their address: they are stopped, and
    the owner, elsewhere, still signs in."""
    async with (
        http_client(strict_app, ip="198.51.100.20") as owner,
        http_client(strict_app, ip="192.0.2.66") as stranger,
    ):
        email, account = await password_account(owner)
        phone_app, _ = await enrol_totp(owner, account["access_token"])
        mfa_token = await second_step(await login(stranger, email))
        right = phone_app.code(1)
        answers = []
        for n in range(1, 8):
            guess = await verify(stranger, mfa_token, code=f"{(int(right) + n) % 10**6:06d}")
            answers.append(guess.status_code)
        assert answers == [400] * 5 + [429] * 2
        locked = await verify(stranger, mfa_token, code=right)  # even the right code
        assert_problem(locked, 429, "mfa.throttled")
        assert int(locked.headers["retry-after"]) > 0

        signed = await verify(owner, await second_step(await login(owner, email)), code=right)
        assert signed.status_code == 200, signed.text


async def test_guesses_from_every_address_together_stop_at_the_accounts_ceiling(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(mfa={"token_attempts": 100, "max_failures_per_account": 8}))
    try:
        async with http_client(app, ip="198.51.100.20") as owner:
            email, account = await password_account(owner)
            phone_app, _ = await enrol_totp(owner, account["access_token"])
            right = phone_app.code(1)
            answers = []
            for n in range(1, 11):
                async with http_client(app, ip=f"192.0.2.{n}") as stranger:
                    mfa_token = await second_step(await login(stranger, email))
                    guess = await verify(
                        stranger, mfa_token, code=f"{(int(right) + 1) % 10**6:06d}"
                    )
                    answers.append(guess.status_code)
            assert answers == [400] * 8 + [429] * 2
            held = await verify(owner, await second_step(await login(owner, email)), code=right)
            assert_problem(held, 429, "mfa.throttled")
    finally:
        await app.state.databases.dispose()


async def test_the_guest_cart_joins_the_account_after_the_second_step(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop = await open_shop(app, client)
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    guest = await start_guest(client)
    assert (await add_to_cart(client, guest["access_token"], shop["sku"], 2)).status_code == 200
    answer = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": STRONG_PASSWORD},
        headers={**US, **auth(guest["access_token"])},
    )
    signed = await verify(client, await second_step(answer), code=phone_app.code(1))
    assert signed.status_code == 200, signed.text
    cart = await client.get("/api/v1/cart", headers=auth(signed.json()["access_token"]))
    assert [(line["sku_id"], line["quantity"]) for line in cart.json()["items"]] == [
        (shop["sku"], 2)
    ]


async def test_the_second_step_can_set_the_refresh_cookie(client: httpx.AsyncClient) -> None:
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    mfa_token = await second_step(await login(client, email))
    signed = await verify(client, mfa_token, code=phone_app.code(1), refresh_transport="cookie")
    assert signed.status_code == 200, signed.text
    assert signed.json()["refresh_token"] is None
    assert "keyturn_refresh" in signed.headers["set-cookie"]


async def test_a_disabled_account_cannot_finish_its_second_step(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await make_admin(app, client)
    email, account = await password_account(client)
    phone_app, _ = await enrol_totp(client, account["access_token"])
    mfa_token = await second_step(await login(client, email))
    disabled = await client.post(
        f"/api/v1/admin/users/{account['user']['id']}/disable", headers=auth(admin["access_token"])
    )
    assert disabled.status_code == 200
    assert_problem(
        await verify(client, mfa_token, code=phone_app.code(1)), 403, "auth.account_disabled"
    )


# Recovery codes --------------------------------------------------------------------------------


async def test_each_recovery_code_signs_in_once_and_the_count_falls(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email, account = await password_account(client)
    _, codes = await enrol_totp(client, account["access_token"])

    first = await verify(
        client, await second_step(await login(client, email)), recovery_code=codes[0]
    )
    assert first.status_code == 200, first.text
    assert await amr_of(client, first.json()["access_token"]) == ["pwd", "otp", "mfa"]
    assert (await mfa_status(client, first.json()["access_token"]))["recovery_codes_remaining"] == 9

    again = await verify(
        client, await second_step(await login(client, email)), recovery_code=codes[0]
    )
    assert_problem(again, 400, "mfa.recovery_code_invalid")

    typed = codes[1].upper().replace("-", " ")  # as someone reads it off paper
    second = await verify(
        client, await second_step(await login(client, email)), recovery_code=typed
    )
    assert second.status_code == 200, second.text
    assert (await mfa_status(client, second.json()["access_token"]))[
        "recovery_codes_remaining"
    ] == 8
    used = await audit_events(app, account["user"]["id"], "mfa.recovery_code_used")
    assert [e.details["remaining"] for e in used] == [9, 8]


async def test_new_recovery_codes_replace_the_old_ones(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email, account = await password_account(client)
    _, old = await enrol_totp(client, account["access_token"])
    replaced = await client.post(
        "/api/v1/profile/mfa/recovery-codes", headers=auth(account["access_token"])
    )
    assert replaced.status_code == 200, replaced.text
    new = replaced.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    stale = await verify(
        client, await second_step(await login(client, email)), recovery_code=old[0]
    )
    assert_problem(stale, 400, "mfa.recovery_code_invalid")
    fresh = await verify(
        client, await second_step(await login(client, email)), recovery_code=new[0]
    )
    assert fresh.status_code == 200, fresh.text
    async with app.state.databases.session("us") as db:
        hashes = list(await db.scalars(select(RecoveryCode.code_hash)))
    assert len(hashes) == 10 and not {c.replace("-", "") for c in new} & set(hashes)
    events = [e.event for e in await audit_events(app, account["user"]["id"], "mfa.")]
    assert events == ["mfa.enabled", "mfa.recovery_codes_replaced", "mfa.recovery_code_used"]


async def test_recovery_codes_need_an_authenticator_app(client: httpx.AsyncClient) -> None:
    account = await sign_in(client)
    refused = await client.post(
        "/api/v1/profile/mfa/recovery-codes", headers=auth(account["access_token"])
    )
    assert_problem(refused, 409, "mfa.not_enabled")
    assert (await mfa_status(client, account["access_token"]))["recovery_codes_remaining"] == 0


# Removing it, and an administrator's reset -------------------------------------------------------


async def test_removing_the_app_ends_the_second_step_and_its_codes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email, account = await password_account(client)
    phone_app, codes = await enrol_totp(client, account["access_token"])
    pending = await second_step(await login(client, email))
    removed = await client.delete("/api/v1/profile/mfa/totp", headers=auth(account["access_token"]))
    assert removed.status_code == 200, removed.text
    assert_problem(await verify(client, pending, code=phone_app.code(1)), 400, "mfa.token_invalid")
    direct = await login(client, email)
    assert direct.status_code == 200 and "access_token" in direct.json()
    status = await mfa_status(client, account["access_token"])
    assert status == {**status, "totp_enabled": False, "recovery_codes_remaining": 0}
    again = await client.delete("/api/v1/profile/mfa/totp", headers=auth(account["access_token"]))
    assert_problem(again, 409, "mfa.not_enabled")
    events = [e.event for e in await audit_events(app, account["user"]["id"], "mfa.")]
    assert events == ["mfa.enabled", "mfa.disabled"]
    assert codes


async def test_an_admin_resets_a_customers_second_factor(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await make_admin(app, client)
    email, account = await password_account(client)
    await enrol_totp(client, account["access_token"])
    path = f"/api/v1/admin/users/{account['user']['id']}/mfa/reset"

    by_customer = await client.post(path, headers=auth(account["access_token"]))
    assert_problem(by_customer, 403, "auth.forbidden")
    assert (await mfa_status(client, account["access_token"]))["totp_enabled"] is True

    reset = await client.post(path, headers=auth(admin["access_token"]))
    assert reset.status_code == 200, reset.text
    assert reset.json()["removed"] is True
    direct = await login(client, email)
    assert direct.status_code == 200 and "access_token" in direct.json()
    event = (await audit_events(app, account["user"]["id"], "mfa.reset"))[0]
    assert event.details == {"by": admin["user"]["id"], "removed": True}

    nothing = await client.post(path, headers=auth(admin["access_token"]))
    assert nothing.status_code == 200 and nothing.json()["removed"] is False
    unknown = await client.post(
        "/api/v1/admin/users/999999/mfa/reset", headers=auth(admin["access_token"])
    )
    assert_problem(unknown, 404, "not_found")


async def test_a_password_reset_of_a_proven_email_keeps_the_second_factor(
    client: httpx.AsyncClient,
) -> None:
    """A reset proves the mailbox, not the phone: whoever reads the owner's email still needs
    the app (only a first proof of the address removes it, docs/email-proof.md)."""
    email, _ = await password_account(client)
    assert (await reset_password(client, email, "first reset ✓ proves it")).status_code == 200
    signed = await login(client, email, "first reset ✓ proves it")
    phone_app, _ = await enrol_totp(client, signed.json()["access_token"])

    assert (await reset_password(client, email, "second reset ✓ by mail")).status_code == 200
    mfa_token = await second_step(await login(client, email, "second reset ✓ by mail"))
    finished = await verify(client, mfa_token, code=phone_app.code(1))
    assert finished.status_code == 200, finished.text


async def test_deleting_a_user_deletes_their_second_factor_rows(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Account deletion (issue 16) relies on ON DELETE CASCADE for these tables."""
    from keyturn.users.models import User

    email, account = await password_account(client)
    await enrol_totp(client, account["access_token"])
    await second_step(await login(client, email))
    async with app.state.databases.session("us") as db:
        await db.execute(User.__table__.delete().where(User.id == account["user"]["id"]))
        await db.commit()
        for table in (TotpFactor, RecoveryCode, MfaChallenge):
            assert await db.scalar(select(func.count()).select_from(table)) == 0
