"""The Twilio SMS providers, over HTTP through the real app, against a local server that speaks
Twilio's REST shapes and records what it was sent. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from sqlalchemy import select

from keyturn.app import create_app
from keyturn.auth.models import PhoneChallenge
from keyturn.config import ConfigError, Settings, load_settings
from keyturn.notify import twilio
from tests.conftest import http_client
from tests.factories import new_phone
from tests.problems import assert_problem

ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token-0123456789"
SERVICE = "VA" + "b" * 32
SENDER = "+15005550006"
APPROVED = "424242"  # the code the fake Verify service approves
US = {"X-Market": "us"}

VERIFICATIONS = f"/v2/Services/{SERVICE}/Verifications"
VERIFICATION_CHECK = f"/v2/Services/{SERVICE}/VerificationCheck"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


@dataclass
class Recorded:
    path: str
    form: dict[str, str]
    account: str
    password: str


class FakeTwilio:
    """Verify (send, check) and the Messages API, as Twilio answers them.

    `fail_with(status, code)` makes every answer that Twilio error until `recover()`;
    `fail_with("drop")` closes the connection without an answer, `fail_with("hang")` never
    answers.
    """

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Recorded] = []
        self.pending: set[str] = set()  # phones with an open Verify verification
        self.failure: tuple[int, int] | str | None = None
        self.release = asyncio.Event()
        self.app = web.Application(middlewares=[self._record_and_fail])
        self.app.router.add_post("/v2/Services/{sid}/Verifications", self._verifications)
        self.app.router.add_post("/v2/Services/{sid}/VerificationCheck", self._check)
        self.app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)

    def fail_with(self, failure: tuple[int, int] | str) -> None:
        self.failure = failure

    def recover(self) -> None:
        self.failure = None

    @web.middleware
    async def _record_and_fail(self, request: web.Request, handler: Any) -> web.StreamResponse:
        form = {key: str(value) for key, value in (await request.post()).items()}
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        assert scheme == "Basic", "Twilio calls must use basic auth"
        account, _, password = base64.b64decode(credentials).decode().partition(":")
        self.requests.append(Recorded(request.path, form, account, password))
        if self.failure == "drop":
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if self.failure == "hang":
            await self.release.wait()
        if isinstance(self.failure, tuple):
            status, code = self.failure
            return _error(status, code, f"Twilio says no to {form.get('To')}")
        response: web.StreamResponse = await handler(request)
        return response

    async def _verifications(self, request: web.Request) -> web.Response:
        form = await request.post()
        to = str(form["To"])
        self.pending.add(to)
        return web.json_response(
            {"sid": "VE" + "c" * 32, "service_sid": SERVICE, "account_sid": ACCOUNT, "to": to,
             "channel": form["Channel"], "status": "pending", "valid": False},
            status=201,
        )  # fmt: skip

    async def _check(self, request: web.Request) -> web.Response:
        form = await request.post()
        to = str(form["To"])
        if to not in self.pending:
            path = request.path
            return _error(404, 20404, f"The requested resource {path} was not found")
        approved = form["Code"] == APPROVED
        if approved:
            self.pending.discard(to)
        return web.json_response(
            {"sid": "VE" + "c" * 32, "service_sid": SERVICE, "to": to, "channel": "sms",
             "status": "approved" if approved else "pending", "valid": approved},
        )  # fmt: skip

    async def _messages(self, request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response(
            {"sid": "SM" + "d" * 32, "account_sid": ACCOUNT, "to": form["To"],
             "from": form["From"], "body": form["Body"], "status": "queued"},
            status=201,
        )  # fmt: skip


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "status": status,
         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
        status=status,
    )  # fmt: skip


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield fake
    fake.release.set()
    await runner.cleanup()


OpenApp = Callable[..., Any]


@pytest.fixture
def twilio_app(make_settings: Callable[..., Settings], fake_twilio: FakeTwilio) -> OpenApp:
    """`async with twilio_app("twilio-verify") as (app, client)`: the app on the fake Twilio."""

    @asynccontextmanager
    async def open_app(
        provider: str, *, base_url: str | None = None
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        sms = {
            "provider": provider,
            "twilio_account_sid": ACCOUNT,
            "twilio_auth_token": TOKEN,
            "twilio_verify_service_sid": SERVICE,
            "twilio_from": SENDER,
            "twilio_base_url": base_url or fake_twilio.url,
        }
        app = create_app(make_settings(sms=sms, otp={"resend_cooldown": timedelta(0)}))
        try:
            async with http_client(app) as client:
                yield app, client
        finally:
            await app.state.databases.dispose()

    return open_app


async def send(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post("/api/v1/auth/send-verification", json={"phone": phone}, headers=US)


async def verify(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": "Pixel 8"},
        headers=US,
    )


async def challenges(app: FastAPI) -> list[PhoneChallenge]:
    async with app.state.databases.session("us") as db:
        return list((await db.scalars(select(PhoneChallenge))).all())


def sent_code(request: Recorded) -> str:
    match = re.search(r"\b(\d{6})\b", request.form["Body"])
    assert match, request.form["Body"]
    return match.group(1)


async def test_twilio_verify_sends_the_code_and_approves_it(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (app, client):
        sent = await send(client, phone)
        assert sent.status_code == 200, sent.text
        [request] = fake_twilio.requests
        assert request.path == VERIFICATIONS
        assert request.form == {"To": phone, "Channel": "sms"}
        assert (request.account, request.password) == (ACCOUNT, TOKEN)
        [challenge] = await challenges(app)
        assert challenge.code_hash is None  # Twilio owns the code; we keep none

        signed = await verify(client, phone, APPROVED)
        assert signed.status_code == 200, signed.text
        assert signed.json()["is_new_user"] is True
        assert signed.json()["user"]["phone_number"] == phone
        check = fake_twilio.requests[-1]
        assert check.path == VERIFICATION_CHECK
        assert check.form == {"To": phone, "Code": APPROVED}
        assert (check.account, check.password) == (ACCOUNT, TOKEN)

        reused = await verify(client, phone, APPROVED)
        assert_problem(reused, 400, "otp.invalid")


async def test_twilio_verify_wrong_code_says_how_many_attempts_remain(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (_, client):
        assert (await send(client, phone)).status_code == 200
        wrong = await verify(client, phone, "111111")
        assert assert_problem(wrong, 400, "otp.invalid")["attempts_remaining"] == 4
        assert fake_twilio.requests[-1].form == {"To": phone, "Code": "111111"}
        assert (await verify(client, phone, APPROVED)).status_code == 200


async def test_twilio_verify_expired_verification_is_a_wrong_code_not_an_outage(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (_, client):
        assert (await send(client, phone)).status_code == 200
        fake_twilio.pending.clear()  # Twilio forgot it: expired after its 10 minutes
        expired = await verify(client, phone, APPROVED)
        assert assert_problem(expired, 400, "otp.invalid")["attempts_remaining"] == 4


async def test_twilio_messaging_texts_our_code_from_the_configured_number(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-messaging") as (app, client):
        assert (await send(client, phone)).status_code == 200
        [request] = fake_twilio.requests
        assert request.path == MESSAGES
        assert request.form["To"] == phone and request.form["From"] == SENDER
        assert (request.account, request.password) == (ACCOUNT, TOKEN)
        code = sent_code(request)
        [challenge] = await challenges(app)
        assert challenge.code_hash is not None and code not in challenge.code_hash

        signed = await verify(client, phone, code)
        assert signed.status_code == 200, signed.text
        assert signed.json()["user"]["phone_number"] == phone
        assert len(fake_twilio.requests) == 1  # checking our own code never asks Twilio


async def test_twilio_max_send_attempts_is_a_429_and_creates_no_challenge(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (app, client):
        fake_twilio.fail_with((429, 60203))
        refused = await send(client, phone)
        assert_problem(refused, 429, "sms.rejected")
        assert refused.headers["retry-after"] == str(twilio.RETRY_AFTER_SECONDS)
        assert await challenges(app) == []

        fake_twilio.recover()
        assert (await send(client, phone)).status_code == 200
        assert len(await challenges(app)) == 1
        assert (await verify(client, phone, APPROVED)).status_code == 200


async def test_refused_resend_keeps_the_code_already_sent(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-messaging") as (app, client):
        assert (await send(client, phone)).status_code == 200
        code = sent_code(fake_twilio.requests[-1])
        [before] = await challenges(app)

        fake_twilio.fail_with((429, 20429))
        assert_problem(await send(client, phone), 429, "sms.rejected")
        [after] = await challenges(app)
        assert (after.code_hash, after.sent_at) == (before.code_hash, before.sent_at)

        fake_twilio.recover()
        assert (await verify(client, phone, code)).status_code == 200


async def test_twilio_max_check_attempts_is_a_429_and_consumes_nothing(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (app, client):
        assert (await send(client, phone)).status_code == 200
        fake_twilio.fail_with((429, 60202))
        refused = await verify(client, phone, APPROVED)
        assert_problem(refused, 429, "sms.rejected")
        assert int(refused.headers["retry-after"]) > 0
        [challenge] = await challenges(app)
        assert challenge.consumed_at is None and challenge.failed_attempts == 0

        fake_twilio.recover()
        assert (await verify(client, phone, APPROVED)).status_code == 200


@pytest.mark.parametrize("provider", ["twilio-verify", "twilio-messaging"])
@pytest.mark.parametrize("outage", ["500", "drop", "refused", "timeout"])
async def test_twilio_outage_on_send_is_a_503_and_creates_no_challenge(
    twilio_app: OpenApp,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    outage: str,
) -> None:
    monkeypatch.setattr(twilio, "TIMEOUT_SECONDS", 0.3)
    base_url = f"http://127.0.0.1:{unused_port()}" if outage == "refused" else None
    fake_twilio.fail_with({"500": (500, 20500), "timeout": "hang"}.get(outage, outage))
    phone = new_phone()
    async with twilio_app(provider, base_url=base_url) as (app, client):
        failed = await send(client, phone)
        body = assert_problem(failed, 503, "sms.unavailable")
        assert "Traceback" not in failed.text and "Twilio" not in body["detail"]
        assert phone not in failed.text
        assert await challenges(app) == []


async def test_twilio_outage_on_check_is_a_503_and_the_code_still_works_later(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (app, client):
        assert (await send(client, phone)).status_code == 200
        fake_twilio.fail_with((503, 20503))
        assert_problem(await verify(client, phone, APPROVED), 503, "sms.unavailable")
        [challenge] = await challenges(app)
        assert challenge.consumed_at is None and challenge.failed_attempts == 0

        fake_twilio.recover()
        assert (await verify(client, phone, APPROVED)).status_code == 200


@pytest.mark.parametrize("code", [21211, 60200])
async def test_number_twilio_refuses_is_a_422_and_creates_no_challenge(
    twilio_app: OpenApp, fake_twilio: FakeTwilio, code: int
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-verify") as (app, client):
        fake_twilio.fail_with((400, code))
        refused = await send(client, phone)
        assert_problem(refused, 422, "phone.invalid")
        assert "Twilio" not in refused.text  # Twilio's message (it quotes the number) stays out
        assert await challenges(app) == []


async def test_wrong_twilio_credentials_are_our_outage_not_the_callers_fault(
    twilio_app: OpenApp, fake_twilio: FakeTwilio
) -> None:
    async with twilio_app("twilio-messaging") as (_, client):
        fake_twilio.fail_with((401, 20003))
        assert_problem(await send(client, new_phone()), 503, "sms.unavailable")


@pytest.mark.parametrize("provider", ["twilio-verify", "twilio-messaging"])
async def test_ready_names_an_sms_provider_refusing_our_credentials_until_it_accepts_them(
    twilio_app: OpenApp, fake_twilio: FakeTwilio, provider: str
) -> None:
    async with twilio_app(provider) as (_, client):
        assert (await client.get("/ready")).json()["status"] == "ready"
        fake_twilio.fail_with((401, 20003))
        assert (await send(client, new_phone())).status_code == 503
        degraded = await client.get("/ready")
        assert degraded.status_code == 200  # password sign-in and every session still work
        body = degraded.json()
        assert body["status"] == "degraded" and body["degraded"] == ["sms"]
        assert body["checks"]["sms"] is False and body["unavailable"] == []
        assert "credentials" in body["problems"]["sms"] and TOKEN not in degraded.text

        fake_twilio.fail_with((500, 20500))  # an outage says nothing about configuration
        assert (await send(client, new_phone())).status_code == 503
        assert (await client.get("/ready")).json()["degraded"] == ["sms"]
        fake_twilio.recover()
        assert (await send(client, new_phone())).status_code == 200
        assert (await client.get("/ready")).json()["status"] == "ready"


async def test_logs_never_show_the_code_or_the_full_phone(
    twilio_app: OpenApp, fake_twilio: FakeTwilio, capfd: pytest.CaptureFixture[str]
) -> None:
    phone = new_phone()
    async with twilio_app("twilio-messaging") as (_, client):
        assert (await send(client, phone)).status_code == 200
        code = sent_code(fake_twilio.requests[-1])
        assert (await verify(client, phone, code)).status_code == 200
        fake_twilio.fail_with((400, 21211))  # Twilio's message quotes the number
        assert (await send(client, phone)).status_code == 422
        fake_twilio.fail_with((500, 20500))
        assert (await send(client, phone)).status_code == 503
    logged = capfd.readouterr().err
    assert "sms_sent" in logged and "sms_provider_failed" in logged
    assert phone not in logged and phone[1:] not in logged
    assert code not in logged and TOKEN not in logged


def test_twilio_provider_without_its_settings_refuses_to_start() -> None:
    with pytest.raises(ConfigError) as verify_error:
        load_settings(_env_file=None, sms={"provider": "twilio-verify"})
    for name in ("ACCOUNT_SID", "AUTH_TOKEN", "VERIFY_SERVICE_SID"):
        assert f"KEYTURN_SMS__TWILIO_{name}" in str(verify_error.value)

    sms = {
        "provider": "twilio-messaging",
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": TOKEN,
    }
    with pytest.raises(ConfigError) as messaging_error:
        load_settings(_env_file=None, sms=sms)
    assert "KEYTURN_SMS__TWILIO_FROM" in str(messaging_error.value)
    assert TOKEN not in str(messaging_error.value)


def test_base_url_replaces_scheme_and_host_and_keeps_the_path() -> None:
    client = twilio.TwilioHttpClient(base_url="http://127.0.0.1:8099/gateway/")
    assert (
        client.target(f"https://verify.twilio.com{VERIFICATIONS}?a=1")
        == f"http://127.0.0.1:8099/gateway{VERIFICATIONS}?a=1"
    )
    assert twilio.TwilioHttpClient().target("https://api.twilio.com/x") == (
        "https://api.twilio.com/x"
    )


async def test_a_twilio_that_never_answers_does_not_take_the_market_down(
    twilio_app: OpenApp, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """32 sends wait on a provider that hangs; meanwhile the market's other requests (and a
    pool of 30 connections on PostgreSQL, one connection on SQLite) must stay free."""
    monkeypatch.setattr(twilio, "TIMEOUT_SECONDS", 120)  # the fake is released well before
    fake_twilio.fail_with("hang")
    phones = [new_phone() for _ in range(32)]
    async with twilio_app("twilio-messaging") as (app, client):
        sends = [asyncio.create_task(send(client, phone)) for phone in phones]
        try:
            for _ in range(100):  # until every send waits on Twilio (bounded: 10 s)
                if len(fake_twilio.requests) == len(phones):
                    break
                await asyncio.sleep(0.1)
            catalog = await asyncio.wait_for(client.get("/api/v1/products", headers=US), timeout=20)
            ready = await asyncio.wait_for(client.get("/ready"), timeout=20)
            assert catalog.status_code == 200, catalog.text
            assert ready.status_code == 200, ready.text
            assert not any(task.done() for task in sends)  # they were all still waiting
            assert len(fake_twilio.requests) == len(phones)
        finally:
            fake_twilio.release.set()
            answers = await asyncio.gather(*sends)
        assert [r.status_code for r in answers] == [200] * len(phones)
        assert len(await challenges(app)) == len(phones)
