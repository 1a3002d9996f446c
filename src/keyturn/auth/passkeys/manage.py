"""Your passkeys: add one (step-up), list, rename, remove (step-up). Signing in with one is
`service`. Adding or removing one is a `passkey.*` event and a security notice to the owner."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from keyturn.audit import service as audit
from keyturn.auth.linking.service import GuestCannotLink
from keyturn.auth.models import Passkey
from keyturn.auth.passkeys import authenticators, ceremony, challenges
from keyturn.auth.passkeys.ceremony import PasskeyRefused
from keyturn.auth.passkeys.schemas import PasskeyList, PasskeyRead
from keyturn.auth.passkeys.service import find_passkey, refuse, user_passkeys
from keyturn.config import PasskeySettings
from keyturn.db import utcnow
from keyturn.errors import Conflict, NotFound
from keyturn.events import service as events
from keyturn.notices import service as notices
from keyturn.sessions import devices, live
from keyturn.users import service as users
from keyturn.users.models import User

MAX_PASSKEYS = 20


class PasskeyAlreadyRegistered(Conflict):
    """This passkey is already registered (to this account or another)."""

    code = "passkey.already_registered"


class TooManyPasskeys(Conflict):
    """The account has the most passkeys allowed (20); remove one first."""

    code = "passkey.limit_reached"


class PasskeyNotFound(NotFound):
    """No passkey of yours has this id."""

    code = "passkey.not_found"


async def registration_options(
    db: AsyncSession, *, rp: PasskeySettings, caller: live.Principal
) -> dict[str, Any]:
    """Options for `navigator.credentials.create()`: a discoverable, user-verified passkey
    for this account, none it already has."""
    user = await _account(db, caller)
    owned = await user_passkeys(db, user.id)
    if len(owned) >= MAX_PASSKEYS:
        raise TooManyPasskeys(f"An account can have {MAX_PASSKEYS} passkeys; remove one first.")
    # One WebAuthn user handle per account (random, never personal data), so a provider
    # keeps one entry for it; the first passkey's handle is reused.
    handle = owned[0].user_handle if owned else bytes_to_base64url(secrets.token_bytes(32))
    challenge = await challenges.issue(
        db,
        rp,
        purpose="register",
        session_id=caller.session_id,
        user_id=user.id,
        user_handle=handle,
    )
    await db.commit()
    account_name = user.email or user.phone_number or f"user {user.id}"
    return ceremony.registration_options(
        rp,
        challenge=challenge,
        user_handle=base64url_to_bytes(handle),
        user_name=account_name,
        display_name=user.full_name or account_name,
        exclude=[p.credential_id for p in owned],
    )


async def register(
    db: AsyncSession,
    *,
    rp: PasskeySettings,
    caller: live.Principal,
    credential: dict[str, Any],
    name: str | None,
    ip: str | None,
) -> PasskeyRead:
    """Verify the new passkey and add it to the caller's account."""
    user = await _account(db, caller)
    try:
        client = ceremony.client_data(credential, "webauthn.create")
        answered = await challenges.consume(
            db, challenge=client.challenge, purpose="register", session_id=caller.session_id
        )
        ceremony.check_origin(rp, client)
        new = ceremony.verify_registration(rp, credential, client=client)
    except PasskeyRefused as refused:
        await refuse(db, refused, user_id=user.id, ip=ip, ceremony="register")
    if await find_passkey(db, new.credential_id) is not None:
        await refuse(
            db,
            PasskeyAlreadyRegistered("This passkey is already registered."),
            user_id=user.id,
            ip=ip,
            ceremony="register",
        )
    if len(await user_passkeys(db, user.id)) >= MAX_PASSKEYS:
        raise TooManyPasskeys(f"An account can have {MAX_PASSKEYS} passkeys; remove one first.")
    passkey = Passkey(
        user_id=user.id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        user_handle=answered.user_handle or "",
        sign_count=new.sign_count,
        aaguid=new.aaguid,
        name=name or authenticators.name_for(new.aaguid) or await _device_name(db, caller),
        backup_eligible=new.backup_eligible,
        backed_up=new.backed_up,
        transports=new.transports,
        created_at=utcnow(),
    )
    db.add(passkey)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise PasskeyAlreadyRegistered("This passkey is already registered.") from None
    audit.record(
        db,
        "passkey.added",
        user_id=user.id,
        session_id=caller.session_id,
        ip=ip,
        passkey_id=passkey.id,
        aaguid=passkey.aaguid,
        synced=passkey.backup_eligible,
    )
    events.emit(
        db,
        "passkey.added",
        {"user_id": user.id, "passkey_id": passkey.id, "synced": passkey.backup_eligible},
    )
    notices.queue(
        db,
        user=user,
        kind="passkey_added",
        details={"device": passkey.name, "passkey_id": passkey.id},
    )
    await db.commit()
    return read(passkey)


async def list_passkeys(db: AsyncSession, *, caller: live.Principal) -> PasskeyList:
    return PasskeyList(items=[read(p) for p in await user_passkeys(db, caller.user_id)])


async def rename(
    db: AsyncSession, *, caller: live.Principal, passkey_id: int, name: str
) -> PasskeyRead:
    passkey = await _get_owned(db, caller, passkey_id)
    passkey.name = name
    await db.commit()
    return read(passkey)


async def remove(
    db: AsyncSession, *, caller: live.Principal, passkey_id: int, ip: str | None
) -> None:
    passkey = await _get_owned(db, caller, passkey_id)
    user = await users.get_user(db, caller.user_id)
    await db.delete(passkey)
    audit.record(
        db,
        "passkey.removed",
        user_id=caller.user_id,
        session_id=caller.session_id,
        ip=ip,
        passkey_id=passkey_id,
    )
    events.emit(
        db,
        "passkey.removed",
        {"user_id": user.id, "passkey_id": passkey_id, "reason": "removed_by_user"},
    )
    notices.queue(db, user=user, kind="passkey_removed", details={"device": passkey.name})
    await db.commit()


def read(passkey: Passkey) -> PasskeyRead:
    return PasskeyRead(
        id=passkey.id,
        name=passkey.name,
        authenticator=authenticators.name_for(passkey.aaguid),
        aaguid=passkey.aaguid,
        backup_eligible=passkey.backup_eligible,
        backed_up=passkey.backed_up,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
    )


async def _device_name(db: AsyncSession, caller: live.Principal) -> str:
    """The name of the device that added the passkey, for want of a better one."""
    return await devices.device_name(db, session_id=caller.session_id) or "Passkey"


async def _account(db: AsyncSession, caller: live.Principal) -> User:
    user = await users.get_user(db, caller.user_id)
    if user.role == "guest":
        raise GuestCannotLink("Guests sign in or register before adding a passkey.")
    return user


async def _get_owned(db: AsyncSession, caller: live.Principal, passkey_id: int) -> Passkey:
    passkey = await db.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == caller.user_id)
    )
    if passkey is None:
        raise PasskeyNotFound("No passkey of yours has this id.")
    return passkey
