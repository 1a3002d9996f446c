"""Staff read and export the audit log (`/api/v1/admin/audit-events`)."""

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from keyturn.audit.models import AuditEvent
from tests.factories import auth, make_admin, new_phone, sign_in
from tests.problems import assert_problem

EVENTS = "/api/v1/admin/audit-events"


async def add_events(app: FastAPI, rows: list[dict[str, Any]], market: str = "us") -> None:
    async with app.state.databases.session(market) as db:
        db.add_all(AuditEvent(**row) for row in rows)
        await db.commit()


async def count_events(app: FastAPI, market: str = "us") -> int:
    async with app.state.databases.session(market) as db:
        return int(await db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_staff_filter_the_log_by_user_event_and_time(app, client: httpx.AsyncClient) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    phone = new_phone()
    person = (await sign_in(client, phone))["user"]["id"]
    await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
    )
    wrong = {"phone": phone, "verification_code": "000000"}
    await client.post("/api/v1/auth/verify-code", json=wrong, headers={"X-Market": "us"})
    then = datetime(2020, 1, 1, 12, tzinfo=UTC)
    await add_events(app, [{"event": "logout", "user_id": person, "created_at": then}])

    mine = (await client.get(EVENTS, params={"user_id": person}, headers=admin)).json()
    assert {e["event"] for e in mine["items"]} == {"login.succeeded", "logout"}
    assert all(e["user_id"] == person for e in mine["items"])
    logins = (await client.get(EVENTS, params={"event": "login"}, headers=admin)).json()
    assert {e["event"] for e in logins["items"]} == {"login.succeeded", "login.failed"}
    failed = (await client.get(EVENTS, params={"event": "login.failed"}, headers=admin)).json()
    assert {e["event"] for e in failed["items"]} == {"login.failed"}
    old = await client.get(
        EVENTS, params={"until": "2020-01-02T00:00:00", "since": "2019-12-31"}, headers=admin
    )
    assert [e["event"] for e in old.json()["items"]] == ["logout"]
    recent = await client.get(
        EVENTS,
        params={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        headers=admin,
    )
    assert "logout" not in {e["event"] for e in recent.json()["items"]}

    first = (await client.get(EVENTS, params={"limit": 2}, headers=admin)).json()
    rest = (
        await client.get(
            EVENTS, params={"limit": 200, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == await count_events(app)
    types = (await client.get(f"{EVENTS}/types", headers=admin)).json()["items"]
    assert {"login.failed", "account.disabled", "catalog.imported"} <= set(types)


async def test_export_is_every_matching_event_as_csv_or_ndjson(
    app, client: httpx.AsyncClient
) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    rows = [
        {"event": "login.failed", "user_id": 7, "ip": "203.0.113.9", "details": {"n": i}}
        for i in range(1203)  # more than two pages
    ]
    rows.append({"event": "login.failed", "user_id": 7, "details": {"note": "=HYPERLINK(1)"}})
    await add_events(app, rows)

    as_csv = await client.get(
        f"{EVENTS}/export", params={"format": "csv", "user_id": 7}, headers=admin
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"].startswith('attachment; filename="audit-us-')
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == 1204
    assert [int(r["id"]) for r in table] == sorted(int(r["id"]) for r in table)  # oldest first
    assert json.loads(table[0]["details"]) == {"n": 0} and table[0]["ip"] == "203.0.113.9"

    ndjson = await client.get(
        f"{EVENTS}/export", params={"format": "ndjson", "event": "login"}, headers=admin
    )
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert len(lines) == 1204 + 2  # and the admin's own two sign-ins
    assert lines[-1]["details"] == {"note": "=HYPERLINK(1)"}  # JSON needs no escaping

    nothing = await client.get(
        f"{EVENTS}/export", params={"format": "csv", "user_id": 999}, headers=admin
    )
    assert nothing.text.splitlines() == ["id,created_at,event,user_id,session_id,ip,details"]


async def test_a_formula_in_an_exported_cell_is_defused(app, client: httpx.AsyncClient) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    await add_events(app, [{"event": "login.failed", "user_id": 8, "ip": "=1+1", "details": {}}])
    exported = await client.get(f"{EVENTS}/export", params={"user_id": 8}, headers=admin)
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert row["ip"] == "'=1+1"


async def test_a_stalled_export_reader_holds_no_transaction(
    app, client: httpx.AsyncClient, backend: str
) -> None:
    """A client that stops reading mid-export must not block anyone (SQLite's single writer
    and PostgreSQL's pool): the request is driven by hand and left stalled after a page."""
    admin = (await make_admin(app, client))["access_token"]
    await add_events(app, [{"event": "logout", "details": {"i": i}} for i in range(1500)])
    stall, first_chunk, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        await finished.wait()  # the client never disconnects, it just stops reading
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()
            await stall.wait()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"{EVENTS}/export",
        "raw_path": f"{EVENTS}/export".encode(),
        "query_string": b"format=ndjson",
        "headers": [(b"authorization", f"Bearer {admin}".encode()), (b"host", b"testserver")],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
        "root_path": "",
    }
    request = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(first_chunk.wait(), 10)

    # Meanwhile a customer signs in and changes their profile: writes on the same market.
    person = await sign_in(client)
    changed = await asyncio.wait_for(
        client.patch(
            "/api/v1/profile",
            json={"full_name": "Not blocked"},
            headers=auth(person["access_token"]),
        ),
        5,
    )
    assert changed.status_code == 200
    if backend == "postgres":
        async with app.state.databases.session("us") as db:
            idle = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction'"
                )
            )
        assert idle == 0
    stall.set()
    finished.set()
    await asyncio.wait_for(request, 10)


@pytest.mark.parametrize(
    "params",
    [
        {"user_id": "0"},
        {"user_id": "x"},
        {"event": "DROP TABLE"},
        {"event": "a" * 49},
        {"since": "yesterday"},
        {"limit": "201"},
        {"cursor": "-1"},
    ],
)
async def test_bad_filters_are_422(app, client: httpx.AsyncClient, params: dict[str, str]) -> None:
    admin = auth((await make_admin(app, client))["access_token"])
    before = await count_events(app)
    assert_problem(await client.get(EVENTS, params=params, headers=admin), 422, "request.invalid")
    export_params = {k: v for k, v in params.items() if k not in ("limit", "cursor")}
    if export_params:
        exported = await client.get(f"{EVENTS}/export", params=export_params, headers=admin)
        assert_problem(exported, 422, "request.invalid")
    wrong_format = await client.get(f"{EVENTS}/export", params={"format": "xlsx"}, headers=admin)
    assert_problem(wrong_format, 422, "request.invalid")
    assert await count_events(app) == before


async def test_customers_cannot_read_or_export_the_log(app, client: httpx.AsyncClient) -> None:
    customer = auth((await sign_in(client))["access_token"])
    for path in (EVENTS, f"{EVENTS}/types", f"{EVENTS}/export"):
        assert_problem(await client.get(path, headers=customer), 403, "auth.forbidden")
    assert_problem(await client.get(EVENTS), 401, "auth.unauthorized")


async def test_another_markets_log_is_never_visible(app, client: httpx.AsyncClient) -> None:
    admin = auth((await make_admin(app, client, "us"))["access_token"], "us")
    await add_events(app, [{"event": "logout", "user_id": 4242}], market="kg")
    listed = (await client.get(EVENTS, params={"user_id": 4242}, headers=admin)).json()
    assert listed["items"] == []
    exported = await client.get(f"{EVENTS}/export", params={"format": "ndjson"}, headers=admin)
    assert "4242" not in exported.text
    assert_problem(
        await client.get(EVENTS, headers={**admin, "X-Market": "kg"}), 403, "auth.forbidden"
    )
