"""Email + password accounts (the JobPsych flows), over HTTP on both backends."""

import statistics
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from keyturn.audit.models import AuditEvent
from keyturn.auth.password.hashing import hash_password
from keyturn.users.models import User
from tests.factories import STRONG_PASSWORD, auth, login, new_email, register
from tests.problems import assert_problem


async def _user_by_email(app: FastAPI, email: str, market: str = "us") -> User | None:
    async with app.state.databases.session(market) as db:
        return await db.scalar(select(User).where(User.email == email))


async def _user_count(app: FastAPI, market: str = "us") -> int:
    async with app.state.databases.session(market) as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def test_register_login_refresh_logout_login_again_is_the_same_account(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = new_email()
    created = await register(client, email, full_name="Ada", company="Acme")
    assert created["is_new_user"] is True and created["token_type"] == "bearer"
    assert created["user"]["email"] == email and created["user"]["company"] == "Acme"
    assert created["refresh_token"] and created["session_id"]

    signed = await login(client, email)
    assert signed.status_code == 200, signed.text
    session = signed.json()
    assert session["user"]["id"] == created["user"]["id"] and session["is_new_user"] is False

    refreshed = await client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": session["refresh_token"]},
        headers={"X-Market": "us"},
    )
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert pair["session_id"] == session["session_id"]
    assert pair["refresh_token"] != session["refresh_token"]

    out = await client.post("/api/v1/auth/logout", headers=auth(pair["access_token"]))
    assert out.status_code == 200
    dead = await client.get("/api/v1/profile", headers=auth(pair["access_token"]))
    assert dead.status_code == 401

    again = await login(client, email)
    assert again.status_code == 200
    profile = await client.get("/api/v1/profile", headers=auth(again.json()["access_token"]))
    assert profile.json()["id"] == created["user"]["id"]
    user = await _user_by_email(app, email)
    assert user is not None and user.password_hash and user.password_hash.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in user.password_hash


async def test_email_is_matched_without_regard_to_case(client: httpx.AsyncClient) -> None:
    created = await register(client, "Mixed.Case@Example.COM")
    assert created["user"]["email"] == "mixed.case@example.com"
    signed = await login(client, "  MIXED.case@example.com ")
    assert signed.status_code == 200 and signed.json()["user"]["id"] == created["user"]["id"]


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    email = new_email()
    await register(client, email)
    wrong = await login(client, email, "not the right password")
    unknown = await login(client, new_email(), "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "auth.invalid_credentials"
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    assert wrong.headers["content-type"] == unknown.headers["content-type"]


async def test_unknown_email_takes_about_as_long_as_a_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    email = new_email()
    await register(client, email)
    timings: dict[str, list[float]] = {"wrong": [], "unknown": []}
    for _ in range(4):
        for kind, target in (("wrong", email), ("unknown", new_email())):
            started = time.perf_counter()
            r = await login(client, target, "not the right password")
            timings[kind].append(time.perf_counter() - started)
            assert r.status_code == 401
    wrong, unknown = (statistics.median(timings[k]) for k in ("wrong", "unknown"))
    # Both verify one argon2id hash; without the dummy hash `unknown` would be ~10x faster.
    assert unknown > wrong * 0.5, timings


async def test_failed_and_successful_logins_are_audited(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = new_email()
    created = await register(client, email)
    await login(client, email, "not the right password")
    await login(client, email)
    async with app.state.databases.session("us") as db:
        events = (
            await db.scalars(
                select(AuditEvent.event)
                .where(AuditEvent.user_id == created["user"]["id"])
                .order_by(AuditEvent.id)
            )
        ).all()
    assert events == ["login.succeeded", "login.failed", "login.succeeded"]


async def test_registering_a_taken_email_is_a_conflict_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = new_email()
    await register(client, email, company="First")
    before = await _user_count(app)
    again = await client.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": "another fine 🐍 password"},
        headers={"X-Market": "us"},
    )
    assert_problem(again, 409, "account.email_taken")
    assert await _user_count(app) == before
    still = await login(client, email)
    assert still.status_code == 200 and still.json()["user"]["company"] == "First"


@pytest.mark.parametrize(
    "password",
    [
        "x🦊 7Q🍕z!",  # 8 characters
        "Gk8 🦊 m2" + "x" * 56,  # 64
        "ab😀 cd🦊 " * 16,  # 128
        "  leading and trailing spaces count  ",
    ],
    ids=["8", "64", "128", "spaces"],
)
async def test_long_short_spaced_and_emoji_passwords_work_exactly(
    client: httpx.AsyncClient, password: str
) -> None:
    email = new_email()
    await register(client, email, password)
    assert (await login(client, email, password)).status_code == 200
    # Never truncated or trimmed: a near miss at either end fails.
    assert (await login(client, email, password[:-1])).status_code == 401
    assert (await login(client, email, password.strip() + "!")).status_code == 401


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab3$xY9", "password.too_short"),
        ("ab😀 cd🦊 " * 16 + "x", "password.too_long"),
        ("password123", "password.weak"),
        ("qwertyuiop", "password.weak"),
        ("🍕🍕🍕🍕🍕🍕🍕🍕", "password.weak"),
        ("casey.jones@example.com!", "password.personal"),
    ],
    ids=["7-chars", "129-chars", "common", "keyboard", "repeat", "email"],
)
async def test_weak_passwords_are_refused_with_a_reason_and_no_account(
    client: httpx.AsyncClient, app: FastAPI, password: str, code: str
) -> None:
    before = await _user_count(app)
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "casey.jones@example.com", "password": password, "full_name": "Casey"},
        headers={"X-Market": "us"},
    )
    assert_problem(r, 422, code)
    assert len(r.json()["detail"]) > 10
    assert await _user_count(app) == before


async def test_common_password_refusal_says_why(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": new_email(), "password": "password123"},
        headers={"X-Market": "us"},
    )
    assert_problem(r, 422, "password.weak")
    assert "common" in r.json()["detail"]
    assert r.json()["suggestions"]


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com"])
async def test_invalid_email_is_refused(client: httpx.AsyncClient, email: str) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": STRONG_PASSWORD},
        headers={"X-Market": "us"},
    )
    assert_problem(r, 422, "email.invalid")


async def test_imported_bcrypt_hash_signs_in_and_is_rehashed_to_argon2id(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    import bcrypt

    email = new_email()
    legacy = bcrypt.hashpw(b"jobpsych-legacy-pass", bcrypt.gensalt(rounds=10)).decode()
    async with app.state.databases.session("us") as db:
        db.add(User(email=email, password_hash=legacy, market="us", role="customer"))
        await db.commit()

    assert (await login(client, email, "wrong-legacy-pass")).status_code == 401
    user = await _user_by_email(app, email)
    assert user is not None and user.password_hash == legacy

    signed = await login(client, email, "jobpsych-legacy-pass")
    assert signed.status_code == 200, signed.text
    user = await _user_by_email(app, email)
    assert user is not None and user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert (await login(client, email, "jobpsych-legacy-pass")).status_code == 200


async def test_bcrypt_hash_of_a_password_longer_than_72_bytes_still_verifies(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The old system's bcrypt silently cut passwords at 72 bytes; its users keep working."""
    import bcrypt

    email, password = new_email(), "long legacy passphrase " * 5
    legacy = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=10)).decode()
    async with app.state.databases.session("us") as db:
        db.add(User(email=email, password_hash=legacy, market="us", role="customer"))
        await db.commit()
    assert (await login(client, email, password)).status_code == 200
    # Re-hashed from the whole password: from now on every character counts.
    assert (await login(client, email, password)).status_code == 200
    assert (await login(client, email, password[:72])).status_code == 401


async def test_disabled_account_cannot_sign_in_with_the_right_password(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = new_email()
    await register(client, email)
    async with app.state.databases.session("us") as db:
        user = await db.scalar(select(User).where(User.email == email))
        assert user is not None
        user.is_active = False
        await db.commit()
    assert_problem(await login(client, email), 403, "auth.account_disabled")


async def test_change_password_keeps_this_session_and_ends_the_others(
    client: httpx.AsyncClient,
) -> None:
    email = new_email()
    await register(client, email)
    this = (await login(client, email)).json()
    other = (await login(client, email)).json()
    new_password = "a brand new 🔑 phrase"

    wrong = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "not it at all", "new_password": new_password},
        headers=auth(this["access_token"]),
    )
    assert_problem(wrong, 400, "password.current_invalid")
    weak = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": STRONG_PASSWORD, "new_password": "password123"},
        headers=auth(this["access_token"]),
    )
    assert_problem(weak, 422, "password.weak")
    assert (await login(client, email)).status_code == 200  # nothing changed so far

    changed = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": STRONG_PASSWORD, "new_password": new_password},
        headers=auth(this["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["sessions_revoked"] >= 2  # `other`, the register session, ...

    assert (await client.get("/api/v1/profile", headers=auth(this["access_token"]))).is_success
    gone = await client.get("/api/v1/profile", headers=auth(other["access_token"]))
    assert gone.status_code == 401
    stale = await client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": other["refresh_token"]},
        headers={"X-Market": "us"},
    )
    assert stale.status_code == 401
    assert (await login(client, email)).status_code == 401
    assert (await login(client, email, new_password)).status_code == 200


async def test_phone_only_account_has_no_password_to_change(client: httpx.AsyncClient) -> None:
    from tests.factories import sign_in

    signed = await sign_in(client)
    r = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "whatever it is", "new_password": STRONG_PASSWORD},
        headers=auth(signed["access_token"]),
    )
    assert_problem(r, 400, "password.not_set")


async def test_argon2_hashing_runs_off_the_event_loop() -> None:
    """Hashing must not block other requests: a concurrent timer keeps ticking."""
    import asyncio

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await asyncio.gather(*(hash_password(f"password {i} 🐍") for i in range(4)))
    ticker.cancel()
    assert ticks >= 3
