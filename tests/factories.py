"""Small async factories over HTTP: what a client app would do, nothing hidden."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

_numbers = itertools.count(100)


def new_phone(market: str = "us") -> str:
    """A fresh valid number per call (US 312-555-01xx style, KG +996 700 xxx xxx)."""
    n = next(_numbers)
    return f"+1312555{n:04d}" if market == "us" else f"+996700{n:06d}"


def auth(token: str, market: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if market:
        headers["X-Market"] = market
    return headers


async def latest_code(client: httpx.AsyncClient, phone: str, market: str = "us") -> str:
    outbox = await client.get(
        "/api/v1/dev/outbox", params={"to": phone}, headers={"X-Market": market}
    )
    assert outbox.status_code == 200, outbox.text
    return str(outbox.json()["items"][0]["code"])


async def sign_in(
    client: httpx.AsyncClient,
    phone: str | None = None,
    *,
    market: str = "us",
    device_name: str = "test device",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Phone sign-in through the dev outbox; returns the token response."""
    phone = phone or new_phone(market)
    sent = await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": market}
    )
    assert sent.status_code == 200, sent.text
    code = await latest_code(client, phone, market)
    response = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": device_name},
        headers={"X-Market": market, **(headers or {})},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_admin(app: Any, client: httpx.AsyncClient, market: str = "us") -> dict[str, Any]:
    """Sign a user in and promote them, as `keyturn create-admin` would."""
    from sqlalchemy import update

    from keyturn.users.models import User

    signed = await sign_in(client, market=market)
    async with app.state.databases.session(market) as db:
        await db.execute(update(User).where(User.id == signed["user"]["id"]).values(role="admin"))
        await db.commit()
    return await sign_in(client, signed["user"]["phone_number"], market=market)


_sku_codes = itertools.count(1)


async def create_product(
    client: httpx.AsyncClient,
    admin_token: str,
    *,
    name: str = "Test product",
    prices: tuple[str, ...] = ("19.99",),
    stock: int = 10,
    market: str = "us",
) -> dict[str, Any]:
    """An active product with one SKU per price, created through the admin API."""
    skus = [{"code": f"T-{next(_sku_codes):05d}", "price": p, "stock": stock} for p in prices]
    response = await client.post(
        "/api/v1/admin/products",
        json={"name": name, "description": f"About {name}", "skus": skus},
        headers=auth(admin_token, market),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def start_guest(client: httpx.AsyncClient, market: str = "us") -> dict[str, Any]:
    response = await client.post("/api/v1/auth/guest", headers={"X-Market": market})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_to_cart(
    client: httpx.AsyncClient, token: str, sku_id: int, quantity: int = 1
) -> httpx.Response:
    return await client.post(
        "/api/v1/cart/items", json={"sku_id": sku_id, "quantity": quantity}, headers=auth(token)
    )


# Files and usage ---------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(
    client: httpx.AsyncClient,
    token: str,
    content: bytes = PDF_BYTES,
    filename: str = "resume.pdf",
    content_type: str = "application/pdf",
) -> httpx.Response:
    """POST /files with one multipart `file` part, as a browser form would."""
    return await client.post(
        "/api/v1/files", files={"file": (filename, content, content_type)}, headers=auth(token)
    )


# Email + password ----------------------------------------------------------------------------

_emails = itertools.count(1)
STRONG_PASSWORD = "correct horse 🐎 battery"


def new_email() -> str:
    return f"person{next(_emails)}@example.com"


async def register(
    client: httpx.AsyncClient,
    email: str | None = None,
    password: str = STRONG_PASSWORD,
    *,
    market: str = "us",
    **fields: Any,
) -> dict[str, Any]:
    """POST /auth/register; returns the token response."""
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email or new_email(), "password": password, **fields},
        headers={"X-Market": market},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD, market: str = "us"
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Market": market},
    )


async def open_shop(app: Any, client: httpx.AsyncClient, market: str = "us") -> dict[str, Any]:
    """An admin; "Tee" with two SKUs for sale; "Mug" with one; "Old" whose only SKU is
    no longer sold. Returns the admin token and the ids tests need."""
    admin = (await make_admin(app, client, market))["access_token"]
    tee = await create_product(client, admin, name="Tee", prices=("19.99", "5.00"), market=market)
    mug = await create_product(client, admin, name="Mug", prices=("7.25",), market=market)
    old = await create_product(client, admin, name="Old", prices=("1.00",), market=market)
    patched = await client.patch(
        f"/api/v1/admin/skus/{old['skus'][0]['id']}",
        json={"is_active": False},
        headers=auth(admin, market),
    )
    assert patched.status_code == 200, patched.text
    return {
        "admin": admin,
        "product": tee["id"],
        "sku": tee["skus"][0]["id"],
        "cheap_sku": tee["skus"][1]["id"],
        "mug": mug["id"],
        "mug_sku": mug["skus"][0]["id"],
        "old": old["id"],
        "inactive_sku": old["skus"][0]["id"],
    }


async def run_cli(settings: Any, *args: str, stdin: str | None = None) -> Any:
    """The `keyturn` command as an operator runs it, on these settings' databases."""
    import asyncio

    from typer.testing import CliRunner

    from keyturn.cli import cli

    env = {"KEYTURN_DATA_DIR": str(settings.data_dir), "KEYTURN_DATABASE_URL": ""}
    if settings.database_url:
        env["KEYTURN_DATABASE_URL"] = settings.database_url
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env, input=stdin)


# Sign-in proofs ------------------------------------------------------------------------------


async def age_sign_in(app: Any, session_id: str, *, minutes: int, market: str = "us") -> None:
    """Move a session's last proof of identity into the past, as if signed in long ago."""
    from datetime import timedelta

    from sqlalchemy import update

    from keyturn.db import utcnow
    from keyturn.sessions.models import Session

    async with app.state.databases.session(market) as db:
        await db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(auth_time=utcnow() - timedelta(minutes=minutes))
        )
        await db.commit()


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# Passkeys and step-up ----------------------------------------------------------------------


async def add_passkey(
    client: httpx.AsyncClient, token: str, authenticator: Any, *, name: str | None = None
) -> dict[str, Any]:
    """Register a passkey from `authenticator` (tests.harness.authenticator) on the account."""
    options = await client.post("/api/v1/profile/passkeys/options", headers=auth(token))
    assert options.status_code == 200, options.text
    body: dict[str, Any] = {"credential": authenticator.create(options.json())}
    if name:
        body["name"] = name
    added = await client.post("/api/v1/profile/passkeys", json=body, headers=auth(token))
    assert added.status_code == 201, added.text
    passkey: dict[str, Any] = added.json()
    return passkey


async def passkey_sign_in(
    client: httpx.AsyncClient, authenticator: Any, *, market: str = "us", **answer: Any
) -> httpx.Response:
    """Sign in with a passkey alone: options, the authenticator's answer, login."""
    options = await client.post("/api/v1/auth/passkeys/login/options", headers={"X-Market": market})
    assert options.status_code == 200, options.text
    return await client.post(
        "/api/v1/auth/passkeys/login",
        json={"credential": authenticator.get(options.json(), **answer)},
        headers={"X-Market": market},
    )


async def old_sign_in(app: Any, client: httpx.AsyncClient, signed: dict[str, Any]) -> str:
    """An access token of `signed`'s session whose proof of identity is 30 minutes old: the
    session was opened long ago and only refreshed since."""
    await age_sign_in(app, signed["session_id"], minutes=30, market=signed["user"]["market"])
    refreshed = await refresh(client, signed["refresh_token"])
    signed["refresh_token"] = refreshed["refresh_token"]
    return str(refreshed["access_token"])


async def audit_events(app: Any, event: str, market: str = "us") -> list[Any]:
    from sqlalchemy import select

    from keyturn.audit.models import AuditEvent

    async with app.state.databases.session(market) as db:
        return list(
            await db.scalars(
                select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)
            )
        )


# Second factors ------------------------------------------------------------------------------


class AuthenticatorApp:
    """The phone app, set up from the secret the server showed: codes of the current time step
    (`ahead=1`: the next one, within the allowed drift)."""

    def __init__(self, secret: str) -> None:
        import pyotp

        self.totp = pyotp.TOTP(secret)

    def code(self, ahead: int = 0) -> str:
        import time

        return self.totp.at(time.time(), counter_offset=ahead)


async def enrol_totp(
    client: httpx.AsyncClient, token: str, market: str = "us"
) -> tuple[AuthenticatorApp, list[str]]:
    """Add an authenticator app (start + confirm with its code); returns it and the recovery
    codes. The app's current code is then used: the next sign-in takes `code(ahead=1)`."""
    started = await client.post("/api/v1/profile/mfa/totp", headers=auth(token, market))
    assert started.status_code == 200, started.text
    app = AuthenticatorApp(started.json()["secret"])
    confirmed = await client.post(
        "/api/v1/profile/mfa/totp/confirm", json={"code": app.code()}, headers=auth(token, market)
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return app, codes


async def codes_may_repeat(app: Any, user_id: int, market: str = "us") -> None:
    """Time passes: the codes already used lie two time steps further back, so the app's
    current and next codes are new again (tests cannot wait 30 s for the clock)."""
    from sqlalchemy import update

    from keyturn.auth.models import TotpFactor

    async with app.state.databases.session(market) as db:
        await db.execute(
            update(TotpFactor)
            .where(TotpFactor.user_id == user_id)
            .values(last_used_step=TotpFactor.last_used_step - 3)
        )
        await db.commit()


async def reset_password(
    client: httpx.AsyncClient, email: str, new_password: str, market: str = "us"
) -> httpx.Response:
    """What the mailbox owner does: forgot → the emailed token (dev outbox) → a new password."""
    headers = {"X-Market": market}
    asked = await client.post(
        "/api/v1/auth/password/forgot", json={"email": email}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    mail = await client.get("/api/v1/dev/outbox", params={"to": email}, headers=headers)
    token = mail.json()["items"][0]["token"]
    return await client.post(
        "/api/v1/auth/password/reset",
        json={"token": token, "new_password": new_password},
        headers=headers,
    )


# Events ------------------------------------------------------------------------------------

ADDRESS = {
    "shipping_address": {
        "full_name": "Hook Test",
        "phone": "+13125550100",
        "line1": "1 Main St",
        "city": "Chicago",
        "country": "US",
    }
}


async def emit_every_event_type(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str], providers: Any
) -> None:
    """Make keyturn emit each event type at least once, through the API. `providers`: the
    fake Apple/Google (tests.harness.oauth_fixtures) the app's settings trust."""
    from tests.harness.authenticator import SoftAuthenticator

    person = await register(client, full_name="Ada")  # user.created, session.created
    token = person["access_token"]
    assert (
        await client.patch("/api/v1/profile", json={"company": "Hooks"}, headers=auth(token))
    ).status_code == 200  # user.updated
    changed = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "correct horse 🐎 battery", "new_password": "another 🐎 horse"},
        headers=auth(token),
    )
    assert changed.status_code == 200, changed.text  # password.changed
    passkey = await add_passkey(client, token, SoftAuthenticator())  # passkey.added
    dropped = await client.delete(f"/api/v1/profile/passkeys/{passkey['id']}", headers=auth(token))
    assert dropped.status_code == 204, dropped.text  # passkey.removed
    await enrol_totp(client, token)  # second_factor.added
    off = await client.delete("/api/v1/profile/mfa/totp", headers=auth(token))
    assert off.status_code == 200, off.text  # second_factor.removed
    linked = await client.post(
        "/api/v1/profile/identities/google",
        json={
            "id_token": providers.id_token("google", f"g-{uuid.uuid4()}", nonce="n"),
            "nonce": "n",
        },
        headers=auth(token),
    )
    assert linked.status_code == 200, linked.text  # identity.linked
    unlinked = await client.delete("/api/v1/profile/identities/google", headers=auth(token))
    assert unlinked.status_code == 204, unlinked.text  # identity.unlinked
    product = await create_product(client, admin["Authorization"].split()[1])
    for _ in range(2):
        await add_to_cart(client, token, product["skus"][0]["id"])
        order = await client.post("/api/v1/orders", json=ADDRESS, headers=auth(token))
        assert order.status_code == 201, order.text  # order.created
    moved = await client.post(
        f"/api/v1/admin/orders/{order.json()['id']}/status",
        json={"status": "processing"},
        headers=admin,
    )
    assert moved.status_code == 200  # order.status_changed
    cancelled = await client.post(
        f"/api/v1/profile/orders/{order.json()['id']}/cancel", headers=auth(token)
    )
    assert cancelled.status_code == 200  # order.cancelled
    stored = await upload(client, token, PDF_BYTES)  # file.uploaded, usage.limit_reached
    assert stored.status_code == 201, stored.text
    gone = await client.delete(f"/api/v1/files/{stored.json()['id']}", headers=auth(token))
    assert gone.status_code == 204  # file.deleted
    user_id = person["user"]["id"]
    for verb in ("disable", "enable"):  # user.disabled (+ session.revoked), user.enabled
        answer = await client.post(f"/api/v1/admin/users/{user_id}/{verb}", headers=admin)
        assert answer.status_code == 200
    deleted = await client.delete(f"/api/v1/admin/users/{user_id}", headers=admin)
    assert deleted.status_code == 204, deleted.text  # user.deleted
