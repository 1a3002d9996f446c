"""Step-up (RFC 9470): actions that could take an account over need a recent proof of
identity, the access token's `auth_time`, at most `tokens.step_up_max_age` old. Otherwise the
answer is 401 `insufficient_user_authentication` naming the methods this account can prove
itself with, and `reauthenticate` renews the proof in the same session.

The check reads the token only (no database work while it passes), so an older token stays
refused even after its session re-authenticated: a stolen one cannot step up."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.mfa import proof as second_factor
from keyturn.auth.mfa import service as mfa
from keyturn.auth.mfa.cipher import TotpCipher
from keyturn.auth.mfa.proof import SecondFactorNotEnabled, WrongRecoveryCode, WrongTotpCode
from keyturn.auth.mfa.throttle import SecondFactorThrottled
from keyturn.auth.oauth import manage as linked
from keyturn.auth.oauth import service as identities
from keyturn.auth.oauth.clients import OAuth
from keyturn.auth.oauth.idtoken import InvalidIdToken
from keyturn.auth.passkeys import service as passkeys
from keyturn.auth.password import hashing
from keyturn.auth.phone.otp import Otp, TooManyAttempts, WrongCode
from keyturn.auth.signin import SignInContext
from keyturn.auth.stepup.schemas import (
    PasskeyProof,
    PasswordProof,
    Proof,
    ProviderProof,
    ReauthenticatedOut,
    RecoveryCodeProof,
    SmsProof,
    TotpProof,
)
from keyturn.auth.throttles import Throttles
from keyturn.config import API_PREFIX, MfaSettings, PasskeySettings, Settings
from keyturn.db import end_read, fail, utcnow
from keyturn.errors import BadRequest, Unauthorized
from keyturn.sessions import live
from keyturn.sessions import service as sessions
from keyturn.users import service as users
from keyturn.users.models import User


class InsufficientAuthentication(Unauthorized):
    """The action needs a more recent proof of identity; re-authenticate (RFC 9470)."""

    code = "auth.insufficient_user_authentication"

    def __init__(self, detail: str, *, max_age: int, methods: list[str]) -> None:
        super().__init__(
            detail,
            max_age=max_age,
            methods=methods,
            reauthenticate=f"{API_PREFIX}/auth/reauthenticate",
        )
        self.headers["WWW-Authenticate"] = (
            f'Bearer error="insufficient_user_authentication", max_age={max_age}'
        )


class ReauthenticationFailed(BadRequest):
    """The password given to re-authenticate is wrong; the session stays as it was."""

    code = "auth.reauthentication_failed"


class MethodUnavailable(BadRequest):
    """The account has no such way to prove who it is (no password, phone, passkey or app)."""

    code = "auth.reauthentication_method_unavailable"


async def require_recent(db: AsyncSession, settings: Settings, *, caller: live.Principal) -> None:
    """Pass if the caller's token proves identity recently enough, else refuse (401)."""
    max_age = int(settings.tokens.step_up_max_age.total_seconds())
    if utcnow().timestamp() - caller.auth_time <= max_age:
        return
    user = await users.get_user(db, caller.user_id)
    raise InsufficientAuthentication(
        f"Confirm it is you: sign-in proof older than {max_age // 60} minutes. "
        "Re-authenticate with one of `methods`, then retry with the new access token.",
        max_age=max_age,
        methods=await methods_for(db, user),
    )


async def methods_for(db: AsyncSession, user: User) -> list[str]:
    """The ways this account can prove who it is again (`method` of `reauthenticate`)."""
    methods = []
    if user.password_hash is not None:
        methods.append("password")
    if user.phone_number is not None:
        methods.append("sms")
    if await passkeys.has_passkeys(db, user_id=user.id):
        methods.append("passkey")
    if await second_factor.enabled(db, user_id=user.id):
        methods += ["totp", "recovery_code"]
    methods += await linked.linked_providers(db, user_id=user.id)
    return methods


async def reauthenticate(
    db: AsyncSession,
    *,
    context: SignInContext,
    otp: Otp,
    cipher: TotpCipher,
    oauth: OAuth,
    rp: PasskeySettings,
    caller: live.Principal,
    proof: Proof,
    ip: str | None,
) -> ReauthenticatedOut:
    """Check the proof, renew the session's `auth_time` and `amr`, issue an access token."""
    user = await users.get_user(db, caller.user_id)
    throttles = context.throttles
    if isinstance(proof, PasswordProof):
        amr = await _password(db, throttles, caller, user, proof.password, ip)
    elif isinstance(proof, SmsProof):
        amr = await _sms(db, throttles, otp, caller, user, proof.verification_code, ip)
    elif isinstance(proof, ProviderProof):
        amr = await _provider(db, oauth, caller, proof, ip)
    elif isinstance(proof, PasskeyProof):
        amr = await passkeys.prove(
            db, rp=rp, caller=caller, credential=proof.credential.model_dump(), ip=ip
        )
    else:
        amr = await _second_factor(db, context.mfa, cipher, caller, user, proof, ip)
    token = await sessions.record_proof(db, context.issuer, caller=caller, amr=amr)
    audit.record(
        db,
        "session.reauthenticated",
        user_id=user.id,
        session_id=caller.session_id,
        ip=ip,
        method=proof.method,
    )
    await db.commit()
    return ReauthenticatedOut(
        access_token=token.access_token,
        expires_in=token.expires_in,
        session_id=token.session_id,
        auth_time=token.auth_time,
        amr=list(token.amr),
    )


async def _password(
    db: AsyncSession,
    throttles: Throttles,
    caller: live.Principal,
    user: User,
    password: str,
    ip: str | None,
) -> tuple[str, ...]:
    if user.password_hash is None:
        raise MethodUnavailable("This account has no password; use another method.")
    account = user.email or f"user:{user.id}"
    await throttles.login_attempt(market=caller.market, account=account, ip=ip)
    await end_read(db)
    ok, _ = await hashing.check_password(password, user.password_hash)
    if not ok:
        await throttles.login_failed(ip=ip)
        await _failed(db, caller, ip, "password", ReauthenticationFailed("Wrong password."))
    await throttles.login_succeeded(market=caller.market, account=account)
    return ("pwd",)


async def _sms(
    db: AsyncSession,
    throttles: Throttles,
    otp: Otp,
    caller: live.Principal,
    user: User,
    code: str,
    ip: str | None,
) -> tuple[str, ...]:
    if user.phone_number is None:
        raise MethodUnavailable("This account has no phone number; use another method.")
    await throttles.code_guess(ip=ip)
    try:
        await otp.consume(db, phone=user.phone_number, code=code, ip=ip)
    except (WrongCode, TooManyAttempts) as refused:
        await _failed(db, caller, ip, "sms", refused)
    return ("sms",)


async def _second_factor(
    db: AsyncSession,
    rules: MfaSettings,
    cipher: TotpCipher,
    caller: live.Principal,
    user: User,
    proof: TotpProof | RecoveryCodeProof,
    ip: str | None,
) -> tuple[str, ...]:
    """An authenticator or recovery code, checked and throttled as at sign-in's second step."""
    try:
        used = await second_factor.check(
            db,
            rules,
            cipher,
            user_id=user.id,
            ip=ip,
            code=proof.code if isinstance(proof, TotpProof) else None,
            recovery_code=proof.recovery_code if isinstance(proof, RecoveryCodeProof) else None,
        )
    except SecondFactorNotEnabled:
        raise MethodUnavailable(
            "This account has no authenticator app; use another method."
        ) from None
    except (WrongTotpCode, WrongRecoveryCode, SecondFactorThrottled) as refused:
        await _failed(db, caller, ip, proof.method, refused)
    if used == "recovery_code":
        await mfa.recovery_code_used(db, user=user, ip=ip)
    return second_factor.AMR


async def _provider(
    db: AsyncSession,
    oauth: OAuth,
    caller: live.Principal,
    proof: ProviderProof,
    ip: str | None,
) -> tuple[str, ...]:
    await end_read(db)  # the provider's keys may be fetched: no transaction waits on it
    try:
        return await identities.prove(
            db,
            oauth,
            user_id=caller.user_id,
            provider=proof.method,
            id_token=proof.id_token,
            nonce=proof.nonce,
        )
    except (InvalidIdToken, identities.IdentityNotYours) as refused:
        await _failed(db, caller, ip, proof.method, refused)


async def _failed(
    db: AsyncSession, caller: live.Principal, ip: str | None, method: str, error: Exception
) -> NoReturn:
    audit.record(
        db,
        "session.reauthentication_failed",
        user_id=caller.user_id,
        session_id=caller.session_id,
        ip=ip,
        method=method,
    )
    await fail(db, error)
