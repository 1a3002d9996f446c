"""What an operator's log shipper collects: everything a real `keyturn serve` prints to stdout
and stderr through a whole scenario (phone and email sign-in, a wrong code and a wrong password,
reset, refresh, checkout, upload, errors, logout), on SQLite and on PostgreSQL. No full phone
number, email, name, token, code hash or password may be in it. The console providers' lines
(development) show the masked recipient and the code, reset token or security notice's link
token: that is their job."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.harness.postgres import PostgresCluster
from tests.harness.server import KEYTURN, LiveServer

pytestmark = pytest.mark.slow

ADMIN_EMAIL = "Operator.Admin@Example.org"
ADMIN_PASSWORD = "admin pass 🔑 seventeen"
PHONE = "+13125550187"
SHIP_PHONE = "+13125550142"
EMAIL = "grace.hopper@example.net"
NAME = "Grace Brewster Hopper"
PASSWORD = "cobol ☕ compiler 1959"
NEW_PASSWORD = "mark II ☕ relay moth"
WRONG_PASSWORD = "not her password 4711"


@pytest.fixture
def live(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    env = {"KEYTURN_LOAD_DEMO_CATALOG": "false", "KEYTURN_DATA_DIR": str(tmp_path / "data")}
    if backend == "postgres":
        pg: PostgresCluster = request.getfixturevalue("pg")
        name = f"scan_{uuid.uuid4().hex[:8]}"
        for market in ("kg", "us"):
            pg.create_database(f"{name}_{market}")
        env["KEYTURN_DATABASE_URL"] = pg.url(f"{name}_{{market}}")
        keyturn(env, "migrate")
    server = LiveServer(tmp_path / "data", env=env).start()
    keyturn(
        env, "create-admin", "--market", "us", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD
    )
    yield server
    server.stop()


def keyturn(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(KEYTURN), *args], env={**os.environ, **env}, check=True, capture_output=True
    )


def database_url(server: LiveServer, market: str) -> str:
    url = server.env.get("KEYTURN_DATABASE_URL")
    if url:
        return url.replace("{market}", market)
    return f"sqlite+aiosqlite:///{server.data_dir / f'keyturn_{market}.sqlite3'}"


async def code_hashes(server: LiveServer) -> list[str]:
    engine = create_async_engine(database_url(server, "us"))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT code_hash FROM phone_challenges"))
            return [h for (h,) in rows if h]
    finally:
        await engine.dispose()


async def outbox(http: httpx.AsyncClient, to: str) -> dict[str, Any]:
    items = (await http.get("/api/v1/dev/outbox", params={"to": to})).json()["items"]
    assert items, to
    return dict(items[0])


async def security_notices(http: httpx.AsyncClient, to: str) -> list[dict[str, Any]]:
    items = (await http.get("/api/v1/dev/outbox", params={"to": to})).json()["items"]
    return [m for m in items if m["kind"] == "security_notice"]


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json()) if response.content else {}


async def scenario(http: httpx.AsyncClient) -> dict[str, list[str]]:
    """Drive the service as its users would; returns every secret it handed out, by kind."""
    secrets: dict[str, list[str]] = {
        "tokens": [],
        "codes": [],
        "reset_tokens": [],
        "notice_tokens": [],
    }

    def keep(tokens: dict[str, Any]) -> dict[str, Any]:
        secrets["tokens"] += [tokens["access_token"], tokens["refresh_token"]]
        return tokens

    # An administrator stocks the shop.
    admin = keep(
        await ok(
            await http.post(
                "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
        )
    )
    product = await ok(
        await http.post(
            "/api/v1/admin/products",
            headers=bearer(admin),
            json={"name": "Scan kit", "skus": [{"code": "SCAN-1", "price": "4.20", "stock": 9}]},
        ),
        201,
    )

    # Phone sign-in: a wrong code first, then the right one; a refresh.
    await ok(await http.post("/api/v1/auth/send-verification", json={"phone": PHONE}))
    code = (await outbox(http, PHONE))["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    secrets["codes"] += [code, wrong]
    refused = await http.post(
        "/api/v1/auth/verify-code", json={"phone": PHONE, "verification_code": wrong}
    )
    assert refused.status_code == 400
    phone_user = keep(
        await ok(
            await http.post(
                "/api/v1/auth/verify-code",
                json={"phone": PHONE, "verification_code": code, "device_name": "Grace's phone"},
            )
        )
    )
    phone_user = keep(
        await ok(
            await http.post(
                "/api/v1/auth/refresh", json={"refresh_token": phone_user["refresh_token"]}
            )
        )
    )

    # Email: register, a wrong password, forgot, reset, sign in with the new password.
    keep(
        await ok(
            await http.post(
                "/api/v1/auth/register",
                json={"email": EMAIL, "password": PASSWORD, "full_name": NAME},
            ),
            201,
        )
    )
    denied = await http.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": WRONG_PASSWORD}
    )
    assert denied.status_code == 401
    assert (
        await http.post("/api/v1/auth/password/forgot", json={"email": EMAIL})
    ).status_code == 202
    reset_token = (await outbox(http, EMAIL))["token"]
    secrets["reset_tokens"].append(reset_token)
    await ok(
        await http.post(
            "/api/v1/auth/password/reset",
            json={"token": reset_token, "new_password": NEW_PASSWORD},
        )
    )
    email_user = keep(
        await ok(
            await http.post("/api/v1/auth/login", json={"email": EMAIL, "password": NEW_PASSWORD})
        )
    )
    # The worker inside serve tells her that her password changed, with a "wasn't me" link.
    async with asyncio.timeout(30):
        while not (notices := await security_notices(http, EMAIL)):
            await asyncio.sleep(0.2)
    secrets["notice_tokens"] += [n["token"] for n in notices]

    # Shopping: cart, checkout to an address with a name and a phone, an upload.
    await ok(
        await http.post(
            "/api/v1/cart/items",
            headers=bearer(email_user),
            json={"sku_id": product["skus"][0]["id"], "quantity": 2},
        )
    )
    address = {
        "full_name": NAME,
        "phone": SHIP_PHONE,
        "line1": "1 Navy Yard",
        "city": "Arlington",
        "country": "US",
    }
    order = await ok(
        await http.post(
            "/api/v1/orders",
            headers={**bearer(email_user), "Idempotency-Key": uuid.uuid4().hex},
            json={"shipping_address": address, "note": f"call {SHIP_PHONE}"},
        ),
        201,
    )
    await ok(await http.get(f"/api/v1/profile/orders/{order['id']}", headers=bearer(email_user)))
    uploaded = await ok(
        await http.post(
            "/api/v1/files",
            headers=bearer(email_user),
            files={"file": (f"{NAME}.txt", f"{NAME} {EMAIL} {PHONE}".encode(), "text/plain")},
        ),
        201,
    )
    content = await http.get(f"/api/v1/files/{uploaded['id']}/content", headers=bearer(email_user))
    assert content.status_code == 200

    # Errors a client makes, each carrying personal data in what it sent.
    for path, body, status in (
        ("/api/v1/auth/send-verification", {"phone": "+1312555"}, 422),
        ("/api/v1/auth/register", {"email": f"{EMAIL}@@", "password": PASSWORD}, 422),
        ("/api/v1/auth/register", {"email": EMAIL, "password": NEW_PASSWORD}, 409),
        ("/api/v1/auth/login", {"email": f"nobody.{EMAIL}", "password": PASSWORD}, 401),
        ("/api/v1/auth/password/reset", {"token": reset_token, "new_password": PASSWORD}, 400),
        # Any string that is not a live refresh token is a 401 (issue 10 item 15).
        ("/api/v1/auth/refresh", {"refresh_token": phone_user["access_token"]}, 401),
    ):
        assert (await http.post(path, json=body)).status_code == status, path
    stale = {"Authorization": f"Bearer {admin['refresh_token']}"}
    assert (await http.get("/api/v1/cart", headers=stale)).status_code == 401
    assert (
        await http.get("/api/v1/profile/orders/999999", headers=bearer(email_user))
    ).status_code == 404
    assert (await http.get("/api/v1/cart", headers={"X-Market": PHONE})).status_code == 400

    await ok(await http.post("/api/v1/auth/logout", headers=bearer(phone_user)))
    await ok(
        await http.post("/api/v1/auth/logout", headers=bearer(email_user), json={"scope": "all"})
    )
    return secrets


def structured(line: str) -> str:
    """A JSON log line without its timestamp (microseconds could look like a code)."""
    try:
        event = json.loads(line)
    except ValueError:
        return line
    if isinstance(event, dict):
        event.pop("timestamp", None)
    return json.dumps(event, ensure_ascii=False)


async def test_the_process_output_holds_no_personal_data_or_secret(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, headers={"X-Market": "us"}, timeout=30) as http:
        secrets = await scenario(http)
    hashes = await code_hashes(live)
    live.stop()
    output = live.logs()
    lines = output.splitlines()
    assert len(lines) > 40 and '"event": "request"' in output  # the logs were collected

    personal = [PHONE, SHIP_PHONE, PHONE[1:], EMAIL, ADMIN_EMAIL, ADMIN_EMAIL.lower(), NAME]
    passwords = [ADMIN_PASSWORD, PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]
    for value in [*personal, *passwords, *secrets["tokens"], *hashes]:
        assert value not in output, f"{value[:12]}… is in the output"
    assert hashes, "a code hash was stored and looked for"

    # Codes and reset tokens appear only on the console providers' own lines, masked.
    sms_lines = [line for line in lines if line.startswith("[keyturn console SMS]")]
    mail_lines = [line for line in lines if line.startswith("[keyturn console email]")]
    assert sms_lines == [
        f"[keyturn console SMS] to +1312*****87: Your keyturn code is "
        f"{secrets['codes'][0]}. It expires in 5 minutes. Never share it."
    ]
    assert len(mail_lines) == 2 and mail_lines[0].startswith(
        "[keyturn console email] to g***@example.net: Reset your keyturn password (token: "
    )
    assert secrets["reset_tokens"][0] in mail_lines[0]
    assert mail_lines[1].startswith(
        "[keyturn console email] to g***@example.net: Your password was changed (token: "
    )
    assert secrets["notice_tokens"][0] in mail_lines[1]
    rest = "\n".join(structured(line) for line in lines if line not in sms_lines + mail_lines)
    for value in [*secrets["codes"], *secrets["reset_tokens"], *secrets["notice_tokens"]]:
        assert not re.search(rf"\b{re.escape(value)}\b", rest), f"{value[:6]}… is in the logs"
    assert "+1312*****87" in rest and "g***@example.net" in rest  # masked, not dropped
