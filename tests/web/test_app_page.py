"""The /app shop with phone sign-in in headless Chromium against the real `keyturn serve`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import APIResponse, Browser, Page, Route, expect

from tests.factories import new_phone
from tests.harness.server import LiveServer
from tests.web.browser import latest_code, new_page, shoot, start_server

pytestmark = pytest.mark.slow

DEVICE = "Playwright laptop"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("web-app"))
    yield live
    live.stop()


def sign_in(page: Page, server: LiveServer, phone: str) -> dict[str, Any]:
    """Phone sign-in through the page, code filled by its dev-outbox button."""
    page.click("#nav a[data-section=signin]")
    page.click("#tab-phone")
    page.fill("#phone", phone)
    page.fill("#device-name", DEVICE)
    page.click("#send-code")
    expect(page.locator("#code-form")).to_be_visible()
    expect(page.locator("#code-form .hint")).to_contain_text("in the console and in the dev outbox")
    page.click("#fill-code")
    expect(page.locator("#code")).to_have_value(latest_code(server, phone))
    with page.expect_response(re.compile(r"/api/v1/auth/verify-code$")) as answer:
        page.click("#verify")
    tokens: dict[str, Any] = answer.value.json()
    expect(page.locator("#who")).to_have_text(phone)
    expect(page.locator("#main")).to_have_attribute("data-section", "shop")
    return tokens


def sign_in_elsewhere(server: LiveServer, phone: str, device: str) -> None:
    """The same person signs in on another device, straight through the API."""
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).is_success
        body = {
            "phone": phone,
            "verification_code": latest_code(server, phone),
            "device_name": device,
        }
        assert http.post("/api/v1/auth/verify-code", json=body).is_success


def first_buyable(products: list[dict[str, Any]], n: int) -> list[tuple[int, str, int]]:
    """(product id, price and id of the SKU the page preselects: the first in stock)."""
    picked = []
    for product in products:
        sku = next((s for s in product["skus"] if s["in_stock"]), None)
        if sku:
            picked.append((product["id"], sku["price"], sku["id"]))
    return picked[:n]


def test_a_shopper_signs_in_fills_a_cart_keeps_it_across_logins_and_checks_out(
    server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    products = httpx.get(
        f"{server.url}/api/v1/products", params={"limit": 12}, headers={"X-Market": "us"}
    ).json()["items"]
    (first, first_price, first_sku), (second, second_price, _), (third, _, _) = first_buyable(
        products, 3
    )
    subtotal = f"{Decimal(first_price) + Decimal(second_price)} USD"

    page.goto(f"{server.url}/app")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    expect(page.locator("li.product")).to_have_count(12)

    phone = new_phone()
    tokens = sign_in(page, server, phone)
    assert tokens["refresh_token"] is None  # it went into the HttpOnly cookie

    for product_id in (first, second):
        page.click(f'li.product[data-product-id="{product_id}"] button.primary')
    lines = page.locator("#cart-lines > li")
    expect(lines).to_have_count(2)
    expect(page.locator("#cart-subtotal")).to_have_text(subtotal)
    page.click(f'li.product[data-product-id="{third}"] button.heart')
    expect(page.locator("#wishlist-items > li")).to_have_count(1)

    page.click("#logout")
    expect(page.locator("#main")).to_have_attribute("data-section", "signin")
    expect(page.locator("#cart")).to_be_hidden()

    sign_in_elsewhere(server, phone, "Tablet")
    tokens = sign_in(page, server, phone)
    expect(lines).to_have_count(2)
    expect(page.locator("#cart-subtotal")).to_have_text(subtotal)
    expect(page.locator("#wishlist-items > li")).to_have_count(1)

    page.click("#nav a[data-section=devices]")
    devices = page.locator("#device-list > li")
    expect(devices).to_have_count(2)
    page.click('#device-list button[aria-label="Sign Tablet out"]')
    expect(devices).to_have_count(1)
    current = page.locator("#device-list > li.current")
    expect(current).to_contain_text(DEVICE)
    expect(current).to_contain_text("This device")

    page.click("#nav a[data-section=shop]")
    # Two quick clicks add in either order: find the first product's line by its SKU.
    first_line = page.locator(f'#cart-lines > li[data-sku-id="{first_sku}"]')
    first_line.locator("input.qty").fill("2")
    first_line.locator("input.qty").dispatch_event("change")
    subtotal = f"{2 * Decimal(first_price) + Decimal(second_price)} USD"
    expect(page.locator("#cart-subtotal")).to_have_text(subtotal)
    page.click("#wishlist-items > li button:text('Move to cart')")
    expect(lines).to_have_count(3)
    expect(page.locator("#wishlist-items > li")).to_have_count(0)
    lines.nth(2).locator("button:text('Remove')").click()
    expect(lines).to_have_count(2)
    expect(page.locator("#cart-subtotal")).to_have_text(subtotal)

    # A reload keeps the person signed in through the refresh cookie, not through storage.
    with page.expect_response(re.compile(r"/api/v1/auth/refresh$")) as refreshed:
        page.reload()
    reloaded_token = refreshed.value.json()["access_token"]
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#who")).to_have_text(phone)
    expect(page.locator("#cart-subtotal")).to_have_text(subtotal)
    shoot(page, "app-shop")

    form = page.locator("#checkout-form")
    form.locator('[name="full_name"]').fill("Ada Shopper")
    form.locator('[name="line1"]').fill("1 Infinite Loop")
    form.locator('[name="city"]').fill("Chicago")
    form.locator('[name="postal_code"]').fill("60601")
    page.click("#place-order")
    expect(page.locator("#order-detail")).to_contain_text("1 Infinite Loop")
    page.click("#cancel-order")
    expect(page.locator("#order-detail .detail-head .badge")).to_have_text("cancelled")
    page.click("#nav a[data-section=orders]")
    orders = page.locator("#order-list > li")
    expect(orders).to_have_count(1)
    expect(orders.first.locator(".order-number")).to_have_text(re.compile(r"^US-\d+$"))
    expect(orders.first.locator(".amount")).to_have_text(subtotal)
    expect(orders.first.locator(".badge")).to_have_text("cancelled")
    page.click("#nav a[data-section=shop]")
    expect(page.locator("#cart-lines > li")).to_have_count(0)

    stored = page.evaluate(
        "() => [localStorage, sessionStorage].flatMap(s => Object.values(s)).join('\\n')"
        " + '\\n' + document.cookie"
    )
    assert tokens["access_token"] not in stored
    assert reloaded_token not in stored
    assert "eyJ" not in stored  # no JWT of any kind
    assert problems == []


def test_a_slow_first_cart_load_does_not_hide_what_add_to_cart_just_did(
    server: LiveServer, browser: Browser
) -> None:
    """The shop's GET /cart of its first load answers after "Add to cart" did: the page keeps
    the newer cart (one line), not the stale empty one."""
    problems: list[str] = []
    page = new_page(browser, problems)
    page.goto(server.url + "/app")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    sign_in(page, server, new_phone())
    page.click("#nav a[data-section=account]")
    held: list[tuple[Route, APIResponse]] = []  # the answer fetched now, delivered later
    page.route(re.compile(r"/api/v1/cart$"), lambda route: held.append((route, route.fetch())))
    with page.expect_request(re.compile(r"/api/v1/cart$")):  # the shop's GET, held back
        page.click("#nav a[data-section=shop]")
    products = httpx.get(
        f"{server.url}/api/v1/products", params={"limit": 12}, headers={"X-Market": "us"}
    ).json()["items"]
    [(product, _, _)] = first_buyable(products, 1)
    with page.expect_response(re.compile(r"/api/v1/cart/items$")):
        page.click(f'li.product[data-product-id="{product}"] button.primary')
    expect(page.locator("#cart-lines > li")).to_have_count(1)
    route, empty_cart = held[0]
    route.fulfill(response=empty_cart)  # the cart as it was before the add arrives now
    expect(page.locator("#main h1")).to_be_focused()  # the shop finished loading, GET included
    expect(page.locator("#cart-lines > li")).to_have_count(1)
    assert problems == []
