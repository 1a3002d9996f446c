"""Passkeys in /app with Chromium's real WebAuthn: a virtual authenticator (CDP `WebAuthn`
domain: ctap2, internal, resident keys, user verification) stands in for a phone's screen
lock, and the page runs the real `navigator.credentials` ceremonies against `keyturn serve`.

WebAuthn needs a secure context and an RP id matching the host: the page is opened at
`http://localhost:<port>` (the default RP id `localhost` allows any port in development).

Chromium's virtual authenticator answers a conditional (autofill) request by itself as soon
as it holds a passkey for the site, as if the person picked it from the list. The tests of
the "Sign in with a passkey" button therefore run as a browser without passkey autofill."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, expect

from tests.factories import new_email, new_phone
from tests.harness.authenticator import Credential, SoftAuthenticator
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
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("web-passkeys"))
    yield live
    live.stop()


def b64(data: bytes) -> str:
    """CDP sends binary values as standard base64."""
    return base64.b64encode(data).decode()


def import_passkey(cdp: Any, authenticator: str, credential: Credential) -> None:
    """Put a passkey made elsewhere on the virtual authenticator (the person's phone)."""
    pkcs8 = credential.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator,
            "credential": {
                "credentialId": b64(credential.credential_id),
                "isResidentCredential": True,
                "rpId": credential.rp_id,
                "privateKey": b64(pkcs8),
                "userHandle": b64(credential.user_handle),
                "signCount": credential.sign_count,
            },
        },
    )


def test_sign_in_by_phone_add_a_passkey_then_sign_in_with_it_alone(
    server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    without_passkey_autofill(page)
    cdp, authenticator = add_virtual_authenticator(page.context, page)
    products = httpx.get(
        f"{server.url}/api/v1/products", params={"limit": 5}, headers={"X-Market": "us"}
    ).json()["items"]
    product = next(p for p in products if any(s["in_stock"] for s in p["skus"]))

    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    phone = new_phone()
    phone_sign_in(page, server, phone)

    # Add a passkey: the virtual authenticator makes a resident, user-verified credential.
    page.click("#nav a[data-section=passkeys]")
    expect(page.locator("#no-passkeys")).to_be_visible()
    with page.expect_response(re.compile(r"/api/v1/profile/passkeys$")) as added:
        page.click("#add-passkey")
    assert added.value.status == 201, added.value.text()
    expect(page.locator("#passkey-list > li")).to_have_count(1)
    expect(page.locator("#passkey-list > li")).to_contain_text("this device only")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"] is True
    shoot(page, "app-passkeys")
    assert axe_violations(page) == []

    page.click("#nav a[data-section=shop]")
    page.click(f'li.product[data-product-id="{product["id"]}"] button.primary')
    expect(page.locator("#cart-lines > li")).to_have_count(1)
    page.click("#logout")
    expect(page.locator("#main")).to_have_attribute("data-section", "signin")

    # The passkey alone: no phone, no code.
    with page.expect_response(re.compile(r"/api/v1/auth/passkeys/login$")) as signed:
        page.click("#passkey-sign-in")
    assert signed.value.status == 200, signed.value.text()
    tokens = signed.value.json()
    assert tokens["refresh_token"] is None  # the HttpOnly cookie holds it
    expect(page.locator("#who")).to_have_text(phone)
    expect(page.locator("#cart-lines > li")).to_have_count(1)
    claims = httpx.post(
        f"{server.url}/api/v1/auth/verify-token", json={"token": tokens["access_token"]}
    ).json()
    assert claims["amr"] == ["hwk", "user", "mfa"]
    page.click("#nav a[data-section=passkeys]")
    expect(page.locator("#passkey-list > li")).to_contain_text("last used")
    assert problems == []


def test_a_passkey_the_site_does_not_know_is_explained_in_words(
    server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    without_passkey_autofill(page)
    cdp, authenticator = add_virtual_authenticator(page.context, page)
    # A passkey for this RP id that keyturn never registered.
    stranger = Credential(
        credential_id=os.urandom(32),
        private_key=ec.generate_private_key(ec.SECP256R1()),
        rp_id="localhost",
        user_handle=b"someone",
        user_name="someone",
    )
    import_passkey(cdp, authenticator, stranger)
    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#lang", "en")
    page.click("#nav a[data-section=signin]")
    expect(page.locator("#email")).to_have_attribute("autocomplete", "username webauthn")

    page.click("#passkey-sign-in")

    expect(page.locator("#notice")).to_contain_text("This passkey is not registered here")
    expect(page.locator("#main")).to_have_attribute("data-section", "signin")
    expect(page.locator("#account")).to_be_hidden()
    assert problems == []


def test_passkey_autofill_signs_in_as_soon_as_the_person_picks_their_passkey(
    server: LiveServer, browser: Browser
) -> None:
    """The phone or email field offers the device's passkeys (conditional mediation); the
    virtual authenticator picks the one it holds, as a person would from the list."""
    phone = new_phone()
    device = SoftAuthenticator(origin=page_url(server).removesuffix("/app"))
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        assert http.post("/api/v1/auth/send-verification", json={"phone": phone}).is_success
        code = latest_code(server, phone)
        signed = http.post(
            "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}
        ).json()
        bearer = {"Authorization": f"Bearer {signed['access_token']}"}
        options = http.post("/api/v1/profile/passkeys/options", headers=bearer).json()
        added = http.post(
            "/api/v1/profile/passkeys",
            json={"credential": device.create(options), "name": "Phone"},
            headers=bearer,
        )
        assert added.status_code == 201, added.text
    problems: list[str] = []
    page = new_page(browser, problems)
    cdp, authenticator = add_virtual_authenticator(page.context, page)
    import_passkey(cdp, authenticator, device.credentials[0])

    with page.expect_response(re.compile(r"/api/v1/auth/passkeys/login$")) as answer:
        page.goto(page_url(server) + "#/signin")
    assert answer.value.status == 200, answer.value.text()

    expect(page.locator("#who")).to_have_text(phone)
    expect(page.locator("#main")).to_have_attribute("data-section", "shop")
    assert problems == []


def test_an_old_sign_in_confirms_it_is_you_before_adding_or_removing_a_passkey(
    server: LiveServer, browser: Browser
) -> None:
    problems: list[str] = []
    page = new_page(browser, problems)
    add_virtual_authenticator(page.context, page)
    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    phone = new_phone()
    phone_sign_in(page, server, phone)

    age_sign_ins(server)
    page.reload()  # the refreshed access token carries the hour-old sign-in
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#who")).to_have_text(phone)
    page.click("#nav a[data-section=passkeys]")
    page.click("#add-passkey")

    dialog = page.locator("dialog#stepup")
    expect(dialog).to_be_visible()
    expect(page.locator("#stepup-passkey")).to_have_count(0)  # no passkey yet: the phone
    assert axe_violations(page) == []
    page.click("#stepup-send-code")
    expect(page.locator("#stepup-code")).to_be_visible()  # the code is sent: read it now
    page.fill("#stepup-code", latest_code(server, phone))
    page.click("#stepup-code-go")
    expect(dialog).to_have_count(0)
    expect(page.locator("#passkey-list > li")).to_have_count(1)

    # In Russian, removing it: the passkey itself confirms it is you.
    age_sign_ins(server)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#lang", "ru")
    page.click("#nav a[data-section=passkeys]")
    expect(page.locator("#passkeys-title")).to_have_text("Ключи доступа")
    expect(page.locator("#passkey-list > li")).to_have_count(1)
    page.click("#passkey-list button.danger")
    expect(dialog).to_be_visible()
    expect(page.locator("#stepup-title")).to_have_text("Подтвердите, что это вы")
    expect(page.locator("#stepup-passkey")).to_have_text("Использовать ключ доступа")
    assert axe_violations(page) == []
    page.click("#stepup-passkey")
    expect(page.locator("#passkey-list > li")).to_have_count(0)
    no_passkeys = "У вас пока нет ключей доступа."  # noqa: RUF001 (Russian)
    expect(page.locator("#no-passkeys")).to_have_text(no_passkeys)
    assert problems == []


def test_an_old_sign_in_confirms_with_the_password_and_a_wrong_one_is_said_in_the_dialog(
    server: LiveServer, browser: Browser
) -> None:
    """Changing the password wants a recent sign-in too; the refusal shows inside the modal
    dialog (the page behind it is inert), and nothing changes until the right password."""
    email, password, new_password = new_email(), "tundra kettle violin 73", "maple orbit canyon 58"
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        body = {"email": email, "password": password}
        assert http.post("/api/v1/auth/register", json=body).status_code == 201
    problems: list[str] = []
    page = new_page(browser, problems)
    without_passkey_autofill(page)
    page.goto(page_url(server))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    page.click("#nav a[data-section=signin]")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#email-sign-in")
    expect(page.locator("#who")).to_have_text(email)

    age_sign_ins(server)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.click("#nav a[data-section=account]")
    page.fill("#current-password", password)
    page.fill("#change-password", new_password)
    page.click("#change-password-button")
    dialog = page.locator("dialog#stepup")
    expect(dialog).to_be_visible()
    expect(page.locator("#stepup-send-code")).to_have_count(0)  # no phone on this account
    page.fill("#stepup-password", "not my password at all")
    page.click("#stepup-password-go")
    expect(page.locator("#stepup-problem")).to_have_text("That password is not right.")
    expect(dialog).to_be_visible()
    assert sign_in_works(server, email, password)  # nothing changed

    page.fill("#stepup-password", password)
    page.click("#stepup-password-go")
    expect(dialog).to_have_count(0)
    expect(page.locator("#notice")).to_contain_text("Password changed.")
    assert sign_in_works(server, email, new_password)
    assert not sign_in_works(server, email, password)
    assert problems == []


def sign_in_works(server: LiveServer, email: str, password: str) -> bool:
    body = {"email": email, "password": password}
    answer = httpx.post(
        f"{server.url}/api/v1/auth/login", json=body, headers={"X-Market": "us"}, timeout=10
    )
    return answer.status_code == 200


def test_a_page_opened_at_127_0_0_1_moves_to_localhost_where_passkeys_work(
    server: LiveServer, browser: Browser
) -> None:
    """The README's address is http://127.0.0.1:8000/app, but passkeys never belong to an IP
    address: with the RP id `localhost` the page moves itself there before signing anything
    in (the server's answer at 127.0.0.1 stays the page, 200), and passkeys then work."""
    assert server.url.startswith("http://127.0.0.1:")
    served = httpx.get(f"{server.url}/app", timeout=10)
    assert served.status_code == 200 and served.text.startswith("<!doctype html>")
    problems: list[str] = []
    page = new_page(browser, problems)
    add_virtual_authenticator(page.context, page)

    page.goto(f"{server.url}/app#/signin")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert page.url == page_url(server) + "#/signin"  # the same address, on localhost
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    phone = new_phone()
    phone_sign_in(page, server, phone)
    page.click("#nav a[data-section=passkeys]")
    expect(page.locator("#no-passkeys")).to_be_visible()
    with page.expect_response(re.compile(r"/api/v1/profile/passkeys$")) as added:
        page.click("#add-passkey")
    assert added.value.status == 201, added.value.text()
    expect(page.locator("#passkey-list > li")).to_have_count(1)
    assert page.url.startswith(page_url(server))
    assert problems == []
