"""Linked Apple and Google accounts in /app (docs/social-sign-in.md), against `keyturn serve`
configured for the local fake Apple and Google: the person sees which are linked and unlinks
one after confirming it is them; the last way in is refused in words, until a passkey is
added. A server with neither Apple nor Google configured has no such section."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.factories import new_email, new_phone
from tests.harness.oauth_provider import FakeProviders, providers_in_a_thread, server_env
from tests.harness.server import LiveServer
from tests.web.browser import axe_violations, latest_code, new_page, shoot, start_server
from tests.web.customer import (
    add_virtual_authenticator,
    age_sign_ins,
    page_url,
    phone_sign_in,
    without_passkey_autofill,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def providers() -> Iterator[FakeProviders]:
    with providers_in_a_thread() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, providers: FakeProviders
) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("web-linked"), **server_env(providers))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def server_without_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("web-no-oauth"))
    yield live
    live.stop()


def proof(providers: FakeProviders, provider: str, sub: str, email: str) -> dict[str, Any]:
    """What the provider's SDK hands the app: a fresh id_token for the app's nonce."""
    nonce = secrets.token_urlsafe(16)
    extra = {"is_private_email": "true"} if email.endswith("privaterelay.appleid.com") else {}
    token = providers.id_token(provider, sub, email=email, nonce=nonce, **extra)
    return {"id_token": token, "nonce": nonce}


def identities(server: LiveServer, bearer: str) -> list[str]:
    answer = httpx.get(
        f"{server.url}/api/v1/profile/identities",
        headers={"X-Market": "us", "Authorization": f"Bearer {bearer}"},
    )
    return [i["provider"] for i in answer.json()["items"]]


def open_app(page: Page, server: LiveServer, lang: str) -> None:
    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#lang", lang)


def test_a_customer_sees_their_apple_and_google_accounts_and_unlinks_one(
    server: LiveServer, providers: FakeProviders, browser: Browser
) -> None:
    phone, email = new_phone(), new_email()
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        # On their phone, in the shop's app: signed in by SMS, then linked Google and Apple.
        assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).is_success
        body = {"phone": phone, "verification_code": latest_code(server, phone)}
        bearer = http.post("/api/v1/auth/verify-code", json=body).json()["access_token"]
        auth = {"Authorization": f"Bearer {bearer}"}
        google = proof(providers, "google", "g-" + secrets.token_hex(4), email)
        apple = proof(
            providers, "apple", "a-" + secrets.token_hex(4), "x7@privaterelay.appleid.com"
        )
        assert http.post("/api/v1/profile/identities/google", json=google, headers=auth).is_success
        assert http.post("/api/v1/profile/identities/apple", json=apple, headers=auth).is_success

    problems: list[str] = []
    page = new_page(browser, problems)
    open_app(page, server, "en")
    page.select_option("#market", "us")
    phone_sign_in(page, server, phone)
    expect(page.locator("#nav a[data-section=linked]")).to_have_text("Linked accounts")
    page.click("#nav a[data-section=linked]")
    google_line = page.locator('#linked-list > li[data-provider="google"]')
    apple_line = page.locator('#linked-list > li[data-provider="apple"]')
    expect(google_line).to_contain_text("Google")
    expect(google_line).to_contain_text(email)
    expect(apple_line).to_contain_text("Hide My Email address")
    expect(apple_line).not_to_contain_text("privaterelay")
    expect(page.locator("#no-linked")).to_be_hidden()
    shoot(page, "app-linked")
    assert axe_violations(page) == []

    age_sign_ins(server)  # an hour later: unlinking wants a recent sign-in
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.click("#nav a[data-section=linked]")
    page.click('#linked-list button[aria-label="Unlink Google"]')
    expect(page.locator("dialog#stepup")).to_be_visible()
    page.click("#stepup-send-code")
    expect(page.locator("#stepup-code")).to_be_visible()
    page.fill("#stepup-code", latest_code(server, phone))
    page.click("#stepup-code-go")

    expect(page.locator("#notice")).to_contain_text("Your Google account was unlinked.")
    expect(page.locator("#linked-list > li")).to_have_count(1)
    expect(apple_line).to_be_visible()
    assert identities(server, bearer) == ["apple"]
    assert problems == []


def test_the_only_way_in_is_not_unlinked_until_a_passkey_is_added_in_russian(
    server: LiveServer, providers: FakeProviders, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    without_passkey_autofill(page)
    add_virtual_authenticator(page.context, page)
    email = new_email()
    # Signed up with Google alone (the SDK's id_token posted from this browser profile: the
    # refresh token lands in its HttpOnly cookie, as a Google button's sign-in would).
    answer = page.context.request.post(
        page_url(server).removesuffix("/app") + "/api/v1/auth/oauth/google",
        headers={"X-Market": "us"},
        data={
            **proof(providers, "google", "g-" + secrets.token_hex(4), email),
            "refresh_transport": "cookie",
        },
    )
    assert answer.status == 200, answer.text()
    bearer = answer.json()["access_token"]
    open_app(page, server, "ru")
    expect(page.locator("#who")).to_have_text(email)

    page.click("#nav a[data-section=linked]")
    expect(page.locator("#linked-title")).to_have_text("Связанные аккаунты")
    page.click("#linked-list button.danger")
    only_way = (
        "Это ваш единственный способ входа. Сначала добавьте ключ доступа, затем отвяжите его."  # noqa: RUF001 (Russian)
    )
    expect(page.locator("#notice-text")).to_have_text(only_way)
    expect(page.locator("#linked-list > li")).to_have_count(1)
    assert identities(server, bearer) == ["google"]

    page.click("#nav a[data-section=passkeys]")
    page.click("#add-passkey")
    expect(page.locator("#passkey-list > li")).to_have_count(1)
    page.click("#nav a[data-section=linked]")
    page.click("#linked-list button.danger")
    expect(page.locator("#notice-text")).to_have_text("Аккаунт Google отвязан.")
    expect(page.locator("#no-linked")).to_have_text("Аккаунты Apple и Google не привязаны.")
    assert identities(server, bearer) == []
    assert axe_violations(page) == []
    assert problems == []


def test_without_apple_or_google_sign_in_there_is_no_linked_accounts_section(
    server_without_providers: LiveServer, browser: Browser
) -> None:
    server = server_without_providers
    assert httpx.get(f"{server.url}/").json()["oauth_providers"] == []
    problems: list[str] = []
    page = new_page(browser, problems)
    open_app(page, server, "en")
    page.select_option("#market", "us")
    phone_sign_in(page, server, new_phone())
    # The signed-in menu has its other account sections, and no "Linked accounts".
    expect(page.locator("#nav a[data-section=passkeys]")).to_be_visible()
    expect(page.locator("#nav a[data-section=privacy]")).to_be_visible()
    expect(page.locator("#nav a[data-section=linked]")).to_have_count(0)
    expect(page.locator("#nav")).not_to_contain_text("Linked accounts")
    # A link to it from elsewhere lands on the shop instead of an empty section.
    page.click("#nav a[data-section=passkeys]")
    expect(page.locator("#main")).to_have_attribute("data-section", "passkeys")
    page.evaluate("location.hash = '#/linked'")
    expect(page.locator("#main")).to_have_attribute("data-section", "shop")
    expect(page.locator("#linked")).to_have_count(0)
    assert problems == []
