"""Proving a mailbox (docs/email-proof.md): an email counts only once its owner answered the
code sent to it. Claiming an address for an account attaches nothing until then, so a
stranger's claim never lands in, or blocks, the mailbox owner's account; and the claim's
answer is the same for every address, so it does not tell which ones have accounts.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.linking import service as linking
from keyturn.auth.models import EmailProof
from keyturn.auth.password import hashing, strength
from keyturn.auth.phone.otp import Otp
from keyturn.auth.schemas import EmailProofSent
from keyturn.auth.throttles import Throttles
from keyturn.config import Settings
from keyturn.contacts import normalize_email
from keyturn.db import end_read, fail, utcnow
from keyturn.errors import BadRequest, Conflict
from keyturn.logs import get_logger, mask_email
from keyturn.notify import email as mail
from keyturn.sessions import live
from keyturn.users import service as users
from keyturn.users.models import User
from keyturn.users.schemas import UserRead
from keyturn.users.service import EmailTaken

log = get_logger("keyturn.auth.linking")

SENT = "If this address can be added to your account, we have emailed it a code; enter it here."


class WrongEmailCode(BadRequest):
    """The emailed code is wrong, expired or used up (`attempts_remaining` says how many)."""

    code = "email.code_invalid"


class NoEmail(BadRequest):
    """The account has no email address to prove; add one with `POST /auth/link/email`."""

    code = "email.not_set"


class EmailAlreadyProven(Conflict):
    """The account's email address is already proven."""

    code = "email.already_verified"


def _code_subject(user_id: int, email: str) -> str:
    return f"email:{user_id}:{email}"


async def _open_proof(
    db: AsyncSession,
    *,
    settings: Settings,
    otp: Otp,
    user: User,
    email: str,
    password_hash: str | None,
) -> str:
    """Replace the account's open proof with a new one (flushed); the code to email."""
    await db.execute(delete(EmailProof).where(EmailProof.user_id == user.id))
    code = f"{secrets.randbelow(10**8):08d}"
    db.add(
        EmailProof(
            user_id=user.id,
            email=email,
            password_hash=password_hash,
            code_hash=otp.code_hash(_code_subject(user.id, email), code),
            expires_at=utcnow() + settings.email.proof_ttl,
            failed_attempts=0,
        )
    )
    await db.flush()
    return code


def _proof_email(settings: Settings, *, to: str, code: str) -> mail.Email:
    minutes = int(settings.email.proof_ttl.total_seconds() // 60)
    return mail.Email(
        to=to,
        subject="Your keyturn email code",
        body=f"Enter this code in the app within {minutes} minutes to prove this address is "
        f"yours:\n\n{code}\n\nIf you did not ask for it, ignore this email: nothing changes "
        "until the code is entered.",
        kind="email_proof",
        code=code,
    )


def _in_use_email(to: str) -> mail.Email:
    return mail.Email(
        to=to,
        subject="Someone tried to add your address to a keyturn account",
        body="Someone signed in to keyturn asked to add this address to their account. It "
        "already belongs to an account, so nothing changed and no code was sent.\n\n"
        "If it was you, sign in with this address instead, or reset its password.",
        kind="email_in_use",
    )


def _sent(settings: Settings) -> EmailProofSent:
    return EmailProofSent(message=SENT, expires_in=int(settings.email.proof_ttl.total_seconds()))


async def claim_email(
    db: AsyncSession,
    *,
    settings: Settings,
    throttles: Throttles,
    otp: Otp,
    caller: live.Principal,
    email: str,
    password: str,
    ip: str | None,
    defer: mail.Defer,
) -> EmailProofSent:
    """Email a code that adds `email` + `password` to the caller's account once answered.
    The password rules and the throttle come before the address is looked up, and the answer
    and its cost (one argon2 hash) are the same whether or not it has an account; if it has
    one, its owner gets a notice instead of a code."""
    email = normalize_email(email)
    user = await linking.linkable(db, caller)
    if user.email is not None:
        raise linking.AlreadyLinked("This account already has an email address.")
    password = strength.normalize(password)
    strength.check(password, personal=(email, user.full_name))
    await throttles.email_code(user_id=user.id, market=user.market, email=email, ip=ip)
    owner = await users.find_by_email(db, email)
    await end_read(db)
    password_hash = await hashing.hash_password(password)
    await db.refresh(user, with_for_update=True)  # one claim of this account at a time
    if user.email is not None:
        raise linking.AlreadyLinked("This account already has an email address.")
    if owner is None:
        code = await _open_proof(
            db, settings=settings, otp=otp, user=user, email=email, password_hash=password_hash
        )
        message = _proof_email(settings, to=email, code=code)
    else:
        await db.execute(delete(EmailProof).where(EmailProof.user_id == user.id))
        message = _in_use_email(email)
    await mail.make_mailer(settings).send(db, message, defer=defer)
    audit.record(
        db,
        "email.proof_requested",
        user_id=user.id,
        session_id=caller.session_id,
        ip=ip,
        email=mask_email(email),
    )
    await db.commit()
    log.info("email_claimed", user_id=user.id, email=mask_email(email))
    return _sent(settings)


async def send_email_proof(
    db: AsyncSession,
    *,
    settings: Settings,
    throttles: Throttles,
    otp: Otp,
    caller: live.Principal,
    ip: str | None,
    defer: mail.Defer,
) -> EmailProofSent:
    """Email a code that proves the caller's own address (it signs in before that, but a
    reset of a never-proven address removes every other way in: docs/email-proof.md)."""
    user = await linking.linkable(db, caller)
    if user.email is None:
        raise NoEmail("This account has no email address; add one with /auth/link/email.")
    if user.email_verified:
        raise EmailAlreadyProven("This account's email address is already proven.")
    await throttles.email_code(user_id=user.id, market=user.market, email=user.email, ip=ip)
    await db.refresh(user, with_for_update=True)  # one proof of this account at a time
    code = await _open_proof(
        db, settings=settings, otp=otp, user=user, email=user.email, password_hash=None
    )
    await mail.make_mailer(settings).send(
        db, _proof_email(settings, to=user.email, code=code), defer=defer
    )
    await db.commit()
    return _sent(settings)


async def _spend_code(
    db: AsyncSession, *, settings: Settings, otp: Otp, user: User, code: str
) -> EmailProof:
    """The caller's open proof if `code` answers it (deleted, flushed); else count a wrong
    answer, keep the count (`fail`) and refuse."""
    proof = await db.scalar(
        select(EmailProof).where(EmailProof.user_id == user.id).with_for_update()
    )
    limit = settings.email.proof_max_attempts
    if proof is None or proof.expires_at <= utcnow() or proof.failed_attempts >= limit:
        raise WrongEmailCode(
            "No open code for this account; ask for a new one.", attempts_remaining=0
        )
    expected = otp.code_hash(_code_subject(user.id, proof.email), code)
    if not hmac.compare_digest(proof.code_hash, expected):
        proof.failed_attempts += 1
        await db.flush()
        remaining = max(0, limit - proof.failed_attempts)
        await fail(db, WrongEmailCode("Wrong code.", attempts_remaining=remaining))
    await db.delete(proof)
    await db.flush()
    return proof


async def verify_email(
    db: AsyncSession,
    *,
    settings: Settings,
    otp: Otp,
    caller: live.Principal,
    code: str,
    ip: str | None,
) -> UserRead:
    """Answer the emailed code: the claimed address (and its password) joins the account,
    or the account's own address is proven. Either way `email_verified` is true."""
    user = await linking.linkable(db, caller)
    proof = await _spend_code(db, settings=settings, otp=otp, user=user, code=code)
    taken = EmailTaken("Another account uses this email address.")
    if proof.password_hash is None:  # the account's own address
        if user.email != proof.email:
            raise WrongEmailCode("This code was for another address.", attempts_remaining=0)
        user.email_verified = True
        users.announce(db, "user.updated", user, changed=["email_verified"])
        audit.record(db, "email.verified", user_id=user.id, session_id=caller.session_id, ip=ip)
        await db.commit()
        return UserRead.model_validate(user)
    if user.email is not None:
        raise linking.AlreadyLinked("This account already has an email address.")
    if await users.find_by_email(db, proof.email) is not None:
        raise taken
    user.email = proof.email
    user.password_hash = proof.password_hash
    user.email_verified = True
    await linking.commit_link(db, user=user, caller=caller, ip=ip, method="email", taken=taken)
    log.info("email_linked", user_id=user.id, email=mask_email(proof.email))
    return UserRead.model_validate(user)
