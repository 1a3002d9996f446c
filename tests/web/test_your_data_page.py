"""Your data in /app (docs/privacy.md): a customer downloads everything the shop keeps about
them as one JSON file, then deletes the account (after ticking that they understand, and
confirming it is them): every device is signed out and the same phone signs up as someone
new."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.factories import new_phone
from tests.harness.server import LiveServer
from tests.web.browser import axe_violations, latest_code, new_page, shoot, start_server
from tests.web.customer import age_sign_ins, page_url, phone_sign_in

pytestmark = pytest.mark.slow

DELETED = (
    "Ваша учётная запись удалена. Заказы сохранены для бухгалтерии — без вашего имени и контактов."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("web-your-data"))
    yield live
    live.stop()


def sign_in_by_api(server: LiveServer, phone: str) -> str:
    """The same person on another device: an access token."""
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).is_success
        body = {"phone": phone, "verification_code": latest_code(server, phone)}
        answer = http.post("/api/v1/auth/verify-code", json=body)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


def buyable(server: LiveServer) -> int:
    """A product on the first page of the catalog with a SKU in stock."""
    products = httpx.get(
        f"{server.url}/api/v1/products", params={"limit": 5}, headers={"X-Market": "us"}
    ).json()["items"]
    return int(next(p["id"] for p in products if any(s["in_stock"] for s in p["skus"])))


def profile(server: LiveServer, bearer: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/profile",
        headers={"X-Market": "us", "Authorization": f"Bearer {bearer}"},
        timeout=10,
    )


def test_a_customer_downloads_their_data_then_deletes_the_account(
    server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    phone = new_phone()
    phone_sign_in(page, server, phone)
    page.click(f'li.product[data-product-id="{buyable(server)}"] button.primary')
    expect(page.locator("#cart-lines > li")).to_have_count(1)
    other_device = sign_in_by_api(server, phone)
    user_id = profile(server, other_device).json()["id"]

    # Download: one JSON document, the person's own, no secrets.
    page.click("#nav a[data-section=privacy]")
    with page.expect_download() as downloading:
        page.click("#export-data")
    saved = downloading.value
    name = f"keyturn-us-{datetime.now(UTC).date().isoformat()}.json"
    assert saved.suggested_filename == name
    expect(page.locator("#notice-text")).to_have_text(f"Your data was saved as {name}.")
    text = saved.path().read_text()
    document = json.loads(text)
    assert document["format"] == "keyturn.export/1"
    assert document["profile"]["phone_number"] == phone
    assert document["cart"]["item_count"] == 1
    assert len([s for s in document["sessions"] if s["auth_method"] == "phone"]) == 2
    assert not re.search(r"access_token|refresh_token|password_hash|\$argon2", text)
    shoot(page, "app-your-data")
    assert axe_violations(page) == []

    # An hour later, in Russian: delete, but only once ticked and confirmed.
    age_sign_ins(server)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#lang", "ru")
    page.click("#nav a[data-section=privacy]")
    page.click("#delete-account")
    expect(page.locator("#delete-refusal")).to_have_text(
        "Сначала отметьте флажок: удалённую учётную запись нельзя восстановить."
    )
    expect(page.locator("#delete-sure")).to_be_focused()
    expect(page.locator("dialog#stepup")).to_have_count(0)
    assert profile(server, other_device).json()["id"] == user_id  # nothing changed

    page.check("#delete-sure")
    page.click("#delete-account")
    expect(page.locator("#stepup-title")).to_have_text("Подтвердите, что это вы")
    assert profile(server, other_device).json()["id"] == user_id  # not before confirming
    page.click("#stepup-send-code")
    expect(page.locator("#stepup-code")).to_be_visible()
    page.fill("#stepup-code", latest_code(server, phone))
    page.click("#stepup-code-go")

    expect(page.locator("#notice-text")).to_have_text(DELETED)
    expect(page.locator("#main")).to_have_attribute("data-section", "signin")
    expect(page.locator("#account")).to_be_hidden()
    assert profile(server, other_device).status_code == 401  # every device is signed out
    again = sign_in_by_api(server, phone)
    assert profile(server, again).json()["id"] != user_id  # someone new
    assert problems == []
