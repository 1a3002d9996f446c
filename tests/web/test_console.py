"""The customer page and the staff console together, in headless Chromium against the real
`keyturn serve`: one customer's day and the staff member who serves them (issue 18)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.harness.server import LiveServer
from tests.web.browser import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    axe_violations,
    create_admin,
    new_page,
    reset_link,
    shoot,
    start_server,
)

pytestmark = pytest.mark.slow

EMAIL, NAME = "ada.shopper@example.com", "Ada Shopper"
FIRST_PASSWORD, NEW_PASSWORD = "velvet harbor 93 lantern", "copper meadow 17 falcon"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(
        tmp_path_factory.mktemp("console"), KEYTURN_USAGE__LIMITS=json.dumps({"uploads": 3})
    )
    create_admin(live)
    yield live
    live.stop()


def ready(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def accessible(page: Page, where: str) -> None:
    assert axe_violations(page) == [], where


def nav(page: Page, section: str) -> None:
    page.click(f"#nav a[data-section={section}]")
    expect(page.locator("#main")).to_have_attribute("data-section", section)


def customer_registers_and_resets_the_password(page: Page, server: LiveServer) -> None:
    ready(page, f"{server.url}/app")
    nav(page, "signin")
    accessible(page, "sign-in form")
    shoot(page, "app-sign-in")
    page.click("#to-register")
    page.fill("#register-email", EMAIL)
    page.fill("#register-name", NAME)
    page.fill("#register-password", "password1")
    page.click("#register")
    feedback = page.locator("#register-password-feedback")
    expect(feedback).to_be_visible()
    expect(feedback).to_contain_text("easy to guess")  # the API's verdict, in words
    page.fill("#register-password", FIRST_PASSWORD)
    page.click("#register")
    expect(page.locator("#who")).to_have_text(NAME)

    page.click("#logout")
    expect(page.locator("#main")).to_have_attribute("data-section", "signin")
    page.click("#to-forgot")
    page.fill("#forgot-email", EMAIL)
    page.click("#send-reset")
    expect(page.locator("#notice")).to_contain_text("a link is on its way")
    page.goto(reset_link(server, EMAIL))  # the link from the email opens the reset form
    expect(page.locator("#reset-form")).to_be_visible()
    page.fill("#reset-password", NEW_PASSWORD)
    page.click("#reset")
    expect(page.locator("#notice")).to_contain_text("sign in with the new password")
    page.fill("#email", EMAIL)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#device-name", "Ada's laptop")
    page.click("#email-sign-in")
    expect(page.locator("#who")).to_have_text(NAME)


def customer_saves_an_address(page: Page) -> None:
    nav(page, "account")
    page.click("#add-address")
    form = page.locator("#address-form")
    form.locator("[name=label]").fill("Home")
    form.locator("[name=phone]").fill("+13125550142")
    form.locator("[name=line1]").fill("1 Infinite Loop")
    form.locator("[name=city]").fill("Chicago")
    form.locator("[name=postal_code]").fill("60601")
    form.locator("button[type=submit]").click()
    saved = page.locator("#address-list > li")
    expect(saved).to_have_count(1)
    expect(saved.first).to_contain_text("Default")
    accessible(page, "account")
    shoot(page, "app-account")


def customer_uploads_until_the_quota_is_used(page: Page) -> None:
    nav(page, "files")
    expect(page.locator("#quota")).to_contain_text("0 of 3 uploads used")
    for n in range(1, 4):
        expect(page.locator("#upload")).to_be_enabled()
        page.set_input_files(
            "#file-input",
            files=[{"name": f"cv-{n}.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        page.click("#upload")
        expect(page.locator("#upload-progress")).to_contain_text(f"cv-{n}.pdf uploaded")
        expect(page.locator("#quota")).to_contain_text(f"{n} of 3 uploads used")
    expect(page.locator("#file-list > li")).to_have_count(3)
    expect(page.locator("#upload")).to_be_enabled()
    page.set_input_files(
        "#file-input", files=[{"name": "cv-4.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("#upload")
    refusal = page.locator("#upload-refusal")
    expect(refusal).to_have_text(
        "You have used all 3 uploads of your plan, so this file was not uploaded."
    )
    expect(page.locator("#file-list > li")).to_have_count(3)
    with page.expect_download() as got:
        page.click("#file-list > li:first-child button:text('Download')")
    assert Path(got.value.path()).read_bytes() == PDF
    accessible(page, "files")
    shoot(page, "app-files")


def checkout(page: Page) -> str:
    """Buy the first product for sale, shipped to the saved address; the order's number."""
    nav(page, "shop")
    page.locator("li.product button.primary:not([disabled])").first.click()
    expect(page.locator("#cart-lines > li")).to_have_count(1)
    expect(page.locator("#ship-to input[type=radio]:checked")).to_have_count(1)  # the default
    page.click("#place-order")
    expect(page.locator("#main")).to_have_attribute("data-section", "orders")
    detail = page.locator("#order-detail")
    expect(detail).to_contain_text("1 Infinite Loop")
    return detail.locator("h2").inner_text().split()[-1]


def customer_checks_out_and_cancels(page: Page) -> str:
    checkout(page)
    page.click("#cancel-order")
    detail = page.locator("#order-detail")
    expect(detail.locator(".detail-head .badge")).to_have_text("cancelled")
    expect(detail.locator(".timeline > li")).to_have_count(2)
    expect(page.locator("#cancel-order")).to_have_count(0)  # nothing more to cancel
    accessible(page, "order detail")
    shoot(page, "app-order")
    return checkout(page)  # a second order, for the shop to ship


def customer_ends_another_device(page: Page, server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}) as http:
        body = {"email": EMAIL, "password": NEW_PASSWORD, "device_name": "Tablet"}
        assert http.post("/api/v1/auth/login", json=body).status_code == 200
    nav(page, "devices")
    devices = page.locator("#device-list > li")
    expect(devices).to_have_count(2)
    expect(page.locator("#device-list > li.current")).to_contain_text("This device")
    page.click('#device-list button[aria-label="Sign Tablet out"]')
    expect(devices).to_have_count(1)


def staff_sign_in(page: Page, server: LiveServer) -> None:
    ready(page, f"{server.url}/admin")
    accessible(page, "admin sign-in")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#email-sign-in")
    expect(page.locator("#who")).to_have_text(ADMIN_EMAIL)
    expect(page.locator("#mfa-warning")).to_be_visible()


def staff_find_the_customer_and_ship_the_order(page: Page, number: str) -> None:
    page.fill("#user-q", "ada.shopper")
    page.click("#find-user")
    page.click("#user-results tbody a")
    expect(page.locator("#user-detail")).to_contain_text(EMAIL)
    expect(page.locator("#methods")).to_have_text("Email and password")
    expect(page.locator("#user-sessions > li")).to_have_count(1)
    accessible(page, "admin user page")
    shoot(page, "admin-user")
    page.click("text=Their orders")
    rows = page.locator("#admin-orders tbody tr")
    expect(rows).to_have_count(2)
    page.select_option("#order-status", "pending")
    page.click("#main form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    page.click(f"#admin-orders a:text('{number}')")
    moves = page.locator("#order-detail button[data-status]")
    expect(moves).to_have_count(2)  # only what pending may become
    expect(page.locator("#order-detail button[data-status=shipped]")).to_have_count(0)
    page.click("#order-detail button[data-status=processing]")
    expect(page.locator("#order-detail .detail-head .badge")).to_have_text("processing")
    page.click("#order-detail button[data-status=shipped]")
    expect(page.locator("#order-detail .detail-head .badge")).to_have_text("shipped")
    expect(page.locator("#order-detail .timeline > li")).to_have_count(3)
    accessible(page, "admin order")
    shoot(page, "admin-order")


def staff_edit_stock_and_import(page: Page, server: LiveServer, tmp: Path) -> None:
    nav(page, "catalog")
    row = page.locator("tr.sku-row").first
    code = row.get_attribute("data-code")
    row.locator("input[name=stock]").fill("77")
    row.locator("button:text('Save')").click()
    expect(page.locator("#notice")).to_contain_text(f"{code} saved")
    csv_file = tmp / "spring.csv"
    csv_file.write_text("name,code,price,stock\nSpring Scarf,SPRING-1,12.50,4\n")
    page.set_input_files("#catalog-file", str(csv_file))
    page.click("#import-catalog")
    expect(page.locator("#import-progress")).to_contain_text("Imported. 1 products: 1 new")
    accessible(page, "admin catalog")
    shoot(page, "admin-catalog", full_page=False)
    products = httpx.get(
        f"{server.url}/api/v1/products", params={"q": "Spring Scarf"}, headers={"X-Market": "us"}
    ).json()["items"]
    assert products[0]["skus"][0]["code"] == "SPRING-1"


def staff_disable_the_customer(page: Page) -> None:
    nav(page, "users")
    page.fill("#user-q", EMAIL)
    page.click("#find-user")
    page.click("#user-results tbody a")
    page.click("#toggle-account")
    expect(page.locator("#user-detail")).to_contain_text("disabled")
    expect(page.locator("#user-sessions")).to_have_count(0)


def staff_export_the_audit_log(page: Page, user_id: str) -> None:
    nav(page, "audit")
    page.fill("#audit-user_id", user_id)
    page.click("#main form.filters button[type=submit]")
    expect(page.locator("#audit-rows")).to_contain_text("account.disabled")
    accessible(page, "audit log")
    shoot(page, "admin-audit")
    with page.expect_download() as got:
        page.click("#export-csv")
    table = Path(got.value.path()).read_text()
    assert table.startswith("id,created_at,event,user_id")
    assert "account.disabled" in table and "password.reset" in table
    with page.expect_download() as got:
        page.click("#export-ndjson")
    events = [json.loads(line) for line in Path(got.value.path()).read_text().splitlines()]
    assert {e["user_id"] for e in events} == {int(user_id)}


def test_a_customer_and_the_staff_member_who_serves_them(
    server: LiveServer,
    browser: Browser,
    tmp_path: Path,
) -> None:
    problems: list[str] = []
    customer = new_page(browser, problems)
    customer_registers_and_resets_the_password(customer, server)
    customer_saves_an_address(customer)
    customer_uploads_until_the_quota_is_used(customer)
    number = customer_checks_out_and_cancels(customer)
    customer_ends_another_device(customer, server)

    staff = new_page(browser, problems)
    staff_sign_in(staff, server)
    staff_find_the_customer_and_ship_the_order(staff, number)
    staff_edit_stock_and_import(staff, server, tmp_path)
    staff_disable_the_customer(staff)
    user_id = staff.url.rsplit("/", 1)[-1]

    # The customer's page, left open, notices when the person comes back to it.
    customer.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(customer.locator("#notice")).to_contain_text("Your session has ended")
    expect(customer.locator("#main")).to_have_attribute("data-section", "signin")
    expect(customer.locator("#account")).to_be_hidden()

    staff_export_the_audit_log(staff, user_id)
    assert problems == []


def test_the_pages_speak_russian_and_fit_a_phone(server: LiveServer, browser: Browser) -> None:
    problems: list[str] = []
    phone = new_page(browser, problems)
    phone.set_viewport_size({"width": 390, "height": 844})
    ready(phone, f"{server.url}/app")
    phone.select_option("#lang", "ru")
    expect(phone.locator("#nav a[data-section=shop]")).to_have_text("Магазин")
    expect(phone.locator("#catalog-title")).to_have_text("Каталог")
    assert phone.evaluate("document.documentElement.lang") == "ru"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    accessible(phone, "shop in Russian on a phone")
    shoot(phone, "app-shop-phone-ru", full_page=False)
    ready(phone, f"{server.url}/admin")  # the choice is remembered
    expect(phone.locator("#signin-title")).to_have_text("Вход для сотрудников")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    accessible(phone, "admin sign-in in Russian on a phone")
    assert problems == []


TOP_BAR = """() => {
  const box = (e) => e.getBoundingClientRect();
  const bar = document.querySelector("header.topbar");
  const parts = [...bar.children].filter((e) => e.offsetParent !== null);
  const nav = box(document.querySelector("#nav"));
  return {
    navTops: [...document.querySelectorAll("#nav li")].map((li) => li.offsetTop),
    // every part of the bar sits on the nav's line (overlaps it vertically)
    offLine: parts.filter((e) => box(e).top >= nav.bottom || box(e).bottom <= nav.top)
      .map((e) => e.className || e.tagName),
    parts: parts.length,
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


def test_the_staff_top_bar_is_one_line_at_1280_px_in_english_and_russian(
    server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    page.set_viewport_size({"width": 1280, "height": 800})
    staff_sign_in(page, server)
    expect(page.locator("#nav li")).to_have_count(5)  # users … webhooks
    for lang, webhooks in (("en", "Webhooks"), ("ru", "Вебхуки")):
        page.select_option("#lang", lang)
        expect(page.locator("#nav a[data-section=webhooks]")).to_have_text(webhooks)
        bar = page.evaluate(TOP_BAR)
        assert len(set(bar["navTops"])) == 1, (lang, bar)  # every section on one line
        assert bar["parts"] == 4 and bar["offLine"] == [], (lang, bar)
        assert bar["scrollWidth"] <= 1280, (lang, bar)
    # Signed in, the market is the sign-in's: shown beside the person instead of a chooser.
    expect(page.locator("#market")).to_be_hidden()
    expect(page.locator(".who-market")).to_have_text("Рынок US")
    expect(page.locator("#lang")).to_be_visible()
    accessible(page, "staff top bar in Russian")
    assert problems == []
