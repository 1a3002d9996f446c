"""Shared by the Chromium tests: Debian's chromium, the real server, axe-core in the page."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.harness.server import KEYTURN, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# axe-core 4.11.0 from the npm registry (MPL-2.0, license beside it), run inside the page.
AXE = Path(__file__).parent / "assets" / "axe.min.js"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
ADMIN_EMAIL, ADMIN_PASSWORD = "staff@example.com", "staff ledger pinecone 42"
# A loaded machine (2 cores shared by everyone) is slow, not wrong: assertions wait as long as
# actions do (new_page), not Playwright's default 5 s.
WAIT_MS = 10_000
expect.set_options(timeout=WAIT_MS)


def start_server(data_dir: Path, **env: str) -> LiveServer:
    live = LiveServer(data_dir, env={"KEYTURN_LOAD_DEMO_CATALOG": "true", **env})
    live.env["KEYTURN_EMAIL__RESET_URL"] = f"{live.url}/app#reset?token={{token}}&market={{market}}"
    return live.start()


def create_admin(server: LiveServer, market: str = "us") -> None:
    subprocess.run(
        [
            str(KEYTURN),
            "create-admin",
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
            "--market",
            market,
        ],
        env={**server.env, "KEYTURN_DATA_DIR": str(server.data_dir)},
        check=True,
        capture_output=True,
    )


def launch() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser: Browser, problems: list[str], **context: Any) -> Page:
    """A fresh browser profile (its own cookies); page errors, CSP refusals and the faults the
    page logs (showError's "Something went wrong") are collected."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: _collect(problems, m))
    return page


def _collect(problems: list[str], message: ConsoleMessage) -> None:
    if "Content Security Policy" in message.text:
        problems.append(message.text)
    elif message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console error: {message.text}")  # an API refusal is not one of these


def axe_violations(page: Page) -> list[str]:
    """Serious and critical axe-core findings on the page as it is now."""
    page.evaluate(AXE.read_text() + "\n;0")  # through DevTools: the page's CSP does not apply
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`)"
    )
    return list(result)


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot for docs/web-app.md, only when KEYTURN_SCREENSHOTS=1 asks for them."""
    if os.environ.get("KEYTURN_SCREENSHOTS") != "1":
        return  # an ordinary run leaves the checkout clean
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def outbox(server: LiveServer, to: str, market: str = "us") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(
        f"{server.url}/api/v1/dev/outbox", params={"to": to}, headers={"X-Market": market}
    ).json()["items"]
    return items


def latest_code(server: LiveServer, phone: str, market: str = "us") -> str:
    """The newest sign-in code texted to `phone`. Not simply the newest message: the server's
    worker may deliver a security notice (a sign-in from a new device) after the code."""
    return str(next(m["code"] for m in outbox(server, phone, market) if m.get("code")))


def reset_link(server: LiveServer, email: str) -> str:
    body = next(m for m in outbox(server, email) if m["kind"] == "password_reset")["body"]
    match = re.search(r"(http://\S+#reset\?\S+)", body)
    assert match, body
    return match.group(1)
