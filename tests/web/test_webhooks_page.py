"""The staff console's webhooks page, in headless Chromium against the real `keyturn serve`
(its own delivery loop) and a receiver that verifies signatures with `standardwebhooks`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.harness.receiver import Receiver
from tests.harness.server import LiveServer
from tests.web.browser import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    axe_violations,
    create_admin,
    new_page,
    shoot,
    start_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(
        tmp_path_factory.mktemp("webhooks-page"),
        KEYTURN_WEBHOOKS__ALLOW_NETWORKS=json.dumps(["127.0.0.1/32"]),
        KEYTURN_WORKER__POLL_INTERVAL="PT0.2S",
    )
    create_admin(live)
    yield live
    live.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def register_someone(server: LiveServer, n: int) -> None:
    body = {"email": f"hooked-{n}@example.com", "password": "quiet orchard 58 lantern"}
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}) as http:
        assert http.post("/api/v1/auth/register", json=body).status_code == 201


def wait_for(receiver: Receiver, count: int, seconds: float = 60) -> None:
    """Until the receiver holds `count` requests (bounded: the loop polls every 0.2 s)."""
    deadline = time.monotonic() + seconds
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.received) >= count, receiver.received


def refresh_until_delivered(page: Page, seconds: float = 30) -> None:
    """The outcome is recorded just after the receiver answers: refresh until it shows."""
    deadline = time.monotonic() + seconds
    while True:
        page.click("#refresh-deliveries")
        rows = page.locator("#delivery-rows tbody tr[data-status=delivered]")
        if rows.count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)


def accessible(page: Page, where: str) -> None:
    assert axe_violations(page) == [], where


def test_staff_add_an_endpoint_see_its_deliveries_rotate_its_secret_and_turn_it_off(
    server: LiveServer, browser: Browser, receiver: Receiver
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    page.goto(f"{server.url}/admin")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#email-sign-in")
    expect(page.locator("#who")).to_have_text(ADMIN_EMAIL)

    page.click("#nav a[data-section=webhooks]")
    expect(page.locator("#no-webhooks")).to_be_visible()
    page.fill("#webhook-url", receiver.url)
    page.fill("#webhook-description", "CRM sync")
    page.uncheck("input[name=every]")
    page.check("input[name=type][value='user.created']")
    page.click("#add-webhook")
    secret = page.locator("#webhook-secret-value")
    expect(secret).to_be_visible()
    first_secret = secret.inner_text()
    assert first_secret.startswith("whsec_")
    expect(page.locator("#webhook-rows tbody tr")).to_have_count(1)
    expect(page.locator("#webhook-rows")).to_contain_text("user.created")
    accessible(page, "webhooks list")

    # An account is created: the endpoint hears it, signed with the secret the page showed.
    receiver.secrets.append(first_secret)
    register_someone(server, 1)
    wait_for(receiver, 1)
    assert [r.type for r in receiver.received] == ["user.created"]
    assert receiver.received[0].verified

    page.click(f"#webhook-rows a:text('{receiver.url}')")
    expect(page.locator("#webhook-title")).to_have_text("CRM sync")
    refresh_until_delivered(page)
    row = page.locator("#delivery-rows tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_have_attribute("data-status", "delivered")
    expect(row.first).to_contain_text("user.created")
    expect(row.first).to_contain_text("204")
    accessible(page, "webhook detail")
    shoot(page, "admin-webhooks")

    # Sent again on request, with the same webhook-id: receivers deduplicate by it.
    row.first.locator("button").click()
    expect(page.locator("#notice")).to_contain_text("sent again")
    wait_for(receiver, 2)
    assert receiver.received[1].msg_id == receiver.received[0].msg_id

    # A new secret, shown once; from now on it verifies (the old one overlaps for a day).
    page.click("#rotate-secret")
    expect(page.locator("#webhook-secret-value")).to_be_visible()
    second_secret = page.locator("#webhook-secret-value").inner_text()
    assert second_secret.startswith("whsec_") and second_secret != first_secret
    receiver.secrets[:] = [second_secret]
    register_someone(server, 2)
    wait_for(receiver, 3)
    assert receiver.received[2].verified and receiver.received[2].type == "user.created"

    page.click("#toggle-webhook")
    expect(page.locator("#webhook-detail")).to_contain_text("off")
    expect(page.locator("#toggle-webhook")).to_have_text("Turn on")
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}) as http:
        token = http.post(
            "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        hooks = http.get(
            "/api/v1/admin/webhooks", headers={"Authorization": f"Bearer {token}"}
        ).json()["items"]
    assert [h["enabled"] for h in hooks] == [False]
    assert problems == []
