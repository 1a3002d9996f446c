"""Forgot + reset through the dev outbox and through a real local SMTP server."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from keyturn.app import create_app
from keyturn.auth.models import PasswordReset
from keyturn.config import Settings
from keyturn.db import utcnow
from tests.conftest import http_client
from tests.factories import STRONG_PASSWORD, auth, login, new_email, register
from tests.harness.smtp import SmtpServer
from tests.problems import assert_problem

NEW_PASSWORD = "fresh start 🌱 today"


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password/forgot", json={"email": email}, headers={"X-Market": "us"}
    )


async def reset(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password/reset",
        json={"token": token, "new_password": password},
        headers={"X-Market": "us"},
    )


async def outbox_token(client: httpx.AsyncClient, email: str) -> str:
    r = await client.get("/api/v1/dev/outbox", params={"to": email}, headers={"X-Market": "us"})
    assert r.status_code == 200, r.text
    item = r.json()["items"][0]
    assert item["channel"] == "email" and item["kind"] == "password_reset"
    assert item["token"] in item["body"]
    return str(item["token"])


async def assert_reset_ends_old_sessions(
    client: httpx.AsyncClient, email: str, token: str, sessions: list[dict]
) -> None:
    done = await reset(client, token, NEW_PASSWORD)
    assert done.status_code == 200, done.text
    assert done.json()["sessions_revoked"] >= len(sessions)
    for old in sessions:
        dead = await client.get("/api/v1/profile", headers=auth(old["access_token"]))
        assert dead.status_code == 401
        stale = await client.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": old["refresh_token"]},
            headers={"X-Market": "us"},
        )
        assert stale.status_code == 401
    assert (await login(client, email, STRONG_PASSWORD)).status_code == 401
    signed = await login(client, email, NEW_PASSWORD)
    assert signed.status_code == 200, signed.text
    again = await reset(client, token, "yet another 🌵 phrase")
    assert_problem(again, 400, "password.reset_invalid")
    assert (await login(client, email, NEW_PASSWORD)).status_code == 200


async def test_forgot_and_reset_through_the_dev_outbox(client: httpx.AsyncClient) -> None:
    email = new_email()
    first = await register(client, email)
    second = (await login(client, email)).json()
    asked = await forgot(client, email)
    assert asked.status_code == 202 and asked.json()["success"] is True
    token = await outbox_token(client, email)
    await assert_reset_ends_old_sessions(client, email, token, [first, second])


async def test_forgot_answers_the_same_for_unknown_emails(client: httpx.AsyncClient) -> None:
    known = new_email()
    await register(client, known)
    unknown = new_email()
    a, b = await forgot(client, known), await forgot(client, unknown)
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert a.status_code == 202
    nothing = await client.get(
        "/api/v1/dev/outbox", params={"to": unknown}, headers={"X-Market": "us"}
    )
    assert nothing.json()["items"] == []


async def test_a_weak_new_password_is_refused_and_the_token_still_works(
    client: httpx.AsyncClient,
) -> None:
    email = new_email()
    signed = await register(client, email)
    await forgot(client, email)
    token = await outbox_token(client, email)
    assert_problem(await reset(client, token, "password123"), 422, "password.weak")
    assert_problem(await reset(client, token, "short"), 422, "password.too_short")
    still = await client.get("/api/v1/profile", headers=auth(signed["access_token"]))
    assert still.status_code == 200
    assert (await login(client, email)).status_code == 200
    assert (await reset(client, token, NEW_PASSWORD)).status_code == 200


async def test_expired_or_unknown_reset_tokens_are_refused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = new_email()
    await register(client, email)
    await forgot(client, email)
    token = await outbox_token(client, email)
    async with app.state.databases.session("us") as db:
        await db.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert_problem(await reset(client, token, NEW_PASSWORD), 400, "password.reset_invalid")
    assert_problem(await reset(client, "x" * 43, NEW_PASSWORD), 400, "password.reset_invalid")
    assert (await login(client, email)).status_code == 200


async def test_a_reset_makes_every_other_reset_link_useless(client: httpx.AsyncClient) -> None:
    email = new_email()
    await register(client, email)
    await forgot(client, email)
    older = await outbox_token(client, email)
    await forgot(client, email)
    newer = await outbox_token(client, email)
    assert older != newer
    assert (await reset(client, newer, NEW_PASSWORD)).status_code == 200
    assert_problem(await reset(client, older, "another good 🌵 one"), 400, "password.reset_invalid")


async def test_reset_tokens_are_stored_only_as_hashes(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    from sqlalchemy import select

    email = new_email()
    await register(client, email)
    await forgot(client, email)
    token = await outbox_token(client, email)
    async with app.state.databases.session("us") as db:
        stored = (await db.scalars(select(PasswordReset.token_hash))).all()
    assert token not in stored and all(len(h) == 64 for h in stored)


@pytest.fixture(params=["none", "starttls", "tls"])
def smtp_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmtpServer]:
    login_pair = ("mailer", "mailer-secret") if request.param != "none" else None
    server = SmtpServer(tmp_path, security=request.param, login=login_pair).start()
    yield server
    server.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_forgot_and_reset_through_a_real_smtp_server(
    make_settings: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    app = create_app(make_settings(email=smtp_server.settings()))
    try:
        async with http_client(app) as client:
            email = new_email()
            first = await register(client, email)
            assert (await forgot(client, email)).status_code == 202
            assert (await forgot(client, new_email())).status_code == 202  # unknown: no mail
            messages = await smtp_server.wait_for(1)
            assert len(messages) == 1
            message = messages[0]
            assert message["To"] == email
            assert "reset" in message["Subject"].lower()
            body = message.get_payload(decode=True).decode()
            found = re.search(r"token=([A-Za-z0-9_-]{40,})", body)
            assert found, body
            await assert_reset_ends_old_sessions(client, email, found.group(1), [first])
    finally:
        await app.state.databases.dispose()


async def test_smtp_down_still_answers_202(make_settings: Callable[..., Settings]) -> None:
    from tests.harness.postgres import free_port

    email_settings = {"provider": "smtp", "smtp_port": free_port(), "smtp_security": "none"}
    app = create_app(make_settings(email=email_settings))
    try:
        async with http_client(app) as client:
            email = new_email()
            await register(client, email)
            r = await forgot(client, email)
            assert r.status_code == 202
    finally:
        await app.state.databases.dispose()
