"""Administrators manage webhook endpoints; the secret is shown once; bad input changes
nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from keyturn.webhooks.models import WebhookEndpoint
from keyturn.webhooks.targets import UrlNotAllowed, check_url
from tests.factories import auth, sign_in
from tests.problems import assert_problem

URL = "https://hooks.example.com/keyturn"


async def endpoints_in_db(app) -> int:
    async with app.state.databases.session("us") as db:
        return int(await db.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0)


async def test_create_shows_the_secret_once_and_never_again(client, admin) -> None:
    created = await client.post(
        "/api/v1/admin/webhooks",
        json={"url": URL, "event_types": ["order.*", "user.deleted"], "description": "Fulfil"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["event_types"] == ["order.*", "user.deleted"] and body["enabled"] is True
    listed = (await client.get("/api/v1/admin/webhooks", headers=admin)).json()["items"]
    one = (await client.get(f"/api/v1/admin/webhooks/{body['id']}", headers=admin)).json()
    for shown in (listed[0], one):
        assert "secret" not in shown and body["secret"] not in str(shown)
        assert shown["url"] == URL


async def test_the_secret_is_stored_sealed(app, client, admin) -> None:
    body = (
        await client.post(
            "/api/v1/admin/webhooks", json={"url": URL, "event_types": ["*"]}, headers=admin
        )
    ).json()
    async with app.state.databases.session("us") as db:
        stored = await db.scalar(select(WebhookEndpoint.secret))
    assert stored and body["secret"] not in stored and body["secret"][6:] not in stored


async def test_update_and_delete(app, client, admin) -> None:
    body = (
        await client.post(
            "/api/v1/admin/webhooks", json={"url": URL, "event_types": ["*"]}, headers=admin
        )
    ).json()
    path = f"/api/v1/admin/webhooks/{body['id']}"
    patched = await client.patch(
        path, json={"enabled": False, "event_types": ["session.*"]}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["enabled"] is False and patched.json()["event_types"] == ["session.*"]
    assert patched.json()["url"] == URL
    assert (await client.delete(path, headers=admin)).status_code == 204
    assert_problem(await client.get(path, headers=admin), 404, "webhook.not_found")
    assert_problem(await client.delete(path, headers=admin), 404, "webhook.not_found")
    assert await endpoints_in_db(app) == 0


async def test_only_admins_manage_webhooks(client) -> None:
    customer = await sign_in(client)
    for method, path in [
        ("GET", "/api/v1/admin/webhooks"),
        ("POST", "/api/v1/admin/webhooks"),
        ("GET", "/api/v1/admin/event-types"),
        ("GET", "/api/v1/admin/events"),
    ]:
        answer = await client.request(
            method,
            path,
            json={"url": URL, "event_types": ["*"]},
            headers=auth(customer["access_token"]),
        )
        assert_problem(answer, 403, "auth.forbidden")
    assert_problem(await client.get("/api/v1/admin/webhooks"), 401, "auth.unauthorized")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "https://user:password@hooks.example.com/x",
        "http://10.0.0.7/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9000/",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/",
        "http://localhost:8080/hooks",
        "https://hooks.example.com/x#frag",
    ],
)
async def test_urls_webhooks_may_not_go_to_are_refused(app, client, admin, url) -> None:
    answer = await client.post(
        "/api/v1/admin/webhooks", json={"url": url, "event_types": ["*"]}, headers=admin
    )
    assert_problem(answer, 422, "webhook.url_not_allowed")
    assert await endpoints_in_db(app) == 0


@pytest.fixture
def hook_settings(make_settings):
    return make_settings()  # nothing private allowed


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": URL, "event_types": []}, "request.invalid"),
        ({"url": URL, "event_types": ["order.shipped"]}, "request.invalid"),
        ({"url": URL, "event_types": ["nothing.*"]}, "request.invalid"),
        ({"url": URL}, "request.invalid"),
        ({"url": "not a url", "event_types": ["*"]}, "webhook.url_not_allowed"),
        ({"url": URL, "event_types": ["*"], "description": "x" * 201}, "request.invalid"),
    ],
)
async def test_bad_bodies_are_422_and_create_nothing(app, client, admin, body, code) -> None:
    answer = await client.post("/api/v1/admin/webhooks", json=body, headers=admin)
    assert_problem(answer, 422, code)
    assert await endpoints_in_db(app) == 0


async def test_event_types_are_listed_for_subscribers(client, admin) -> None:
    types = (await client.get("/api/v1/admin/event-types", headers=admin)).json()
    assert {"user.created", "session.revoked", "usage.limit_reached"} <= {t["type"] for t in types}
    assert all(t["description"] for t in types)


def test_production_takes_https_only() -> None:
    assert check_url(URL, production=True, allow_networks=[]) == URL
    with pytest.raises(UrlNotAllowed, match="https://"):
        check_url("http://hooks.example.com/x", production=True, allow_networks=[])


async def test_replaying_an_unknown_delivery_is_404(client, admin) -> None:
    body = (
        await client.post(
            "/api/v1/admin/webhooks", json={"url": URL, "event_types": ["*"]}, headers=admin
        )
    ).json()
    answer = await client.post(
        f"/api/v1/admin/webhooks/{body['id']}/deliveries/999/replay", headers=admin
    )
    assert_problem(answer, 404, "webhook.delivery_not_found")
    answer = await client.post("/api/v1/admin/webhooks/999/deliveries/1/replay", headers=admin)
    assert_problem(answer, 404, "webhook.not_found")
