"""What a customer does in /app, shared by the Chromium tests of its account pages: open it at
`localhost` (WebAuthn wants a secure context and an RP id matching the host; the default RP id
`localhost` allows any port in development), sign in by phone, hold a passkey on a virtual
authenticator, and have signed in an hour ago (so step-up asks to confirm it is you)."""

from __future__ import annotations

import sqlite3
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.harness.server import LiveServer
from tests.web.browser import latest_code


def page_url(server: LiveServer) -> str:
    return server.url.replace("127.0.0.1", "localhost") + "/app"


def add_virtual_authenticator(context: BrowserContext, page: Page) -> tuple[Any, str]:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def without_passkey_autofill(page: Page) -> None:
    """Make the page's browser one without conditional mediation (older Safari, Firefox)."""
    page.add_init_script(
        "if (window.PublicKeyCredential) "
        "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
    )


def phone_sign_in(page: Page, server: LiveServer, phone: str) -> None:
    page.click("#nav a[data-section=signin]")
    page.click("#tab-phone")
    page.fill("#phone", phone)
    page.click("#send-code")
    expect(page.locator("#code-form")).to_be_visible()
    page.fill("#code", latest_code(server, phone))
    page.click("#verify")
    expect(page.locator("#who")).to_have_text(phone)


def age_sign_ins(server: LiveServer) -> None:
    """Every session's last proof of identity an hour ago (the page then refreshes its token)."""
    with sqlite3.connect(server.data_dir / "keyturn_us.sqlite3", timeout=10) as db:
        db.execute("UPDATE sessions SET auth_time = datetime(auth_time, '-1 hour')")
