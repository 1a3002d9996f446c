"""One-time SMS codes: issue, check, consume.

Codes are 6 digits from `secrets`, stored as an HMAC keyed with the server secret, compared in
constant time, valid 5 minutes, single use. Failures count per phone across resends until
`otp.failure_window` after the first one; after `otp.max_attempts` the phone is locked out.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.auth.models import PhoneChallenge
from keyturn.config import Settings
from keyturn.db import utcnow
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
    settings: Settings
    secret: bytes
    provider: SmsProvider

    def _hash(self, phone: str, code: str) -> str:
        return hmac.new(self.secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def _challenge(self, db: AsyncSession, phone: str) -> PhoneChallenge | None:
        return await db.scalar(
            select(PhoneChallenge).where(PhoneChallenge.phone_number == phone).with_for_update()
        )

    def _reset_stale_failures(self, challenge: PhoneChallenge) -> None:
        window = self.settings.otp.failure_window
        if challenge.first_failed_at and utcnow() - challenge.first_failed_at >= window:
            challenge.failed_attempts = 0
            challenge.first_failed_at = None

    def _locked_for(self, challenge: PhoneChallenge) -> int:
        """Seconds this phone stays locked out, 0 if it may try."""
        if challenge.failed_attempts < self.settings.otp.max_attempts:
            return 0
        assert challenge.first_failed_at is not None
        ends = challenge.first_failed_at + self.settings.otp.failure_window
        return max(1, math.ceil((ends - utcnow()).total_seconds()))

    async def check_cooldown(self, db: AsyncSession, *, phone: str) -> None:
        """Refuse a resend within the cooldown (and lock the phone's row until commit)."""
        now = utcnow()
        challenge = await self._challenge(db, phone)
        cooldown = self.settings.otp.resend_cooldown
        if challenge and challenge.consumed_at is None and now - challenge.sent_at < cooldown:
            wait = math.ceil((challenge.sent_at + cooldown - now).total_seconds())
            metrics.rate_limited("otp-cooldown")
            raise ResendTooSoon("A code was just sent; wait before asking again.", retry_after=wait)

    async def issue(self, db: AsyncSession, *, phone: str) -> None:
        """Create or replace the phone's challenge and send the code (flushed, not committed).
        Call `check_cooldown` first, in the same transaction."""
        now = utcnow()
        challenge = await self._challenge(db, phone)
        if challenge is None:
            challenge = PhoneChallenge(phone_number=phone, failed_attempts=0)
            db.add(challenge)
        else:
            self._reset_stale_failures(challenge)
        code = None if self.provider.owns_code else f"{secrets.randbelow(10**6):06d}"
        challenge.code_hash = self._hash(phone, code) if code else None
        challenge.sent_at = now
        challenge.expires_at = now + self.settings.otp.ttl
        challenge.consumed_at = None
        await db.flush()
        await self.provider.send_code(db, phone=phone, code=code)

    async def consume(self, db: AsyncSession, *, phone: str, code: str) -> None:
        """Accept and consume the right code (flushed), or count a failure and raise `WrongCode`.
        The count is flushed only: the caller keeps it with `keyturn.db.fail`, or resending
        would buy more guesses."""
        challenge = await self._challenge(db, phone)
        if challenge is None or challenge.consumed_at is not None:
            raise WrongCode("Invalid or expired code; ask for a new one.", attempts_remaining=0)
        self._reset_stale_failures(challenge)
        locked = self._locked_for(challenge)
        if locked:
            metrics.rate_limited("otp-attempts")
            raise TooManyAttempts("Too many wrong codes; try again later.", retry_after=locked)
        if challenge.expires_at <= utcnow():
            raise WrongCode(
                "The code has expired; ask for a new one.",
                expired=True,
                attempts_remaining=self._remaining(challenge),
            )
        if not await self._matches(challenge, phone, code):
            challenge.failed_attempts += 1
            challenge.first_failed_at = challenge.first_failed_at or utcnow()
            await db.flush()
            raise WrongCode("Wrong code.", attempts_remaining=self._remaining(challenge))
        challenge.consumed_at = utcnow()
        challenge.failed_attempts = 0
        challenge.first_failed_at = None
        await db.flush()

    def _remaining(self, challenge: PhoneChallenge) -> int:
        return max(0, self.settings.otp.max_attempts - challenge.failed_attempts)

    async def _matches(self, challenge: PhoneChallenge, phone: str, code: str) -> bool:
        if self.provider.owns_code:
            return await self.provider.check_code(phone=phone, code=code)
        if challenge.code_hash is None:
            return False
        return hmac.compare_digest(challenge.code_hash, self._hash(phone, code))
