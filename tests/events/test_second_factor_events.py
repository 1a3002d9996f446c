"""Adding or removing an authenticator app is announced like a passkey (docs/events.md) and told
to the owner (docs/security-notices.md), in the transaction of the change."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from keyturn.events.models import Event
from keyturn.worker import Worker
from tests.auth.test_email_proof import ATTACKER_PASSWORD, reset_by_mail
from tests.factories import AuthenticatorApp, auth, enrol_totp, make_admin, new_email, register
from tests.problems import assert_problem

US = {"X-Market": "us"}


async def last_event_id(app: FastAPI) -> int:
    async with app.state.databases.session("us") as db:
        return int(await db.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)


async def events_since(app: FastAPI, after: int, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    async with app.state.databases.session("us") as db:
        rows = await db.scalars(
            select(Event).where(Event.id > after, Event.type.startswith(prefix)).order_by(Event.id)
        )
        return [(e.type, e.payload) for e in rows]


async def notices_to(client: httpx.AsyncClient, to: str) -> list[str]:
    outbox = await client.get("/api/v1/dev/outbox", params={"to": to}, headers=US)
    return [m["body"] for m in outbox.json()["items"] if m["kind"] == "security_notice"]


async def test_adding_and_removing_an_app_is_announced_and_told_to_the_owner(
    app: FastAPI, client: httpx.AsyncClient, settings: Any
) -> None:
    worker = Worker(settings, app.state.databases)
    email = new_email()
    account = await register(client, email)
    user_id, token = account["user"]["id"], account["access_token"]
    before = await last_event_id(app)

    started = await client.post("/api/v1/profile/mfa/totp", headers=auth(token))
    assert started.status_code == 200, started.text
    assert await events_since(app, before, "second_factor.") == []  # not a way in yet
    await enrol_totp(client, token)  # a new enrolment, confirmed by the app's code
    assert await events_since(app, before, "second_factor.") == [
        ("second_factor.added", {"user_id": user_id, "factor": "totp"})
    ]
    await worker.run_until_idle()
    (added,) = await notices_to(client, email)
    assert "A second sign-in step (authenticator app) was added" in added

    removed = await client.delete("/api/v1/profile/mfa/totp", headers=auth(token))
    assert removed.status_code == 200, removed.text
    assert (await events_since(app, before, "second_factor."))[1:] == [
        (
            "second_factor.removed",
            {"user_id": user_id, "factor": "totp", "reason": "removed_by_user"},
        )
    ]
    await worker.run_until_idle()
    told = await notices_to(client, email)
    assert len(told) == 2
    assert any("A second sign-in step (authenticator app) was removed" in n for n in told)


async def test_an_admin_reset_is_announced_and_told(
    app: FastAPI, client: httpx.AsyncClient, settings: Any
) -> None:
    worker = Worker(settings, app.state.databases)
    admin = await make_admin(app, client)
    email = new_email()
    account = await register(client, email)
    user_id = account["user"]["id"]
    await enrol_totp(client, account["access_token"])
    before = await last_event_id(app)
    path = f"/api/v1/admin/users/{user_id}/mfa/reset"

    reset = await client.post(path, headers=auth(admin["access_token"]))
    assert reset.status_code == 200 and reset.json()["removed"] is True, reset.text
    nothing = await client.post(path, headers=auth(admin["access_token"]))
    assert nothing.status_code == 200 and nothing.json()["removed"] is False
    assert await events_since(app, before, "second_factor.") == [  # once: the second had none
        (
            "second_factor.removed",
            {"user_id": user_id, "factor": "totp", "reason": "reset_by_admin"},
        )
    ]
    await worker.run_until_idle()
    assert any("(reset by the shop) was removed" in n for n in await notices_to(client, email))


async def test_a_first_proof_of_the_email_announces_the_planted_app_it_removed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    email = new_email()
    planted = await register(client, email, ATTACKER_PASSWORD)
    await enrol_totp(client, planted["access_token"])
    before = await last_event_id(app)

    done = await reset_by_mail(client, email)
    assert done.status_code == 200, done.text
    assert await events_since(app, before, "second_factor.") == [
        (
            "second_factor.removed",
            {"user_id": planted["user"]["id"], "factor": "totp", "reason": "email_first_proven"},
        )
    ]


async def test_a_refused_confirmation_announces_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    account = await register(client, new_email())
    token = account["access_token"]
    before = await last_event_id(app)
    started = await client.post("/api/v1/profile/mfa/totp", headers=auth(token))
    assert started.status_code == 200, started.text
    phone_app = AuthenticatorApp(started.json()["secret"])
    wrong = f"{(int(phone_app.code()) + 1) % 10**6:06d}"
    refused = await client.post(
        "/api/v1/profile/mfa/totp/confirm", json={"code": wrong}, headers=auth(token)
    )
    assert_problem(refused, 400, "mfa.code_invalid")
    assert await events_since(app, before, "second_factor.") == []
