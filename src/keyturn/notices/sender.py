"""Sending queued security notices, run by the worker: claim (commit) → send through the
provider with no transaction open → record, like webhook deliveries (webhooks.delivery).
The "this wasn't me" token is made when the message is sent, and only its hash is kept."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from keyturn.config import Settings
from keyturn.db import Databases, transaction, utcnow
from keyturn.errors import AppError
from keyturn.logs import get_logger, mask_email, mask_phone
from keyturn.notices import messages
from keyturn.notices.models import SecurityNotice
from keyturn.notices.service import token_hash
from keyturn.notify.email import Email, Mailer
from keyturn.notify.sms import SmsProvider
from keyturn.retry import backoff

log = get_logger("keyturn.notices")

PROVIDER_TIMEOUT = timedelta(seconds=30)  # SMTP and Twilio calls end well before this
RETRY_FIRST, RETRY_MAX = timedelta(seconds=30), timedelta(minutes=30)


@dataclass(frozen=True)
class Outgoing:
    market: str
    notice_id: int
    attempt: int
    kind: str
    channel: str
    recipient: str
    text: messages.Text
    token: str


async def claim(
    settings: Settings, databases: Databases, market: str, *, limit: int
) -> list[Outgoing]:
    """Take due notices, each with a new link token (committed before returning)."""
    now = utcnow()
    config = settings.notices
    taken: list[Outgoing] = []
    async with transaction(databases, market) as db:
        rows = await db.scalars(
            select(SecurityNotice)
            .where(SecurityNotice.status == "pending", SecurityNotice.next_attempt_at <= now)
            .order_by(SecurityNotice.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for notice in rows:
            if not config.enabled or now >= notice.created_at + config.retry_for:
                notice.status = "skipped" if not config.enabled else "failed"
                continue
            token = f"{market}.{secrets.token_urlsafe(32)}"
            notice.attempts += 1
            notice.next_attempt_at = now + PROVIDER_TIMEOUT + settings.worker.claim_grace
            notice.token_hash = token_hash(token)
            notice.link_expires_at = now + config.link_ttl
            text = messages.render(
                notice.kind,
                notice.language,
                notice.details,
                at=notice.created_at,
                link=config.link_url.format(token=token),
                hours=int(config.link_ttl.total_seconds() // 3600),
            )
            taken.append(
                Outgoing(
                    market=market,
                    notice_id=notice.id,
                    attempt=notice.attempts,
                    kind=notice.kind,
                    channel=notice.channel,
                    recipient=notice.recipient,
                    text=text,
                    token=token,
                )
            )
    return taken


async def send(
    databases: Databases, notice: Outgoing, *, mailer: Mailer, sms: SmsProvider
) -> bool | None:
    """True sent, False failed (try again), None impossible with this provider. The session
    opened here is written to only by the console providers (the dev outbox)."""
    later: list[tuple[Any, tuple[Any, ...]]] = []
    try:
        async with databases.session(notice.market) as db:
            if notice.channel == "email":
                email = Email(
                    to=notice.recipient,
                    subject=notice.text.subject,
                    body=notice.text.body,
                    kind="security_notice",
                    token=notice.token,
                )
                await mailer.send(db, email, defer=lambda fn, *args: later.append((fn, args)))
                sent: bool | None = True
            else:
                text, phone = notice.text.short, notice.recipient
                sent = (
                    await sms.send_text(
                        db, phone=phone, text=text, kind="security_notice", token=notice.token
                    )
                    or None
                )
            await db.commit()
        for deliver, args in later:  # SMTP: after the session is closed
            sent = sent and bool(await deliver(*args))
    except AppError as exc:
        log.warning("notice.send_failed", kind=notice.kind, error=exc.code)
        return False
    return sent


async def record(databases: Databases, notice: Outgoing, sent: bool | None) -> None:
    now = utcnow()
    async with transaction(databases, notice.market) as db:
        row = await db.scalar(
            select(SecurityNotice).where(SecurityNotice.id == notice.notice_id).with_for_update()
        )
        if row is None or row.attempts != notice.attempt or row.status != "pending":
            return
        if sent:
            row.status, row.sent_at = "sent", now
        elif sent is None:
            row.status = "failed"
        else:
            row.next_attempt_at = now + backoff(
                notice.attempt, first=RETRY_FIRST, maximum=RETRY_MAX
            )
    to = mask_email(notice.recipient) if notice.channel == "email" else mask_phone(notice.recipient)
    log.info("notice.attempt", kind=notice.kind, channel=notice.channel, to=to, sent=sent)


async def deliver(
    databases: Databases, notice: Outgoing, *, mailer: Mailer, sms: SmsProvider
) -> None:
    await record(databases, notice, await send(databases, notice, mailer=mailer, sms=sms))
