"""Seed 004's JobPsych front end and its analysis service, unchanged, against the real
`keyturn serve` process: the calls exactly as they send them (paths, camelCase bodies, the
`refreshToken` cookie, tokens verified with the shared HS256 secret and no audience)."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest

from tests.factories import PDF_BYTES
from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow

SECRET = "343164a0c3169c9defa93088fddfc759dbda6f11cd0322c67a7c086665cbe75a"
FRONTEND = "http://localhost:3000"
EMAIL = "john@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(
        tmp_path_factory.mktemp("jobpsych"),
        env={
            "KEYTURN_COMPAT": "jobpsych",
            "KEYTURN_TOKENS__ALGORITHM": "HS256",
            "KEYTURN_TOKENS__HS256_SECRET": SECRET,
            "KEYTURN_CORS_ORIGINS": json.dumps([FRONTEND]),
            "KEYTURN_JOBPSYCH__SERVICE_IPS": json.dumps(["127.0.0.1"]),
            "KEYTURN_JOBPSYCH__MARKET": "us",
        },
    ).start()
    yield live
    live.stop()


def analysis_service_reads(token: str) -> dict:
    """What jobpsych_ai does with a bearer token: the shared secret, HS256, no audience."""
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["email"] and (payload.get("id") or payload.get("userId"))
    return payload


def browser(server: LiveServer) -> httpx.Client:
    """The front end: JSON bodies, its Origin, cookies kept (credentials: "include")."""
    return httpx.Client(base_url=server.url, headers={"Origin": FRONTEND}, timeout=20)


def service(server: LiveServer) -> httpx.Client:
    """The analysis service: `AUTH_SERVICE_URL=<keyturn>/api`, no token on quota calls."""
    return httpx.Client(
        base_url=f"{server.url}/api", headers={"Content-Type": "application/json"}, timeout=20
    )


def test_the_jobpsych_client_flows_unchanged(server: LiveServer) -> None:
    with browser(server) as web, service(server) as analysis:
        registered = web.post(
            "/api/auth/register",
            json={
                "name": "John Doe",
                "email": EMAIL,
                "password": "securePassword123!",
                "company_name": "Acme Corp",
            },
        )
        assert registered.status_code == 201, registered.text
        body = registered.json()
        assert body["success"] is True
        assert body["user"] == {
            "id": body["user"]["id"],
            "name": "John Doe",
            "email": EMAIL,
            "company_name": "Acme Corp",
            "filesUploaded": 0,
        }
        assert isinstance(body["user"]["id"], str)
        assert body["data"]["accessToken"] == body["accessToken"]
        cookie = registered.headers["set-cookie"]
        assert cookie.startswith("refreshToken=")
        assert "HttpOnly" in cookie and "Path=/api/auth" in cookie
        assert "samesite=strict" in cookie.lower()
        first_session = body["accessToken"]
        claims = analysis_service_reads(first_session)
        assert claims["userId"] == body["user"]["id"] and claims["email"] == EMAIL

        logged_in = web.post(
            "/api/auth/login", json={"email": EMAIL, "password": "securePassword123!"}
        )
        assert logged_in.status_code == 200, logged_in.text
        access = logged_in.json()["accessToken"]
        assert logged_in.json()["message"] == "Login successful"

        refreshed = web.post("/api/auth/refresh")  # the cookie goes by itself
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["accessToken"] != access
        assert refreshed.headers["set-cookie"].startswith("refreshToken=")
        access = refreshed.json()["accessToken"]
        bearer = {"Authorization": f"Bearer {access}"}

        profile = web.get("/api/auth/profile", headers=bearer)
        assert profile.status_code == 200, profile.text
        assert profile.json()["data"]["email"] == EMAIL
        assert profile.json()["data"]["filesUploaded"] == 0

        # The analysis service: verify locally, check the count, do the work, increment.
        assert analysis_service_reads(access)["email"] == EMAIL
        counted = analysis.get(f"/auth/user-uploads/{EMAIL}")
        assert counted.status_code == 200, counted.text
        assert counted.json()["filesUploaded"] == 0 and counted.json()["limit"] == 10
        uploaded = web.post(
            "/api/files/upload",
            files={"file": ("resume.pdf", PDF_BYTES, "application/pdf")},
            headers=bearer,
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["data"]["filesUploaded"] == 1
        for expected in range(2, 11):
            incremented = analysis.post("/auth/increment-upload", json={"email": EMAIL})
            assert incremented.status_code == 200, incremented.text
            assert incremented.json()["filesUploaded"] == expected
            assert incremented.json()["remaining"] == 10 - expected
        over = analysis.post("/auth/increment-upload", json={"email": EMAIL})
        assert over.status_code == 429
        assert over.json()["error"] == "UPLOAD_LIMIT_REACHED"
        assert over.json()["filesUploaded"] == 10
        refused = web.post(
            "/api/files/upload",
            files={"file": ("cv.pdf", PDF_BYTES, "application/pdf")},
            headers=bearer,
        )
        assert refused.status_code == 429
        stats = web.get("/api/auth/upload-stats", headers=bearer).json()["stats"]
        assert stats["totalUploads"] == 10 and stats["canUpload"] is False
        assert analysis.get(f"/auth/user-uploads/{EMAIL}").json()["remaining"] == 0

        verified = analysis.post("/auth/verify-token", json={"token": access})
        assert verified.status_code == 200 and verified.json()["decoded"]["email"] == EMAIL
        info = analysis.get("/auth/jwt-info")
        assert info.status_code == 200
        assert SECRET[:10] not in info.text and SECRET[-10:] not in info.text
        assert "secretLength" not in info.text

        # Logout ends this device only; the registration's session lives on.
        out = web.post("/api/auth/logout", headers=bearer)
        assert out.status_code == 200 and out.json()["success"] is True
        assert "refreshToken=" in out.headers["set-cookie"]
        assert web.get("/api/auth/profile", headers=bearer).status_code == 401
        assert web.post("/api/auth/refresh").status_code == 401
        assert analysis.post("/auth/verify-token", json={"token": access}).status_code == 401
        other = {"Authorization": f"Bearer {first_session}"}
        assert web.get("/api/auth/profile", headers=other).status_code == 200

        # Forgot / reset with the emailed token: every session ends.
        forgot = web.post("/api/auth/forgot-password", json={"email": EMAIL})
        assert forgot.status_code == 200 and forgot.json()["success"] is True
        mail = web.get("/api/v1/dev/outbox", params={"to": EMAIL}, headers={"X-Market": "us"})
        token = mail.json()["items"][0]["token"]
        reset = web.post(
            "/api/auth/reset-password",
            json={"token": token, "newPassword": "brand new passphrase 1"},
        )
        assert reset.status_code == 200, reset.text
        assert web.get("/api/auth/profile", headers=other).status_code == 401
        assert (
            web.post("/api/auth/login", json={"email": EMAIL, "password": "securePassword123!"})
        ).status_code == 401
        again = web.post(
            "/api/auth/login", json={"email": EMAIL, "password": "brand new passphrase 1"}
        )
        assert again.status_code == 200

        changed = web.post(
            "/api/auth/change-password",
            json={
                "currentPassword": "brand new passphrase 1",
                "newPassword": "another passphrase 2",
                "confirmPassword": "another passphrase 2",
            },
            headers={"Authorization": f"Bearer {again.json()['accessToken']}"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["message"] == "Password changed successfully"
        final = web.post(
            "/api/auth/login", json={"email": EMAIL, "password": "another passphrase 2"}
        )
        assert final.status_code == 200
        assert final.json()["user"]["filesUploaded"] == 10
    logs = server.logs()  # the console mailer prints reset links in development, by design
    assert access not in logs
    assert SECRET not in logs
