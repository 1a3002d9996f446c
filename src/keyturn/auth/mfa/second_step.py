"""The second step of a sign-in (docs/second-factors.md). A method that proves one factor
(password, phone code) calls `begin` instead of `signin.complete_sign_in` when the account
has a second factor: no session yet, an `mfa_token` instead. `verify` checks the
authenticator or recovery code against it and then completes the sign-in as the first method
would have, with both factors in `amr` (`pwd` or `sms`, `otp`, `mfa`). A passkey is two
factors on its own and skips this."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.auth import signin
from keyturn.auth.mfa import pending, proof
from keyturn.auth.mfa.cipher import TotpCipher
from keyturn.auth.mfa.pending import MfaTokenExpired, MfaTokenInvalid
from keyturn.auth.mfa.proof import SecondFactorNotEnabled, WrongRecoveryCode, WrongTotpCode
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.mfa.service import METHODS, recovery_code_used
from keyturn.auth.mfa.throttle import SecondFactorThrottled
from keyturn.auth.models import MfaChallenge
from keyturn.auth.schemas import TokenResponse
from keyturn.config import MfaSettings
from keyturn.db import fail
from keyturn.errors import AppError
from keyturn.sessions import devices
from keyturn.sessions import service as sessions
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users
from keyturn.users.models import User


async def complete_sign_in(
    db: AsyncSession,
    context: signin.SignInContext,
    *,
    user: User,
    market: str,
    method: str,
    device: devices.Device,
    guest_claims: AccessClaims | None,
    is_new_user: bool,
    **audit_details: object,
) -> TokenResponse | MfaRequiredOut:
    """`signin.complete_sign_in` for a method that proves one factor, unless the account has
    a second factor: then no session, but an `mfa_token` for `verify` (commits either way)."""
    if not is_new_user and await proof.enabled(db, user_id=user.id):
        return await begin(
            db,
            context.mfa,
            user=user,
            market=market,
            method=method,
            device=device,
            guest_claims=guest_claims,
        )
    return await signin.complete_sign_in(
        db,
        context.issuer,
        user=user,
        market=market,
        method=method,
        device=device,
        guest_claims=guest_claims,
        is_new_user=is_new_user,
        amr=None,
        **audit_details,
    )


async def begin(
    db: AsyncSession,
    rules: MfaSettings,
    *,
    user: User,
    market: str,
    method: str,
    device: devices.Device,
    guest_claims: AccessClaims | None,
) -> MfaRequiredOut:
    """The first factor `method` was right: hand out the `mfa_token` (commits)."""
    token = await pending.issue(
        db, rules, user_id=user.id, method=method, device=device, guest_claims=guest_claims
    )
    audit.record(db, "login.second_factor_required", user_id=user.id, ip=device.ip, method=method)
    await db.commit()
    metrics.sign_in(market, method, "second_factor")
    return MfaRequiredOut(
        mfa_token=token,
        methods=METHODS,
        expires_in=int(rules.token_ttl.total_seconds()),
        message="Enter the code from your authenticator app, or a recovery code.",
    )


async def verify(
    db: AsyncSession,
    *,
    context: signin.SignInContext,
    cipher: TotpCipher,
    market: str,
    mfa_token: str,
    code: str | None,
    recovery_code: str | None,
    device: devices.Device,
) -> TokenResponse:
    """Finish the sign-in `mfa_token` began: the session opens only after a right code."""
    try:
        challenge = await pending.take(db, token=mfa_token, device=device)
    except (MfaTokenInvalid, MfaTokenExpired) as refused:
        metrics.sign_in(market, "mfa", "token_invalid")
        await fail(db, refused)
    user = await users.get_user(db, challenge.user_id)
    await signin.refuse_if_disabled(db, user=user, method=challenge.method, ip=device.ip)
    try:
        used = await proof.check(
            db,
            context.mfa,
            cipher,
            user_id=user.id,
            ip=device.ip,
            code=code,
            recovery_code=recovery_code,
        )
    except (WrongTotpCode, WrongRecoveryCode, SecondFactorThrottled, SecondFactorNotEnabled) as e:
        await _refused(db, context.mfa, challenge, market=market, ip=device.ip, error=e)
    await db.delete(challenge)
    if used == "recovery_code":
        await recovery_code_used(db, user=user, ip=device.ip)
    return await signin.complete_sign_in(
        db,
        context.issuer,
        user=user,
        market=market,
        method=challenge.method,
        device=devices.Device(
            name=challenge.device_name, user_agent=challenge.user_agent, ip=device.ip
        ),
        guest_claims=pending.guest_claims(challenge, market=market),
        is_new_user=False,
        amr=sessions.combined_amr(signin.METHOD_AMR[challenge.method], proof.AMR),
        second_factor=used,
    )


async def _refused(
    db: AsyncSession,
    rules: MfaSettings,
    challenge: MfaChallenge,
    *,
    market: str,
    ip: str | None,
    error: AppError,
) -> NoReturn:
    """Spend one of the token's tries (the last one ends it), audit, keep the counts, raise."""
    if isinstance(error, WrongTotpCode | WrongRecoveryCode):
        challenge.attempts += 1
        left = rules.token_attempts - challenge.attempts
        error.extra["attempts_remaining"] = max(0, min(left, error.extra["attempts_remaining"]))
        if left <= 0:
            await db.delete(challenge)
        metrics.sign_in(market, "mfa", "wrong_code")
    else:
        metrics.sign_in(market, "mfa", "throttled")
    audit.record(
        db,
        "login.failed",
        user_id=challenge.user_id,
        ip=ip,
        method=challenge.method,
        reason=error.code,
    )
    await fail(db, error)
