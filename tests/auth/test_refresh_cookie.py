"""Browser refresh-token transport: HttpOnly cookie, same-origin refresh, logout clears it.
Mobile clients (no opt-in) keep the token in the JSON body."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from keyturn.app import create_app
from keyturn.config import Settings
from tests.factories import STRONG_PASSWORD, auth, latest_code, new_email, new_phone, register
from tests.problems import assert_problem

SECURE = "__Host-keyturn_refresh"
DEV = "keyturn_refresh"


@asynccontextmanager
async def browser(
    make_settings: Callable[..., Settings], base_url: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(make_settings(**overrides))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
    finally:
        await app.state.databases.dispose()


def attributes(response: httpx.Response, name: str) -> tuple[str, dict[str, str]]:
    """The cookie's value and its attributes (lower-cased names), from the raw header."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    first, *rest = (part.strip() for part in headers[0].split(";"))
    attrs = {}
    for part in rest:
        key, _, value = part.partition("=")
        attrs[key.lower()] = value
    return first.partition("=")[2], attrs


async def cookie_login(client: httpx.AsyncClient, email: str) -> httpx.Response:
    r = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": STRONG_PASSWORD, "refresh_transport": "cookie"},
        headers={"X-Market": "us"},
    )
    assert r.status_code == 200, r.text
    return r


async def cookie_refresh(
    client: httpx.AsyncClient, origin: str | None, cookie: str | None = None
) -> httpx.Response:
    headers = {"X-Market": "us"}
    if origin:
        headers["Origin"] = origin
    if cookie:
        headers["Cookie"] = cookie
    return await client.post("/api/v1/auth/refresh", headers=headers)


async def test_https_login_sets_a_host_only_httponly_strict_cookie_and_no_body_token(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(make_settings, "https://api.example.test") as client:
        email = new_email()
        await register(client, email)
        r = await cookie_login(client, email)
        assert r.json()["refresh_token"] is None and r.json()["access_token"]
        value, attrs = attributes(r, SECURE)
        assert len(value) >= 40
        assert "httponly" in attrs and "secure" in attrs
        assert attrs["samesite"].lower() == "strict"
        assert attrs["path"] == "/"
        assert "domain" not in attrs
        assert 0 < int(attrs["max-age"]) <= 14 * 24 * 3600
        assert r.headers["cache-control"] == "no-store"


async def test_cookie_refresh_from_our_own_origin_rotates_the_cookie(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(make_settings, "https://api.example.test") as client:
        email = new_email()
        await register(client, email)
        first, _ = attributes(await cookie_login(client, email), SECURE)
        r = await cookie_refresh(client, "https://api.example.test", f"{SECURE}={first}")
        assert r.status_code == 200, r.text
        assert r.json()["refresh_token"] is None
        second, attrs = attributes(r, SECURE)
        assert second != first and "httponly" in attrs
        profile = await client.get("/api/v1/profile", headers=auth(r.json()["access_token"]))
        assert profile.status_code == 200 and profile.json()["email"] == email


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://api.example.test", "null", None]
)
async def test_cross_site_or_originless_cookie_refresh_is_refused(
    make_settings: Callable[..., Settings], origin: str | None
) -> None:
    async with browser(make_settings, "https://api.example.test") as client:
        email = new_email()
        await register(client, email)
        token, _ = attributes(await cookie_login(client, email), SECURE)
        refused = await cookie_refresh(client, origin, f"{SECURE}={token}")
        assert_problem(refused, 403, "auth.cross_site")
        # The token was not spent: the real page can still refresh with it.
        ok = await cookie_refresh(client, "https://api.example.test", f"{SECURE}={token}")
        assert ok.status_code == 200, ok.text


async def test_an_allowed_cors_origin_may_refresh_with_the_cookie(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(
        make_settings, "https://api.example.test", cors_origins=["https://shop.example.test"]
    ) as client:
        email = new_email()
        await register(client, email)
        token, _ = attributes(await cookie_login(client, email), SECURE)
        r = await cookie_refresh(client, "https://shop.example.test", f"{SECURE}={token}")
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000"])
async def test_plain_http_localhost_in_development_gets_the_documented_dev_cookie(
    make_settings: Callable[..., Settings], host: str
) -> None:
    async with browser(make_settings, f"http://{host}") as client:
        email = new_email()
        await register(client, email)
        r = await cookie_login(client, email)
        value, attrs = attributes(r, DEV)
        assert "secure" not in attrs and "httponly" in attrs
        assert attrs["samesite"].lower() == "strict"
        assert attrs["path"] == "/api/v1/auth"
        assert not [h for h in r.headers.get_list("set-cookie") if h.startswith(SECURE)]
        refreshed = await cookie_refresh(client, f"http://{host}", f"{DEV}={value}")
        assert refreshed.status_code == 200, refreshed.text
        attributes(refreshed, DEV)


async def test_plain_http_elsewhere_never_downgrades_the_cookie(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(make_settings, "http://api.example.test") as client:
        email = new_email()
        await register(client, email)
        _, attrs = attributes(await cookie_login(client, email), SECURE)
        assert "secure" in attrs


async def test_insecure_cookies_when_the_operator_turns_them_off(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(make_settings, "http://lan-box:8000", cookie_secure=False) as client:
        email = new_email()
        await register(client, email)
        _, attrs = attributes(await cookie_login(client, email), DEV)
        assert "secure" not in attrs


async def test_https_behind_a_trusted_proxy_gets_the_secure_cookie(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(
        make_settings, "http://localhost:8000", trusted_proxies=["203.0.113.7"]
    ) as client:
        email = new_email()
        await register(client, email)
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": STRONG_PASSWORD, "refresh_transport": "cookie"},
            headers={"X-Market": "us", "X-Forwarded-Proto": "https"},
        )
        _, attrs = attributes(r, SECURE)
        assert "secure" in attrs


async def test_logout_clears_the_cookie_and_the_old_cookie_is_dead(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(make_settings, "https://api.example.test") as client:
        email = new_email()
        await register(client, email)
        login = await cookie_login(client, email)
        token, _ = attributes(login, SECURE)
        out = await client.post(
            "/api/v1/auth/logout",
            headers={**auth(login.json()["access_token"]), "Cookie": f"{SECURE}={token}"},
        )
        assert out.status_code == 200
        cleared, attrs = attributes(out, SECURE)
        assert cleared in ("", '""') and attrs["max-age"] == "0"
        assert "secure" in attrs and attrs["path"] == "/"
        dead = await cookie_refresh(client, "https://api.example.test", f"{SECURE}={token}")
        assert dead.status_code == 401
        assert attributes(dead, SECURE)[1]["max-age"] == "0"


async def test_register_and_phone_sign_in_can_opt_in_too(
    make_settings: Callable[..., Settings],
) -> None:
    async with browser(make_settings, "https://api.example.test") as client:
        r = await client.post(
            "/api/v1/auth/register",
            json={"email": new_email(), "password": STRONG_PASSWORD},
            headers={"X-Market": "us", "X-Refresh-Transport": "cookie"},
        )
        assert r.status_code == 201 and r.json()["refresh_token"] is None
        attributes(r, SECURE)

        phone = new_phone()
        await client.post(
            "/api/v1/auth/send-verification", json={"phone": phone}, headers={"X-Market": "us"}
        )
        code = await latest_code(client, phone)
        r = await client.post(
            "/api/v1/auth/verify-code",
            json={"phone": phone, "verification_code": code, "refresh_transport": "cookie"},
            headers={"X-Market": "us"},
        )
        assert r.status_code == 200 and r.json()["refresh_token"] is None
        attributes(r, SECURE)


async def test_mobile_clients_keep_the_token_in_the_body_and_get_no_cookie(
    client: httpx.AsyncClient,
) -> None:
    email = new_email()
    created = await register(client, email)
    assert created["refresh_token"]
    r = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": STRONG_PASSWORD},
        headers={"X-Market": "us"},
    )
    assert r.json()["refresh_token"] and not r.headers.get_list("set-cookie")
    refreshed = await client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": r.json()["refresh_token"]},
        headers={"X-Market": "us"},
    )
    assert refreshed.json()["refresh_token"] and not refreshed.headers.get_list("set-cookie")
    out = await client.post("/api/v1/auth/logout", headers=auth(refreshed.json()["access_token"]))
    assert out.status_code == 200 and not out.headers.get_list("set-cookie")


async def test_refresh_without_body_or_cookie_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/refresh", headers={"X-Market": "us"})
    assert_problem(r, 401, "auth.unauthorized")
