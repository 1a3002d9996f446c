"""`keyturn import-users` and `keyturn create-admin`, through the real command."""

import json
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from keyturn.config import Settings
from keyturn.users.models import User
from tests.factories import STRONG_PASSWORD, auth, login, run_cli, sign_in

HASH_ADA = bcrypt.hashpw(b"ada's old pass", bcrypt.gensalt(rounds=10)).decode()
HASH_BOB = bcrypt.hashpw(b"bob's old pass", bcrypt.gensalt(rounds=10)).decode()


def export_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, indent=2))
    return path


JOBPSYCH_ROWS = [
    {
        "email": "Ada@Example.com",
        "name": "Ada",
        "company": "Acme",
        "password": HASH_ADA,
        "filesUploaded": 3,
    },
    {"email": "bob@example.com", "name": "Bob", "password": HASH_BOB, "filesUploaded": 0},
]


async def _users(app: FastAPI) -> dict[str, User]:
    async with app.state.databases.session("us") as db:
        return {u.email: u for u in await db.scalars(select(User)) if u.email}


async def test_imported_user_signs_in_with_the_old_password_and_is_rehashed(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    result = await run_cli(
        settings,
        "import-users",
        str(export_json(tmp_path / "users.json", JOBPSYCH_ROWS)),
        "--market",
        "us",
    )
    assert result.exit_code == 0, result.output
    assert "us: 2 created, 0 updated, 0 unchanged" in result.output

    imported = await _users(app)
    assert imported["ada@example.com"].password_hash == HASH_ADA
    assert imported["ada@example.com"].company == "Acme"

    signed = await login(client, "ada@example.com", "ada's old pass")
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["full_name"] == "Ada"
    after = await _users(app)
    assert after["ada@example.com"].password_hash.startswith("$argon2id$")  # type: ignore[union-attr]

    usage = await client.get("/api/v1/usage", headers=auth(signed.json()["access_token"]))
    uploads = next(c for c in usage.json()["counters"] if c["name"] == "uploads")
    assert uploads["used"] == 3 and uploads["remaining"] == uploads["limit"] - 3


async def test_reimporting_changes_nothing_and_keeps_rehashed_passwords(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    path = export_json(tmp_path / "users.json", JOBPSYCH_ROWS)
    assert (await run_cli(settings, "import-users", str(path), "--market", "us")).exit_code == 0
    assert (await login(client, "ada@example.com", "ada's old pass")).status_code == 200
    before = {e: (u.id, u.password_hash, u.full_name) for e, u in (await _users(app)).items()}

    again = await run_cli(settings, "import-users", str(path), "--market", "us")
    assert again.exit_code == 0, again.output
    assert "us: 0 created, 0 updated, 2 unchanged" in again.output
    after = {e: (u.id, u.password_hash, u.full_name) for e, u in (await _users(app)).items()}
    assert after == before
    signed = await login(client, "ada@example.com", "ada's old pass")
    usage = await client.get("/api/v1/usage", headers=auth(signed.json()["access_token"]))
    assert next(c for c in usage.json()["counters"] if c["name"] == "uploads")["used"] == 3


async def test_a_csv_with_bad_rows_imports_nothing_and_names_each_line(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "users.csv"
    bad.write_text(
        "email,name,company,password_hash,files_uploaded\n"
        f"carol@example.com,Carol,,{HASH_ADA},1\n"
        "not-an-email,Dan,,,0\n"
        f"erin@example.com,Erin,,plaintext-password,0\n"
        f"CAROL@example.com,Carol again,,{HASH_BOB},0\n"
        "fay@example.com,Fay,,,lots\n"
    )
    result = await run_cli(settings, "import-users", str(bad), "--market", "us")
    assert result.exit_code == 1
    for line in (
        "line 3: invalid email",
        "line 4: the password is not a bcrypt",
        "line 5:",
        "line 6:",
    ):
        assert f"users.csv: {line}" in result.output, result.output
    assert "users.csv: line 2" not in result.output
    assert "nothing was imported" in result.output
    async with app.state.databases.session("us") as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 0


async def test_json_errors_name_the_line_the_object_starts_on(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    rows = [*JOBPSYCH_ROWS, {"name": "No email"}]
    path = export_json(tmp_path / "users.json", rows)
    result = await run_cli(settings, "import-users", str(path), "--market", "us")
    assert result.exit_code == 1
    start = path.read_text().splitlines().index("  {", 10) + 1
    assert f"line {start}: `email` or `phone` is missing" in result.output, result.output


async def test_files_uploaded_over_the_plan_limit_imports_nothing(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    rows = [*JOBPSYCH_ROWS, {"email": "heavy@example.com", "filesUploaded": 11}]
    path = export_json(tmp_path / "users.json", rows)
    result = await run_cli(settings, "import-users", str(path), "--market", "us")
    assert result.exit_code == 1
    assert "files_uploaded 11" in result.output and "nothing was imported" in result.output
    assert await _users(app) == {}


async def test_phone_only_rows_import_and_sign_in_by_code(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    """The shop app's users have a phone and no email."""
    rows = [
        {"phone": "+13128059851", "full_name": "Seed User", "is_verified": True},
        {"phone_number": "(312) 805-9852", "name": "Local Format"},
        {"email": "both@example.com", "phone": "+13128059853"},
    ]
    path = export_json(tmp_path / "phones.json", rows)
    result = await run_cli(settings, "import-users", str(path), "--market", "us")
    assert result.exit_code == 0, result.output
    assert "us: 3 created" in result.output
    signed = await sign_in(client, "+13128059851", market="us")
    assert signed["is_new_user"] is False
    assert signed["user"]["full_name"] == "Seed User"
    local = await sign_in(client, "+13128059852", market="us")
    assert local["is_new_user"] is False and local["user"]["full_name"] == "Local Format"
    again = await run_cli(settings, "import-users", str(path), "--market", "us")
    assert "us: 0 created, 0 updated, 3 unchanged" in again.output, again.output


async def test_a_row_whose_email_and_phone_are_two_users_imports_nothing(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    phone_user = await sign_in(client, "+13128059860", market="us")
    await run_cli(
        settings,
        "import-users",
        str(export_json(tmp_path / "a.json", [{"email": "x@example.com"}])),
        "--market",
        "us",
    )
    rows = [{"email": "new@example.com"}, {"email": "x@example.com", "phone": "+13128059860"}]
    result = await run_cli(
        settings, "import-users", str(export_json(tmp_path / "b.json", rows)), "--market", "us"
    )
    assert result.exit_code == 1
    assert "two different users" in result.output and "nothing was imported" in result.output
    emails = set(await _users(app))
    assert emails == {"x@example.com"}
    assert phone_user["user"]["email"] is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"phone": "12"}, "phone '12'"),
        ({"phone": "+13128059851", "id": "abc"}, "`id` must be a whole number"),
        ({"email": "a@example.com", "is_verified": "maybe"}, "is_verified"),
    ],
)
async def test_bad_phone_rows_name_their_line(
    app: FastAPI, settings: Settings, tmp_path: Path, row: dict, message: str
) -> None:
    path = export_json(tmp_path / "bad.json", [row])
    result = await run_cli(settings, "import-users", str(path), "--market", "us")
    assert result.exit_code == 1 and "line 2" in result.output and message in result.output
    assert await _users(app) == {}


async def test_create_admin_by_email_signs_in_as_admin(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    result = await run_cli(
        settings,
        "create-admin",
        "--email",
        "Root@Example.com",
        "--password",
        STRONG_PASSWORD,
        "--market",
        "us",
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    signed = await login(client, "root@example.com")
    assert signed.status_code == 200 and signed.json()["user"]["role"] == "admin"
    weak = await run_cli(
        settings, "create-admin", "--email", "x@example.com", "--password", "password123"
    )
    assert weak.exit_code == 1 and "password.weak" in weak.output


async def test_create_admin_promotes_an_existing_phone_user(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await sign_in(client, market="us")
    phone = user["user"]["phone_number"]
    result = await run_cli(settings, "create-admin", "--phone", phone, "--market", "us")
    assert result.exit_code == 0, result.output
    assert f"admin user {user['user']['id']} promoted" in result.output
    profile = await client.get("/api/v1/profile", headers=auth(user["access_token"]))
    assert profile.json()["role"] == "admin"


async def test_create_admin_asks_for_a_missing_password(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    answer = f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n"
    result = await run_cli(
        settings, "create-admin", "--email", "ops@example.com", "--market", "us", stdin=answer
    )
    assert result.exit_code == 0, result.output
    assert (await login(client, "ops@example.com")).status_code == 200
