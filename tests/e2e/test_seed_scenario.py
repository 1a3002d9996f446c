"""Seed 001's scenario against the real `keyturn serve` process (black-box, over HTTP)."""

import httpx
import pytest

from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield live
    live.stop()


def sign_in(http: httpx.Client, phone: str, device: str) -> dict:
    assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).status_code == 200
    code = http.get("/api/v1/dev/outbox", params={"to": phone}).json()["items"][0]["code"]
    r = http.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": device},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_login_logout_login_is_the_same_user_on_the_real_server(server) -> None:
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        assert http.get("/health").json() == {"status": "ok"}
        assert http.get("/ready").status_code == 200
        first = sign_in(http, "+13128059851", "phone A")
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        assert http.get("/api/v1/profile", headers=bearer).status_code == 200

        assert http.post("/api/v1/auth/logout", headers=bearer).status_code == 200
        assert http.get("/api/v1/profile", headers=bearer).status_code == 401

        second = sign_in(http, "+13128059851", "phone B")
        assert second["user"]["id"] == first["user"]["id"]
        assert second["is_new_user"] is False
        # Device A's old token stays dead after the user signs in elsewhere.
        assert http.get("/api/v1/profile", headers=bearer).status_code == 401
        spec = http.get("/openapi.json").json()
        assert "/api/v1/auth/verify-code" in spec["paths"]
    logs = server.logs()
    assert first["access_token"] not in logs and first["refresh_token"] not in logs
