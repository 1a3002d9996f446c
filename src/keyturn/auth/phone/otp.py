"""One-time SMS codes: issue, check, consume (docs/sms-firewall.md).

Codes are 6 digits from `secrets`, stored as an HMAC keyed with the server secret, compared in
constant time, valid 5 minutes, single use. Wrong codes count across resends at two levels:
per phone and client (`otp.max_attempts` per `otp.failure_window`: the guesser is locked out,
not the phone's owner) and per phone from every client together (`otp.max_attempts_per_phone`
per `otp.phone_failure_window`: the brute-force bound, which locks the phone).

The SMS provider is never called with a transaction open: sending and Twilio Verify's check
end the caller's read first (`end_read`), then take the phone's row to record the outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.auth.failures import Failures, client_network
from keyturn.auth.models import PhoneChallenge
from keyturn.config import OtpSettings
from keyturn.db import end_read, utcnow
from keyturn.errors import BadRequest, TooManyRequests
from keyturn.notify.sms import SmsProvider


class WrongCode(BadRequest):
    """The code is wrong, expired or already used."""

    code = "otp.invalid"

    def __init__(self, detail: str, *, expired: bool = False, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.expired = expired  # for the sign-in counter; not shown to the client


class TooManyAttempts(TooManyRequests):
    """Too many wrong codes for this phone; wait before trying again."""

    code = "otp.too_many_attempts"


class ResendTooSoon(TooManyRequests):
    """A code was sent to this phone moments ago."""

    code = "otp.resend_cooldown"


@dataclass(frozen=True)
class Otp:
    rules: OtpSettings
    secret: bytes
    provider: SmsProvider

    def code_hash(self, subject: str, code: str) -> str:
        """The HMAC a code is stored as, bound to what it proves (a phone, an address)."""
        return hmac.new(self.secret, f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()

    def _client_key(self, ip: str | None) -> str:
        network = client_network(ip).encode()
        return hmac.new(self.secret, b"otp-client:" + network, hashlib.sha256).hexdigest()[:16]

    async def _challenge(self, db: AsyncSession, phone: str) -> PhoneChallenge | None:
        return await db.scalar(
            select(PhoneChallenge).where(PhoneChallenge.phone_number == phone).with_for_update()
        )

    def _phone_failures(self, challenge: PhoneChallenge, now: datetime) -> Failures:
        counted = Failures(challenge.failed_attempts, challenge.first_failed_at)
        return counted.live(self.rules.phone_failure_window, now)

    def _client_failures(self, challenge: PhoneChallenge, client: str, now: datetime) -> Failures:
        count, since = (challenge.client_failures or {}).get(client, (0, None))
        counted = Failures(count, datetime.fromtimestamp(since, now.tzinfo) if since else None)
        return counted.live(self.rules.failure_window, now)

    def _refuse_unless_open(self, challenge: PhoneChallenge | None, client: str) -> None:
        """Raise unless this client may try a code on this challenge now (changes nothing)."""
        if challenge is None or challenge.consumed_at is not None:
            raise WrongCode("Invalid or expired code; ask for a new one.", attempts_remaining=0)
        otp, now = self.rules, utcnow()
        locked = max(
            self._phone_failures(challenge, now).locked_for(
                otp.max_attempts_per_phone, otp.phone_failure_window, now
            ),
            self._client_failures(challenge, client, now).locked_for(
                otp.max_attempts, otp.failure_window, now
            ),
        )
        if locked:
            metrics.rate_limited("otp-attempts")
            raise TooManyAttempts("Too many wrong codes; try again later.", retry_after=locked)
        if challenge.expires_at <= now:
            raise WrongCode(
                "The code has expired; ask for a new one.",
                expired=True,
                attempts_remaining=self._remaining(challenge, client, now),
            )

    def _remaining(self, challenge: PhoneChallenge, client: str, now: datetime) -> int:
        otp = self.rules
        return max(
            0,
            min(
                otp.max_attempts - self._client_failures(challenge, client, now).count,
                otp.max_attempts_per_phone - self._phone_failures(challenge, now).count,
            ),
        )

    def _record(self, challenge: PhoneChallenge, client: str, *, failed: bool) -> None:
        """Count a wrong code for the phone and the client, or clear the client's count
        after a right one (the phone's count stays: it is the daily bound)."""
        now = utcnow()
        window = self.rules.failure_window
        clients = {
            key: (count, since)
            for key, (count, since) in (challenge.client_failures or {}).items()
            if key != client and now.timestamp() - since < window.total_seconds()
        }
        if failed:
            phone = self._phone_failures(challenge, now).plus_one(now)
            challenge.failed_attempts, challenge.first_failed_at = phone.count, phone.since
            mine = self._client_failures(challenge, client, now).plus_one(now)
            assert mine.since is not None
            clients[client] = (mine.count, mine.since.timestamp())
        challenge.client_failures = clients

    async def check_cooldown(self, db: AsyncSession, *, phone: str) -> None:
        """Refuse a resend within the cooldown (reads only)."""
        now = utcnow()
        challenge = await self._challenge(db, phone)
        cooldown = self.rules.resend_cooldown
        if challenge and challenge.consumed_at is None and now - challenge.sent_at < cooldown:
            wait = math.ceil((challenge.sent_at + cooldown - now).total_seconds())
            metrics.rate_limited("otp-cooldown")
            raise ResendTooSoon("A code was just sent; wait before asking again.", retry_after=wait)

    async def issue(self, db: AsyncSession, *, phone: str) -> None:
        """Send a new code, then keep it as the phone's challenge (flushed, not committed).

        The provider is called with no transaction open: this ends the caller's read
        transaction first (`end_read`), so call it before writing anything. A failed send
        raises and leaves nothing behind (the code sent before stays valid). Failure counts
        survive the new code: resending never buys guesses."""
        code = None if self.provider.owns_code else f"{secrets.randbelow(10**6):06d}"
        await end_read(db)
        await self.provider.send_code(db, phone=phone, code=code)
        now = utcnow()
        challenge = await self._challenge(db, phone)
        if challenge is None:
            challenge = PhoneChallenge(phone_number=phone, failed_attempts=0)
            db.add(challenge)
        challenge.code_hash = self.code_hash(phone, code) if code else None
        challenge.sent_at = now
        challenge.expires_at = now + self.rules.ttl
        challenge.consumed_at = None
        await db.flush()

    async def consume(self, db: AsyncSession, *, phone: str, code: str, ip: str | None) -> None:
        """Accept and consume the right code (flushed), or count a failure against the phone
        and the client at `ip` and raise `WrongCode`. The count is flushed only: the caller
        keeps it with `keyturn.db.fail`, or resending would buy more guesses.

        With a provider that owns the code (Twilio Verify) the check waits on the provider
        with no transaction open (`end_read`): call this before writing anything. Parallel
        guesses may then all reach the provider before they are counted; Twilio's own limit
        (5 checks per code) bounds them."""
        client = self._client_key(ip)
        right = False
        if self.provider.owns_code:
            self._refuse_unless_open(await self._challenge(db, phone), client)
            await end_read(db)
            right = await self.provider.check_code(phone=phone, code=code)
        challenge = await self._challenge(db, phone)
        self._refuse_unless_open(challenge, client)
        assert challenge is not None
        if not self.provider.owns_code and challenge.code_hash is not None:
            right = hmac.compare_digest(challenge.code_hash, self.code_hash(phone, code))
        self._record(challenge, client, failed=not right)
        if not right:
            await db.flush()
            remaining = self._remaining(challenge, client, utcnow())
            raise WrongCode("Wrong code.", attempts_remaining=remaining)
        challenge.consumed_at = utcnow()
        await db.flush()
