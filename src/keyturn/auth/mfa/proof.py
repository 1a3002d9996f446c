"""Checking a second factor: an authenticator code or a recovery code, for the second step of
a sign-in and for re-authentication. The account's factor row is locked for the check, so
parallel guesses queue, a time step is spent once, and wrong codes are counted (`throttle`)."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth.mfa import recovery, throttle, totp
from keyturn.auth.mfa.cipher import TotpCipher
from keyturn.auth.models import TotpFactor
from keyturn.config import MfaSettings
from keyturn.db import utcnow
from keyturn.errors import BadRequest, Conflict

SecondFactor = Literal["totp", "recovery_code"]
# What either proves (RFC 8176): a one-time password; `mfa` comes with the first factor.
AMR = ("otp",)


class WrongTotpCode(BadRequest):
    """The authenticator code is wrong, or its time step was already used; wait for the next."""

    code = "mfa.code_invalid"


class WrongRecoveryCode(BadRequest):
    """The recovery code is not one of the account's unused codes."""

    code = "mfa.recovery_code_invalid"


class SecondFactorNotEnabled(Conflict):
    """The account has no authenticator app (none added, or its enrolment is unconfirmed)."""

    code = "mfa.not_enabled"


async def enabled(db: AsyncSession, *, user_id: int) -> bool:
    """Whether signing in to this account takes a second factor (one indexed read)."""
    query = select(
        exists().where(TotpFactor.user_id == user_id, TotpFactor.confirmed_at.is_not(None))
    )
    return bool(await db.scalar(query))


async def find_factor(db: AsyncSession, *, user_id: int) -> TotpFactor | None:
    return await db.scalar(select(TotpFactor).where(TotpFactor.user_id == user_id))


async def locked_factor(db: AsyncSession, *, user_id: int) -> TotpFactor | None:
    """The user's factor row (confirmed or not), locked until the transaction ends."""
    return await db.scalar(
        select(TotpFactor).where(TotpFactor.user_id == user_id).with_for_update()
    )


async def check(
    db: AsyncSession,
    rules: MfaSettings,
    cipher: TotpCipher,
    *,
    user_id: int,
    ip: str | None,
    code: str | None,
    recovery_code: str | None,
) -> SecondFactor:
    """Accept one of `code` or `recovery_code` and spend it (flushed), or count the failure
    (flushed: the caller keeps it with `fail`) and raise with `attempts_remaining`."""
    factor = await locked_factor(db, user_id=user_id)
    if factor is None or factor.confirmed_at is None:
        raise SecondFactorNotEnabled("This account has no second factor.")
    client = throttle.client_key(cipher.tag_key, ip)
    throttle.refuse_if_throttled(factor, client, rules)
    used: SecondFactor
    if code is not None:
        used = "totp"
        secret = cipher.open(factor.secret, user_id=user_id)
        step = totp.matching_step(secret, code, after=factor.last_used_step)
        right = step is not None
        if right:
            factor.last_used_step, factor.last_used_at = step, utcnow()
    else:
        assert recovery_code is not None
        used = "recovery_code"
        right = await recovery.spend(db, user_id=user_id, code=recovery_code)
    left = throttle.record(factor, client, rules, failed=not right)
    await db.flush()
    if right:
        return used
    if used == "totp":
        raise WrongTotpCode(
            "Wrong code, or one already used; enter the next code your app shows.",
            attempts_remaining=left,
        )
    raise WrongRecoveryCode("That recovery code is wrong or used.", attempts_remaining=left)
