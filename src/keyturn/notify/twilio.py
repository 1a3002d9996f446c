"""Twilio SMS providers, on the official `twilio` package and its async HTTP client.

- `twilio-verify`: Twilio Verify generates, sends and checks the code (`owns_code`).
- `twilio-messaging`: keyturn generates the code; Twilio's Messages API only delivers it.

Twilio's answers become keyturn errors (the caller rolls back, so nothing is consumed):
rate and "max attempts" answers → `SmsRejected` (429), a number Twilio refuses → `InvalidPhone`
(422), everything else (network, timeout, 5xx, our credentials or SIDs refused) →
`SmsUnavailable` (503). Twilio's own messages are never logged: they quote the phone number.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from keyturn import metrics
from keyturn.config import ConfigError, Settings, SmsSettings
from keyturn.contacts import InvalidPhone
from keyturn.errors import AppError
from keyturn.logs import get_logger, mask_phone
from keyturn.notify.sms import SmsProvider, SmsRejected, SmsUnavailable, message_text

log = get_logger("keyturn.sms")

TIMEOUT_SECONDS = 10.0
# Twilio's send and check windows are 10 minutes; a retry sooner would be refused again.
RETRY_AFTER_SECONDS = 600
# 20429 too many requests, 60202 max check attempts, 60203 max send attempts.
RATE_CODES = frozenset({20429, 60202, 60203})
# Our credentials or a SID are wrong: an outage of ours, not the caller's fault.
CONFIG_STATUSES = frozenset({401, 404})
CONFIG_CODES = frozenset({20003, 20404})

_FAILURES = (TwilioException, aiohttp.ClientError, TimeoutError, OSError, ValueError)

# Twilio's client logs every request at INFO (URLs and headers); keep that out of our logs.
_http_log = logging.getLogger("keyturn.twilio.http")
_http_log.setLevel(logging.WARNING)


class TwilioHttpClient(AsyncTwilioHttpClient):
    """Twilio's async HTTP client with three changes: a real timeout (the stock one passes
    `timeout=None` to aiohttp, i.e. none), a short-lived session per request (nothing to close at
    shutdown, nothing leaked when the connection fails), and an optional base URL that replaces
    scheme and host of every request (tests and private gateways; the path is kept)."""

    def __init__(self, *, base_url: str | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(pool_connections=False, timeout=timeout, logger=_http_log)
        self.base = urlsplit(base_url.rstrip("/")) if base_url else None

    def target(self, url: str) -> str:
        if self.base is None:
            return url
        parts = urlsplit(url)
        base = self.base
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the signature Twilio calls)
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        limit = aiohttp.ClientTimeout(total=timeout or self.timeout)
        async with (
            aiohttp.ClientSession(timeout=limit) as session,
            session.request(
                method.upper(),
                self.target(url),
                params=params,
                data=data,
                headers=headers,
                allow_redirects=allow_redirects,
            ) as answer,
        ):
            return Response(answer.status, await answer.text(), answer.headers)


def _client(sms: SmsSettings) -> Any:
    http = TwilioHttpClient(base_url=sms.twilio_base_url, timeout=TIMEOUT_SECONDS)
    return Client(sms.twilio_account_sid, sms.twilio_auth_token, http_client=http)


def _status_and_code(exc: Exception) -> tuple[int | None, int | None]:
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        return exc.status, exc.code
    return None, None


def _translate(
    exc: Exception, *, provider: str, action: Literal["send", "check"], phone: str
) -> AppError:
    """The keyturn error for a failed Twilio call. Logs status and code, never Twilio's text."""
    status, code = _status_and_code(exc)
    fields = {
        "provider": provider,
        "action": action,
        "phone": mask_phone(phone),
        "twilio_status": status,
        "twilio_code": code,
    }
    if status == 429 or code in RATE_CODES:
        log.warning("sms_rejected", **fields)
        metrics.rate_limited("sms-provider")
        return SmsRejected(
            "Too many codes for this number; try again later.", retry_after=RETRY_AFTER_SECONDS
        )
    configuration = status in CONFIG_STATUSES or code in CONFIG_CODES
    if action == "send" and status is not None and 400 <= status < 500 and not configuration:
        log.warning("sms_number_refused", **fields)
        return InvalidPhone("This number cannot receive SMS codes.")
    log.error("sms_provider_failed", error=type(exc).__name__, **fields)
    return SmsUnavailable("The SMS provider is unavailable; try again shortly.")


class _Twilio:
    name: str
    problem: str | None = None

    def _failed(self, exc: Exception, *, action: Literal["send", "check"], phone: str) -> AppError:
        """The keyturn error for `exc`; remembers a refusal of our configuration for /ready."""
        status, code = _status_and_code(exc)
        if status in CONFIG_STATUSES or code in CONFIG_CODES:
            self.problem = f"Twilio refused our credentials or service id ({status}/{code})"
        return _translate(exc, provider=self.name, action=action, phone=phone)


class TwilioVerify(_Twilio):
    """Twilio Verify owns the code: it sends it and tells us whether a code is right."""

    owns_code = True
    name = "twilio-verify"

    def __init__(self, sms: SmsSettings) -> None:
        self.service = _client(sms).verify.v2.services(sms.twilio_verify_service_sid)

    async def send_code(self, db: AsyncSession, *, phone: str, code: str | None) -> None:
        try:
            await self.service.verifications.create_async(to=phone, channel="sms")
        except _FAILURES as exc:
            raise self._failed(exc, action="send", phone=phone) from None
        self.problem = None
        log.info("sms_sent", provider=self.name, phone=mask_phone(phone))

    async def check_code(self, *, phone: str, code: str) -> bool:
        try:
            check = await self.service.verification_checks.create_async(to=phone, code=code)
        except _FAILURES as exc:
            if _status_and_code(exc)[0] == 404:
                # No pending verification: expired, already approved, or never sent.
                return False
            raise self._failed(exc, action="check", phone=phone) from None
        self.problem = None
        return bool(check.status == "approved")

    async def send_text(
        self, db: AsyncSession, *, phone: str, text: str, kind: str, token: str | None = None
    ) -> bool:
        """Twilio Verify sends its own code messages only."""
        log.warning("sms_text_unsupported", provider=self.name, kind=kind)
        return False


class TwilioMessaging(_Twilio):
    """keyturn generates and checks the code; Twilio's Messages API delivers the text."""

    owns_code = False
    name = "twilio-messaging"

    def __init__(self, sms: SmsSettings) -> None:
        self.messages = _client(sms).messages
        self.sender = sms.twilio_from

    async def send_code(self, db: AsyncSession, *, phone: str, code: str | None) -> None:
        assert code is not None
        try:
            await self.messages.create_async(to=phone, from_=self.sender, body=message_text(code))
        except _FAILURES as exc:
            raise self._failed(exc, action="send", phone=phone) from None
        self.problem = None
        log.info("sms_sent", provider=self.name, phone=mask_phone(phone))

    async def check_code(self, *, phone: str, code: str) -> bool:
        """Never asked (`owns_code` is False): keyturn checks these codes itself."""
        return False

    async def send_text(
        self, db: AsyncSession, *, phone: str, text: str, kind: str, token: str | None = None
    ) -> bool:
        try:
            await self.messages.create_async(to=phone, from_=self.sender, body=text)
        except _FAILURES as exc:
            raise _translate(exc, provider=self.name, action="send", phone=phone) from None
        log.info("sms_sent", provider=self.name, phone=mask_phone(phone), kind=kind)
        return True


def make_provider(settings: Settings) -> SmsProvider:
    sms = settings.sms
    missing = sms.missing_twilio_settings()
    if missing:
        raise ConfigError(f"SMS provider {sms.provider} needs " + ", ".join(missing))
    if sms.twilio_base_url:
        log.warning("twilio_base_url_in_use", host=urlsplit(sms.twilio_base_url).hostname)
    if sms.provider == "twilio-verify":
        return TwilioVerify(sms)
    if sms.provider == "twilio-messaging":
        return TwilioMessaging(sms)
    raise ConfigError(f"not a Twilio SMS provider: {sms.provider!r}")
