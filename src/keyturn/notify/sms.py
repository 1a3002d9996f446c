"""SMS providers. `console` keeps messages in the dev outbox (and logs them, in development
only); the Twilio providers live in `notify.twilio`, and `notify.providers` picks one.

A provider raises `SmsRejected` when the provider refuses this number for now (429 to the
client) and `SmsUnavailable` when it cannot be reached (503). Either way the caller rolls
back, so no challenge is created or consumed.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import Settings
from keyturn.errors import TooManyRequests, Unavailable
from keyturn.logs import get_logger, mask_phone
from keyturn.notify import outbox

log = get_logger("keyturn.sms")


class SmsRejected(TooManyRequests):
    """The SMS provider refuses to send to or check this number right now."""

    code = "sms.rejected"


class SmsUnavailable(Unavailable):
    """The SMS provider cannot be reached or failed; nothing was consumed."""

    code = "sms.unavailable"


class SmsProvider(Protocol):
    # True when the provider generates and checks codes itself (Twilio Verify).
    owns_code: bool
    # Why the provider cannot work as configured (its last answer refused our credentials or
    # service id), None when fine; `/ready` reports it.
    problem: str | None

    async def send_code(self, db: AsyncSession, *, phone: str, code: str | None) -> None: ...

    async def check_code(self, *, phone: str, code: str) -> bool: ...

    async def send_text(
        self, db: AsyncSession, *, phone: str, text: str, kind: str, token: str | None = None
    ) -> bool:
        """Send any text (a security notice); False if this provider cannot send free text.
        `token` is kept as its own field in the dev outbox."""
        ...


def message_text(code: str) -> str:
    return f"Your keyturn code is {code}. It expires in 5 minutes. Never share it."


class ConsoleSms:
    """Development: the message goes to the dev outbox and the console, nowhere else.
    Anywhere else (production must allow it explicitly) it is only logged, masked."""

    owns_code = False
    problem: str | None = None

    def __init__(self, settings: Settings) -> None:
        self.development = settings.is_development

    async def send_code(self, db: AsyncSession, *, phone: str, code: str | None) -> None:
        assert code is not None
        text = message_text(code)
        if self.development:
            await outbox.keep(
                db, channel="sms", recipient=phone, kind="verification", body=text, code=code
            )
            # The one place a code is printed: the console provider in development. The
            # number is masked like everywhere else: staging logs are shipped and kept.
            print(f"[keyturn console SMS] to {mask_phone(phone)}: {text}", flush=True)
        log.info("sms_sent", provider="console", phone=mask_phone(phone))

    async def check_code(self, *, phone: str, code: str) -> bool:
        """Never asked (`owns_code` is False): keyturn checks console codes itself."""
        return False

    async def send_text(
        self, db: AsyncSession, *, phone: str, text: str, kind: str, token: str | None = None
    ) -> bool:
        if self.development:
            await outbox.keep(db, channel="sms", recipient=phone, kind=kind, body=text, token=token)
            print(f"[keyturn console SMS] to {phone}: {text}", flush=True)
        log.info("sms_sent", provider="console", phone=mask_phone(phone), kind=kind)
        return True
