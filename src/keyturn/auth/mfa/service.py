"""Adding and managing second factors (docs/second-factors.md): enrol an authenticator app
(the secret counts only once a code from the app confirms it), recovery codes, removal, and
an administrator's reset. Signing in with them is `second_step`."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.mfa import pending, proof, recovery, totp
from keyturn.auth.mfa.cipher import TotpCipher
from keyturn.auth.mfa.proof import SecondFactorNotEnabled, WrongTotpCode
from keyturn.auth.mfa.schemas import MfaResetOut, MfaStatusOut, RecoveryCodesOut, TotpEnrolmentOut
from keyturn.auth.models import TotpFactor
from keyturn.auth.schemas import MessageOut
from keyturn.config import Settings
from keyturn.db import fail, utcnow
from keyturn.errors import Conflict
from keyturn.events import service as events
from keyturn.notices import service as notices
from keyturn.sessions import live
from keyturn.users import service as users
from keyturn.users.models import User

METHODS = ["totp", "recovery_code"]
APP = "authenticator app"  # how the owner's notices name the factor


class SecondFactorAlreadyEnabled(Conflict):
    """The account already has an authenticator app; remove it before adding another."""

    code = "mfa.already_enabled"


class NoEnrolment(Conflict):
    """There is no enrolment to confirm: start one with `POST /profile/mfa/totp`."""

    code = "mfa.no_enrolment"


class EnrolmentExpired(Conflict):
    """The enrolment was not confirmed in time; start again."""

    code = "mfa.enrolment_expired"


async def status(db: AsyncSession, *, caller: live.Principal) -> MfaStatusOut:
    factor = await proof.find_factor(db, user_id=caller.user_id)
    enabled = factor is not None and factor.confirmed_at is not None
    return MfaStatusOut(
        totp_enabled=enabled,
        totp_pending=factor is not None and not enabled,
        enabled_at=factor.confirmed_at if factor else None,
        last_used_at=factor.last_used_at if factor else None,
        recovery_codes_remaining=await recovery.remaining(db, user_id=caller.user_id),
        methods=METHODS if enabled else [],
    )


async def start_totp(
    db: AsyncSession, *, settings: Settings, cipher: TotpCipher, caller: live.Principal
) -> TotpEnrolmentOut:
    """A new secret for the app to scan; it counts once `confirm_totp` sees one of its codes.
    Starting again replaces an unconfirmed secret."""
    user = await users.get_user(db, caller.user_id)
    factor = await proof.locked_factor(db, user_id=user.id)
    if factor is not None and factor.confirmed_at is not None:
        raise SecondFactorAlreadyEnabled("An authenticator app is already set up; remove it first.")
    if factor is None:
        factor = TotpFactor(user_id=user.id, failed_attempts=0, client_failures={})
        db.add(factor)
    secret = totp.new_secret()
    factor.secret = cipher.seal(secret, user_id=user.id)
    factor.created_at = utcnow()
    factor.last_used_step = None
    try:
        await db.commit()
    except IntegrityError:  # a parallel start made the row first
        raise Conflict("An enrolment was started at the same time; try again.") from None
    uri = totp.otpauth_uri(secret, account=_account_name(user), issuer=settings.mfa.issuer)
    return TotpEnrolmentOut(
        secret=secret,
        otpauth_uri=uri,
        qr_svg=totp.qr_svg(uri),
        expires_in=int(settings.mfa.enrolment_ttl.total_seconds()),
    )


def _account_name(user: User) -> str:
    """How the app labels the account: what the person signs in with."""
    return user.email or user.phone_number or f"user {user.id}"


async def confirm_totp(
    db: AsyncSession,
    *,
    settings: Settings,
    cipher: TotpCipher,
    caller: live.Principal,
    code: str,
    ip: str | None,
) -> RecoveryCodesOut:
    """A right code from the app turns the factor on and returns 10 recovery codes, once."""
    factor = await proof.locked_factor(db, user_id=caller.user_id)
    if factor is None:
        raise NoEnrolment(
            "No authenticator app is being set up; start with POST /profile/mfa/totp."
        )
    if factor.confirmed_at is not None:
        raise SecondFactorAlreadyEnabled("The authenticator app is already set up.")
    if factor.created_at + settings.mfa.enrolment_ttl <= utcnow():
        await db.delete(factor)
        await fail(db, EnrolmentExpired("The set-up took too long; start again."))
    secret = cipher.open(factor.secret, user_id=caller.user_id)
    step = totp.matching_step(secret, code, after=None)
    if step is None:
        raise WrongTotpCode("Wrong code; enter the code your app shows now.")
    factor.confirmed_at = factor.last_used_at = utcnow()
    factor.last_used_step = step
    codes = await recovery.replace(db, user_id=caller.user_id)
    user = await users.get_user(db, caller.user_id)
    audit.record(
        db, "mfa.enabled", user_id=user.id, session_id=caller.session_id, ip=ip, factor="totp"
    )
    events.emit(db, "second_factor.added", {"user_id": user.id, "factor": "totp"})
    notices.queue(
        db, user=user, kind="second_factor_added", details={"device": APP, "factor_id": factor.id}
    )
    await db.commit()
    return RecoveryCodesOut(
        message="Two-step sign-in is on. Keep these recovery codes somewhere safe.",
        recovery_codes=codes,
    )


async def remove_totp(db: AsyncSession, *, caller: live.Principal, ip: str | None) -> MessageOut:
    """Turn the second factor off: the app's secret and the recovery codes go."""
    factor = await proof.locked_factor(db, user_id=caller.user_id)
    if factor is None:
        raise SecondFactorNotEnabled("This account has no authenticator app.")
    user = await users.get_user(db, caller.user_id)
    if await remove_all(db, user_id=user.id, reason="removed_by_user"):
        audit.record(
            db, "mfa.disabled", user_id=user.id, session_id=caller.session_id, ip=ip, factor="totp"
        )
        notices.queue(db, user=user, kind="second_factor_removed", details={"device": APP})
    await db.commit()
    return MessageOut(message="The authenticator app and the recovery codes were removed.")


async def replace_recovery_codes(
    db: AsyncSession, *, caller: live.Principal, ip: str | None
) -> RecoveryCodesOut:
    """A new set of 10 codes; the old ones stop working."""
    factor = await proof.locked_factor(db, user_id=caller.user_id)
    if factor is None or factor.confirmed_at is None:
        raise SecondFactorNotEnabled("Recovery codes come with an authenticator app; add one.")
    codes = await recovery.replace(db, user_id=caller.user_id)
    user = await users.get_user(db, caller.user_id)
    audit.record(
        db, "mfa.recovery_codes_replaced", user_id=user.id, session_id=caller.session_id, ip=ip
    )
    notices.queue(db, user=user, kind="recovery_codes_replaced")
    await db.commit()
    return RecoveryCodesOut(
        message="New recovery codes; the old ones no longer work.", recovery_codes=codes
    )


async def admin_reset(db: AsyncSession, *, user_id: int, admin_id: int) -> MfaResetOut:
    """For a customer who lost the app and the codes, once the shop verified them some other
    way: the second factor goes; their password or phone signs them in alone again."""
    user = await users.get_user(db, user_id)
    await proof.locked_factor(db, user_id=user.id)
    removed = await remove_all(db, user_id=user.id, reason="reset_by_admin")
    audit.record(db, "mfa.reset", user_id=user.id, by=admin_id, removed=removed)
    if removed:
        notices.queue(
            db, user=user, kind="second_factor_removed", details={"device": "reset by the shop"}
        )
    await db.commit()
    return MfaResetOut(
        message="Second factor removed." if removed else "The account had no second factor.",
        user_id=user.id,
        removed=removed,
    )


async def remove_all(db: AsyncSession, *, user_id: int, reason: str) -> bool:
    """Every second-factor row of the user: the app, its codes, sign-ins waiting for it
    (flushed); whether there was a confirmed app, which `second_factor.removed` announces
    with `reason` (an enrolment never confirmed was no way in). Also what a first proof of
    the account's email removes (`auth.ways_in`)."""
    confirmed = await db.scalars(
        delete(TotpFactor).where(TotpFactor.user_id == user_id).returning(TotpFactor.confirmed_at)
    )
    removed = any(at is not None for at in confirmed)
    await recovery.remove(db, user_id=user_id)
    await pending.remove_all(db, user_id=user_id)
    await db.flush()
    if removed:
        events.emit(
            db, "second_factor.removed", {"user_id": user_id, "factor": "totp", "reason": reason}
        )
    return removed


async def recovery_code_used(db: AsyncSession, *, user: User, ip: str | None) -> None:
    """Audit and tell the owner that a recovery code was spent, and how many are left."""
    remaining = await recovery.remaining(db, user_id=user.id)
    audit.record(db, "mfa.recovery_code_used", user_id=user.id, ip=ip, remaining=remaining)
    notices.queue(db, user=user, kind="recovery_code_used", details={"remaining": remaining})
