"""Email providers. `console` keeps messages in the dev outbox (in the caller's transaction);
`smtp` sends through a relay with aiosmtplib (STARTTLS, implicit TLS, or plain for a local
relay) after the response has gone out, so an answer's timing never depends on whether a
message was sent (no account enumeration by timing). Delivery errors are logged, not raised:
the person can ask again.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import EmailSettings, Settings
from keyturn.logs import get_logger, mask_email
from keyturn.notify import outbox

log = get_logger("keyturn.email")

# Runs a coroutine function after the response (FastAPI's `BackgroundTasks.add_task`).
Defer = Callable[..., Any]


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    kind: str  # password_reset | email_proof | email_in_use
    token: str | None = None  # kept as its own field in the dev outbox
    code: str | None = None  # likewise


class Mailer(Protocol):
    async def send(self, db: AsyncSession, email: Email, *, defer: Defer) -> None: ...


class ConsoleEmail:
    """Development: the message goes to the dev outbox (and the console), nowhere else.
    Anywhere else (production must allow it explicitly) it is only logged, masked: a reset
    token kept in plain text would be a way into the account."""

    def __init__(self, settings: Settings) -> None:
        self.development = settings.is_development

    async def send(self, db: AsyncSession, email: Email, *, defer: Defer) -> None:
        if self.development:
            await outbox.keep(
                db,
                channel="email",
                recipient=email.to,
                kind=email.kind,
                body=email.body,
                token=email.token,
                code=email.code,
            )
            # Masked recipient, and the token the message carries (its job in development).
            carries = f" (token: {email.token})" if email.token else ""
            line = f"[keyturn console email] to {mask_email(email.to)}: {email.subject}{carries}"
            print(line, flush=True)
        log.info("email_sent", provider="console", to=mask_email(email.to), kind=email.kind)


class SmtpEmail:
    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    async def send(self, db: AsyncSession, email: Email, *, defer: Defer) -> None:
        defer(self.deliver, email)

    async def deliver(self, email: Email) -> bool:
        """Hand the message to the relay now; False (logged) if it could not."""
        s = self.settings
        message = EmailMessage()
        message["From"] = s.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        context = ssl.create_default_context(cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                tls_context=context if s.smtp_security != "none" else None,
                timeout=s.smtp_timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning(
                "email_failed", provider="smtp", to=mask_email(email.to), error=type(exc).__name__
            )
            return False
        log.info("email_sent", provider="smtp", to=mask_email(email.to), kind=email.kind)
        return True


def make_mailer(settings: Settings) -> Mailer:
    if settings.email.provider == "smtp":
        return SmtpEmail(settings.email)
    return ConsoleEmail(settings)
