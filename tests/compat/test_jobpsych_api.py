"""The JobPsych API's answers to bad input, strangers and replayed tokens: the seed's shapes
and status codes, keyturn's behaviour (docs/compat-jobpsych.md)."""

import asyncio
import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from tests.compat.conftest import SECRET, jobpsych_client
from tests.conftest import http_client
from tests.factories import PDF_BYTES, auth, enrol_totp
from tests.factories import register as register_v1

PASSWORD = "securePassword123!"


def assert_seed_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False and body["error"] == error and body["message"]
    return body


async def register(web: httpx.AsyncClient, email: str = "john@example.com") -> dict[str, Any]:
    response = await web.post(
        "/api/auth/register",
        json={"name": "John Doe", "email": email, "password": PASSWORD, "company_name": "Acme"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(web: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await web.post("/api/auth/login", json={"email": email, "password": password})


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "a@example.com", "password": PASSWORD}, ["name"]),
        ({"name": "A", "password": PASSWORD}, ["email"]),
        ({"name": "A", "email": "a@example.com"}, ["password"]),
        ({"name": "A", "email": "a@example.com", "password": 12345678}, ["password"]),
    ],
)
async def test_register_without_a_required_field_is_a_400_and_creates_nothing(
    web: httpx.AsyncClient, body: dict[str, Any], fields: list[str]
) -> None:
    response = await web.post("/api/auth/register", json=body)
    assert assert_seed_error(response, 400, "VALIDATION_ERROR")["fields"] == fields
    assert (await login(web, "a@example.com")).status_code == 401


@pytest.mark.parametrize(
    ("password", "code"), [("short", "password.too_short"), ("password123", "password.weak")]
)
async def test_weak_password_is_a_400_naming_the_rule(
    web: httpx.AsyncClient, password: str, code: str
) -> None:
    response = await web.post(
        "/api/auth/register",
        json={"name": "A", "email": "a@example.com", "password": password},
    )
    assert assert_seed_error(response, 400, code.upper().replace(".", "_"))["code"] == code
    assert (await login(web, "a@example.com", password)).status_code == 401


async def test_taken_email_is_a_409(web: httpx.AsyncClient) -> None:
    await register(web)
    response = await web.post(
        "/api/auth/register",
        json={"name": "Other", "email": "JOHN@example.com", "password": "other " + PASSWORD},
    )
    assert_seed_error(response, 409, "ACCOUNT_EMAIL_TAKEN")
    assert (await login(web, "john@example.com")).status_code == 200


async def test_wrong_password_and_unknown_email_get_the_same_401(web: httpx.AsyncClient) -> None:
    await register(web)
    wrong = assert_seed_error(
        await login(web, "john@example.com", "nope"), 401, "INVALID_CREDENTIALS"
    )
    unknown = assert_seed_error(await login(web, "nobody@example.com"), 401, "INVALID_CREDENTIALS")
    assert wrong == unknown


async def test_register_accepts_the_documents_company_field(web: httpx.AsyncClient) -> None:
    response = await web.post(
        "/api/auth/register",
        json={
            "name": "Ann",
            "email": "ann@example.com",
            "password": PASSWORD,
            "company": "Initech",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["user"]["company_name"] == "Initech"


async def test_refresh_needs_the_cookie_and_an_allowed_origin(
    jobpsych_app: FastAPI, web: httpx.AsyncClient
) -> None:
    signed = await register(web)
    cookie = web.cookies["refreshToken"]
    async with jobpsych_client(jobpsych_app) as bare:
        bare.cookies.clear()
        assert_seed_error(await bare.post("/api/auth/refresh"), 401, "UNAUTHORIZED")
    async with jobpsych_client(jobpsych_app, origin="https://evil.example") as evil:
        forged = await evil.post("/api/auth/refresh", headers={"Cookie": f"refreshToken={cookie}"})
        assert_seed_error(forged, 403, "AUTH_CROSS_SITE")
    profile = await web.get("/api/auth/profile", headers=auth(signed["accessToken"]))
    assert profile.status_code == 200
    assert (await web.post("/api/auth/refresh")).status_code == 200


async def test_replaying_a_rotated_refresh_cookie_ends_the_session(
    jobpsych_app: FastAPI, web: httpx.AsyncClient
) -> None:
    await register(web)
    first = web.cookies["refreshToken"]
    assert (await web.post("/api/auth/refresh")).status_code == 200
    latest = await web.post("/api/auth/refresh")
    assert latest.status_code == 200
    async with jobpsych_client(jobpsych_app) as thief:
        stolen = await thief.post("/api/auth/refresh", headers={"Cookie": f"refreshToken={first}"})
    assert_seed_error(stolen, 401, "UNAUTHORIZED")
    assert "refreshToken=" in stolen.headers["set-cookie"]  # the dead cookie is cleared
    assert (await web.post("/api/auth/refresh")).status_code == 401
    token = latest.json()["accessToken"]
    assert (await web.get("/api/auth/profile", headers=auth(token))).status_code == 401


async def test_logout_ends_only_this_device(jobpsych_app: FastAPI, web: httpx.AsyncClient) -> None:
    laptop = (await register(web))["accessToken"]
    async with jobpsych_client(jobpsych_app) as phone:
        signed = await login(phone, "john@example.com")
        out = await phone.post("/api/auth/logout")  # the cookie alone, as the seed's client
        assert out.status_code == 200 and out.json() == {
            "success": True,
            "message": "Logged out successfully",
        }
        assert (await phone.post("/api/auth/refresh")).status_code == 401
        dead = await phone.get("/api/auth/profile", headers=auth(signed.json()["accessToken"]))
        assert dead.status_code == 401
    assert (await web.get("/api/auth/profile", headers=auth(laptop))).status_code == 200
    assert (await web.post("/api/auth/refresh")).status_code == 200


async def test_the_seeds_email_only_reset_sends_a_link_and_changes_nothing(
    web: httpx.AsyncClient,
) -> None:
    """The seed set a new password for whoever named the email; now the link is the proof."""
    await register(web)
    response = await web.post(
        "/api/auth/reset-password",
        json={"email": "john@example.com", "newPassword": "attacker's choice 123"},
    )
    assert response.status_code == 200 and response.json()["success"] is True
    assert (await login(web, "john@example.com", "attacker's choice 123")).status_code == 401
    assert (await login(web, "john@example.com")).status_code == 200
    mail = await web.get(
        "/api/v1/dev/outbox", params={"to": "john@example.com"}, headers={"X-Market": "us"}
    )
    assert mail.json()["items"][0]["kind"] == "password_reset"
    unknown = await web.post(
        "/api/auth/reset-password", json={"email": "nobody@example.com", "newPassword": "x" * 12}
    )
    assert unknown.status_code == 200 and unknown.json() == response.json()


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "JOBPSYCH_RESET_FIELDS_MISSING"),
        ({"token": "t" * 30}, 400, "JOBPSYCH_RESET_FIELDS_MISSING"),
        ({"token": "t" * 30, "newPassword": "fine new passphrase"}, 400, "PASSWORD_RESET_INVALID"),
        (
            {"token": "t" * 30, "newPassword": "fine new passphrase", "confirmPassword": "other"},
            400,
            "JOBPSYCH_PASSWORDS_MISMATCH",
        ),
    ],
)
async def test_bad_resets_are_400s(
    web: httpx.AsyncClient, body: dict[str, Any], status: int, error: str
) -> None:
    await register(web)
    assert_seed_error(await web.post("/api/auth/reset-password", json=body), status, error)
    assert (await login(web, "john@example.com")).status_code == 200


async def test_change_password_needs_matching_confirmation_and_the_current_one(
    web: httpx.AsyncClient,
) -> None:
    token = (await register(web))["accessToken"]
    for body, error in (
        ({"currentPassword": PASSWORD, "newPassword": "new passphrase 1"}, "VALIDATION_ERROR"),
        (
            {
                "currentPassword": PASSWORD,
                "newPassword": "new passphrase 1",
                "confirmPassword": "new passphrase 2",
            },
            "JOBPSYCH_PASSWORDS_MISMATCH",
        ),
        (
            {
                "currentPassword": "wrong",
                "newPassword": "new passphrase 1",
                "confirmPassword": "new passphrase 1",
            },
            "PASSWORD_CURRENT_INVALID",
        ),
    ):
        response = await web.post("/api/auth/change-password", json=body, headers=auth(token))
        assert_seed_error(response, 400, error)
    assert (await login(web, "john@example.com")).status_code == 200
    no_token = await web.post("/api/auth/change-password", json={})
    assert_seed_error(no_token, 401, "UNAUTHORIZED")


async def test_strangers_cannot_read_or_spend_someones_uploads(
    jobpsych_app: FastAPI, web: httpx.AsyncClient, analysis: httpx.AsyncClient
) -> None:
    """The seed answered anyone: who has an account, and a way to use up their quota."""
    john = (await register(web))["accessToken"]
    for email in ("john@example.com", "nobody@example.com"):
        read = await web.get(f"/api/auth/user-uploads/{email}")
        assert_seed_error(read, 401, "JOBPSYCH_NOT_A_SERVICE")
        spent = await web.post("/api/auth/increment-upload", json={"email": email})
        assert_seed_error(spent, 401, "JOBPSYCH_NOT_A_SERVICE")
    async with jobpsych_client(jobpsych_app) as other_browser:
        ann = (await register(other_browser, "ann@example.com"))["accessToken"]
        for_john = await other_browser.post(
            "/api/auth/increment-upload", json={"email": "john@example.com"}, headers=auth(ann)
        )
        assert_seed_error(for_john, 404, "USER_NOT_FOUND")
        own = await other_browser.get("/api/auth/user-uploads/ann@example.com", headers=auth(ann))
        assert own.status_code == 200 and own.json()["filesUploaded"] == 0
    unknown = await analysis.get("/api/auth/user-uploads/nobody@example.com")
    assert assert_seed_error(unknown, 404, "USER_NOT_FOUND")["filesUploaded"] == 0
    counted = await analysis.get("/api/auth/user-uploads/john@example.com")
    assert counted.json()["filesUploaded"] == 0
    mine = await web.get("/api/auth/user-uploads/john@example.com", headers=auth(john))
    assert mine.status_code == 200


async def test_parallel_increments_stop_exactly_at_the_limit(
    web: httpx.AsyncClient, analysis: httpx.AsyncClient
) -> None:
    """The seed's increment had no limit at all; the check before it raced."""
    await register(web)
    answers = await asyncio.gather(
        *(
            analysis.post("/api/auth/increment-upload", json={"email": "john@example.com"})
            for _ in range(14)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 4
    over = next(a for a in answers if a.status_code == 429)
    body = assert_seed_error(over, 429, "UPLOAD_LIMIT_REACHED")
    assert body["filesUploaded"] == 10 and body["remaining"] == 0 and "Retry-After" in over.headers
    counted = await analysis.get("/api/auth/user-uploads/john@example.com")
    assert counted.json()["filesUploaded"] == 10


async def test_hs256_tokens_work_without_an_audience_but_only_as_jobpsych_tokens(
    web: httpx.AsyncClient,
) -> None:
    token = (await register(web))["accessToken"]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])  # no audience, like the seed
    assert "aud" not in claims and claims["userId"] == claims["sub"]
    assert (await web.get("/api/v1/profile", headers=auth(token))).status_code == 200
    header = jwt.get_unverified_header(token)
    for forged in (
        {**claims, "userId": "999"},
        {k: v for k, v in claims.items() if k != "userId"},
        {**claims, "exp": int(time.time()) - 60},
    ):
        bad = jwt.encode(forged, SECRET, algorithm="HS256", headers={"kid": header["kid"]})
        assert (await web.get("/api/v1/profile", headers=auth(bad))).status_code == 401
        verified = await web.post("/api/auth/verify-token", json={"token": bad})
        assert_seed_error(verified, 401, "TOKEN_VERIFICATION_FAILED")


async def test_eddsa_jobpsych_tokens_keep_their_audience(make_settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(compat="jobpsych", jobpsych={"market": "us"}))
    try:
        async with jobpsych_client(app) as web:
            token = (await register(web))["accessToken"]
            claims = jwt.decode(token, options={"verify_signature": False})
            assert claims["aud"] == "keyturn" and claims["email"] == "john@example.com"
            assert claims["userId"] == claims["sub"]
            assert (await web.get("/api/v1/profile", headers=auth(token))).status_code == 200
    finally:
        await app.state.databases.dispose()


async def test_jwt_info_shows_fingerprints_never_the_secret(web: httpx.AsyncClient) -> None:
    for path in ("/jwt-info", "/api/auth/jwt-info"):
        response = await web.get(path)
        assert response.status_code == 200
        for i in range(len(SECRET) - 3):
            assert SECRET[i : i + 4] not in response.text.replace(
                response.json()["jwtInfo"]["fingerprints"][0], ""
            )
        assert str(len(SECRET)) not in response.json()["jwtInfo"].values()


async def test_verify_token_without_a_token_is_a_400(web: httpx.AsyncClient) -> None:
    assert_seed_error(await web.post("/verify-token", json={}), 400, "VALIDATION_ERROR")


async def test_with_compat_off_the_seed_paths_do_not_exist(make_settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(compat=""))
    try:
        async with jobpsych_client(app) as web:
            assert (await web.post("/api/auth/login", json={})).status_code == 404
            assert (await web.get("/jwt-info")).status_code == 404
            paths = (await web.get("/openapi.json")).json()["paths"]
            seed = ("/api/auth", "/api/files", "/jwt-info", "/verify-token")
            assert not [p for p in paths if p.startswith(seed)]
    finally:
        await app.state.databases.dispose()


async def test_with_compat_on_the_seed_paths_are_documented(web: httpx.AsyncClient) -> None:
    paths = (await web.get("/openapi.json")).json()["paths"]
    assert {"/api/auth/register", "/api/auth/increment-upload", "/api/files/upload"} <= set(paths)


async def test_a_file_larger_than_the_body_cap_uploads_through_the_seed_path(
    web: httpx.AsyncClient,
) -> None:
    """Uploads stream like /api/v1/files; other bodies stay capped."""
    token = (await register(web))["accessToken"]
    big = PDF_BYTES + b"%" + b"x" * 200_000 + b"\n%%EOF\n"
    uploaded = await web.post(
        "/api/files/upload", files={"file": ("cv.pdf", big, "application/pdf")}, headers=auth(token)
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["data"]["size"] == len(big)
    huge_json = await web.post(
        "/api/auth/login", json={"email": "john@example.com", "password": "x" * 200_000}
    )
    assert huge_json.status_code == 413


async def test_an_account_with_a_second_factor_gets_no_tokens_from_the_seed_login(
    jobpsych_app: FastAPI, web: httpx.AsyncClient
) -> None:
    """The seed's clients know no second step: the password alone must not sign in."""
    async with http_client(jobpsych_app) as api:
        signed = await register_v1(api, "mfa@example.com", PASSWORD)
        phone_app, _ = await enrol_totp(api, signed["access_token"])

        answer = await login(web, "mfa@example.com")
        body = assert_seed_error(answer, 401, "JOBPSYCH_SECOND_FACTOR_REQUIRED")
        assert "accessToken" not in body and "refreshToken" not in answer.headers.get(
            "set-cookie", ""
        )
        finished = await api.post(
            "/api/v1/auth/mfa/verify",
            json={"mfa_token": body["mfa_token"], "code": phone_app.code(1)},
            headers={"X-Market": "us"},
        )
        assert finished.status_code == 200, finished.text
        assert finished.json()["user"]["email"] == "mfa@example.com"
