"""/app's Security section in headless Chromium against the real `keyturn serve`: a customer
adds an authenticator app from the QR code the page shows (codes computed with pyotp from
the secret on the page), keeps the recovery codes shown once, signs out and back in with the
password and the app's code, then with a recovery code, replaces the codes after confirming
it is them with a recovery code (a wrong app code said in the dialog), and removes the app
after confirming with the password."""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, update

from keyturn.db import utcnow
from keyturn.sessions.models import Session
from tests.factories import new_email
from tests.harness.qr import decode_svg
from tests.harness.server import LiveServer
from tests.web.browser import axe_violations, new_page, shoot, start_server

pytestmark = pytest.mark.slow

PASSWORD = "lantern orchard pebble 58"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("web-mfa"))
    yield live
    live.stop()


def ready(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def nav(page: Page, section: str) -> None:
    page.click(f"#nav a[data-section={section}]")
    expect(page.locator("#main")).to_have_attribute("data-section", section)


def password_step(page: Page, email: str) -> None:
    nav(page, "signin")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#email-sign-in")


def signed_in(page: Page, email: str) -> None:
    expect(page.locator("#who")).to_have_text(email)
    expect(page.locator("#main")).to_have_attribute("data-section", "shop")


def sign_out(page: Page) -> None:
    page.click("#logout")
    expect(page.locator("#main")).to_have_attribute("data-section", "signin")


def next_code(app: pyotp.TOTP) -> str:
    """The app's code one time step ahead: the current one may be the one just spent (the
    server allows one step of drift and never takes a step twice)."""
    return app.at(time.time(), counter_offset=1)


def wrong_code(app: pyotp.TOTP) -> str:
    """Six digits the app shows at none of the time steps the server would take."""
    now = time.time()
    taken = {app.at(now, counter_offset=k) for k in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222") if c not in taken)


def proven_long_ago(server: LiveServer, user_id: int) -> None:
    """An hour passes since this person last proved who they are (tests cannot wait)."""
    engine = create_engine(f"sqlite:///{server.data_dir / 'keyturn_us.sqlite3'}")
    with engine.begin() as db:
        db.execute(
            update(Session)
            .where(Session.user_id == user_id)
            .values(auth_time=utcnow() - timedelta(hours=1))
        )
    engine.dispose()


def test_a_customer_adds_an_authenticator_app_signs_in_with_it_and_removes_it(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    email = new_email()
    with httpx.Client(base_url=server.url, headers={"X-Market": "us"}, timeout=10) as http:
        created = http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert created.status_code in (200, 201), created.text
        user_id = created.json()["user"]["id"]
    problems: list[str] = []
    page = new_page(browser, problems, accept_downloads=True)
    ready(page, f"{server.url}/app")
    page.select_option("#market", "us")
    page.select_option("#lang", "en")
    password_step(page, email)
    signed_in(page, email)  # no second factor yet: the password alone signs in

    nav(page, "security")
    expect(page.locator("#mfa-state")).to_have_text("Two-step sign-in is off.")
    page.click("#add-totp")
    qr = page.locator("#totp-qr")
    expect(qr).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    svg = urllib.parse.unquote(qr.get_attribute("src").split(",", 1)[1])  # type: ignore[union-attr]
    (uri,) = decode_svg(svg)  # what a phone's camera reads
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    app = pyotp.TOTP(secret)
    assert axe_violations(page) == [], "enrolment"

    page.fill("#totp-code", wrong_code(app))
    page.click("#totp-confirm")
    expect(page.locator("#notice")).to_contain_text("The code is not right")
    expect(page.locator("#totp-confirm-form")).to_be_visible()  # nothing turned on

    page.fill("#totp-code", app.now())
    page.click("#totp-confirm")
    codes_shown = page.locator("#recovery-codes li")
    expect(codes_shown).to_have_count(10)
    codes = codes_shown.all_inner_texts()
    with page.expect_download() as saved:
        page.click("#download-codes")
    assert saved.value.suggested_filename == "keyturn-recovery-codes.txt"
    saved.value.save_as(tmp_path / "codes.txt")
    assert (tmp_path / "codes.txt").read_text().split() == codes
    assert axe_violations(page) == [], "recovery codes"
    page.click("#codes-saved")
    expect(page.locator("#mfa-state")).to_contain_text("Signing in asks for your authenticator")
    expect(page.locator("#codes-left")).to_have_text("10 recovery codes left.")
    expect(page.locator("#recovery-codes")).to_have_count(0)  # shown once
    shoot(page, "app-security")

    # The password is no longer enough: the second step asks for the app's code.
    sign_out(page)
    password_step(page, email)
    expect(page.locator("#mfa-form")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()
    assert axe_violations(page) == [], "second step"
    page.fill("#mfa-code", wrong_code(app))
    page.click("#mfa-verify")
    expect(page.locator("#notice")).to_contain_text("The code is not right")
    expect(page.locator("#account")).to_be_hidden()
    page.fill("#mfa-code", next_code(app))
    with page.expect_response(re.compile(r"/api/v1/auth/mfa/verify$")) as answer:
        page.click("#mfa-verify")
    assert answer.value.json()["refresh_token"] is None  # in the HttpOnly cookie
    signed_in(page, email)

    # A recovery code stands in for the phone, once.
    sign_out(page)
    password_step(page, email)
    page.click("#mfa-use-recovery")
    page.fill("#mfa-code", codes[0])
    page.click("#mfa-verify")
    signed_in(page, email)
    nav(page, "security")
    expect(page.locator("#codes-left")).to_have_text("9 recovery codes left.")

    # New codes need a recent proof: an hour later "Confirm it is you" asks for one first,
    # offering the app's code, the password and a recovery code; a refusal is said inside.
    proven_long_ago(server, user_id)
    page.reload()  # the refresh cookie brings a token that says so
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#main")).to_have_attribute("data-section", "security")
    page.click("#new-codes")
    dialog = page.locator("dialog#stepup")
    expect(dialog).to_be_visible()
    expect(page.locator("#stepup-totp")).to_be_visible()
    expect(page.locator("#stepup-password")).to_be_visible()
    expect(page.locator("#stepup-send-code")).to_have_count(0)  # no phone on this account
    shoot(page, "app-step-up", full_page=False)  # the one dialog, every proof the account has
    assert axe_violations(page) == [], "step-up"
    page.fill("#stepup-totp", wrong_code(app))
    page.press("#stepup-totp", "Enter")
    expect(page.locator("#stepup-problem")).to_contain_text("The code is not right")
    expect(dialog).to_be_visible()
    page.click("#stepup-use-recovery")
    page.fill("#stepup-recovery", codes[1])
    page.click("#stepup-recovery-go")
    expect(dialog).to_have_count(0)
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    new_codes = page.locator("#recovery-codes li").all_inner_texts()
    assert set(new_codes).isdisjoint(codes)
    page.click("#codes-saved")
    expect(page.locator("#codes-left")).to_have_text("10 recovery codes left.")

    # Removing it, an hour later again: a wrong password is said in the dialog, nothing goes.
    proven_long_ago(server, user_id)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.click("#remove-totp")
    expect(dialog).to_be_visible()
    page.fill("#stepup-password", "not my password at all")
    page.click("#stepup-password-go")
    expect(page.locator("#stepup-problem")).to_have_text("That password is not right.")
    expect(page.locator("#codes-left")).to_have_text("10 recovery codes left.")  # still on
    page.fill("#stepup-password", PASSWORD)
    page.click("#stepup-password-go")
    expect(page.locator("#mfa-state")).to_have_text("Two-step sign-in is off.")
    expect(dialog).to_have_count(0)

    sign_out(page)
    password_step(page, email)
    signed_in(page, email)  # one step again
    assert problems == []
