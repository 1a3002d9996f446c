"""Account linking: an email user adds a phone proven by an SMS code; a phone user adds email +
password proven by an emailed code (`linking.email`). Afterwards both sign-ins reach the same
user id and everything it owns.

A phone is checked against other accounts only once its code is proven, so nobody learns
which numbers have accounts without holding the phone. Conflicts are 409 and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.phone import service as phone_code
from keyturn.auth.phone.otp import Otp, WrongCode
from keyturn.auth.schemas import SendVerificationOut
from keyturn.auth.throttles import Throttles
from keyturn.contacts import normalize_phone
from keyturn.db import fail
from keyturn.errors import Conflict, Forbidden
from keyturn.logs import get_logger, mask_email, mask_phone
from keyturn.markets import Market
from keyturn.notices import service as notices
from keyturn.sessions import live
from keyturn.users import service as users
from keyturn.users.models import User
from keyturn.users.schemas import UserRead
from keyturn.users.service import PhoneTaken

log = get_logger("keyturn.auth.linking")

# A linked method → the user field it fills, the security notice, how the notice masks the
# address, and the channel that must not carry it (the one just added).
LINKED: dict[str, tuple[str, str, Callable[[str], str], str]] = {
    "email": ("email", "email_changed", mask_email, "email"),
    "phone": ("phone_number", "phone_changed", mask_phone, "sms"),
}


class AlreadyLinked(Conflict):
    """The account already has an email (or a phone); changing it is not linking."""

    code = "account.already_linked"


class GuestCannotLink(Forbidden):
    """A guest session has no account to link to; register or sign in instead."""

    code = "auth.guest_not_allowed"


async def linkable(db: AsyncSession, caller: live.Principal) -> User:
    user = await users.get_user(db, caller.user_id)
    if user.role == "guest":
        raise GuestCannotLink("Guests register or sign in instead of linking.")
    return user


async def commit_link(
    db: AsyncSession,
    *,
    user: User,
    caller: live.Principal,
    ip: str | None,
    method: str,
    taken: Conflict,
) -> None:
    """Announce, audit and commit a link; a concurrent claim of the same email/phone raises
    `taken`. The owner is told on the way in the account had before, not the one just added."""
    field, kind, masked, told_by = LINKED[method]
    users.announce(db, "user.updated", user, changed=[field])
    address = getattr(user, field)
    notices.queue(db, user=user, kind=kind, details={"address": masked(address)}, not_to=told_by)
    audit.record(
        db, "account.linked", user_id=user.id, session_id=caller.session_id, ip=ip, method=method
    )
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise taken from None


async def send_phone_code(
    db: AsyncSession,
    *,
    throttles: Throttles,
    otp: Otp,
    market: Market,
    caller: live.Principal,
    raw_phone: str,
    ip: str | None,
) -> SendVerificationOut:
    """Text a code to the phone the caller wants to add (same budget as sign-in codes)."""
    number, region = phone_code.sms_number(raw_phone, market.config)
    user = await linkable(db, caller)
    if user.phone_number is not None:
        raise AlreadyLinked("This account already has a phone number.")
    sent = await phone_code.send_code(
        db, throttles=throttles, otp=otp, number=number, region=region, ip=ip
    )
    await db.commit()
    return sent


async def verify_phone(
    db: AsyncSession,
    *,
    throttles: Throttles,
    otp: Otp,
    market: Market,
    caller: live.Principal,
    raw_phone: str,
    code: str,
    ip: str | None,
) -> UserRead:
    """Prove the phone with its code and add it to the caller's account."""
    number, _ = normalize_phone(raw_phone, market.config.country)
    user = await linkable(db, caller)
    if user.phone_number is not None:
        raise AlreadyLinked("This account already has a phone number.")
    await throttles.code_guess(ip=ip)
    try:
        await otp.consume(db, phone=number, code=code, ip=ip)
    except WrongCode as refused:
        await fail(db, refused)
    owner = await users.find_by_phone(db, number)
    if owner is not None and owner.id != user.id:
        raise PhoneTaken("Another account signs in with this phone number.")
    user.phone_number = number
    user.is_verified = True
    await commit_link(
        db,
        user=user,
        caller=caller,
        ip=ip,
        method="phone",
        taken=PhoneTaken("Another account signs in with this phone number."),
    )
    log.info("phone_linked", user_id=user.id, phone=mask_phone(number))
    return UserRead.model_validate(user)
