"""An account's Apple and Google identities: list them, link one from the profile, unlink one
while another way in remains (docs/social-sign-in.md). Signing in with one is `service`.
An unlink is an `identity.unlinked` event and a security notice to the owner."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth.models import Identity
from keyturn.auth.oauth import revocations
from keyturn.auth.oauth.clients import OAuth
from keyturn.auth.oauth.idtoken import Provider
from keyturn.auth.oauth.schemas import IdentityList, IdentityRead
from keyturn.auth.oauth.service import (
    announce_linked,
    check_id_token,
    find_identity,
    new_identity,
    remember,
)
from keyturn.auth.passkeys import service as passkeys
from keyturn.db import end_read
from keyturn.errors import Conflict, Forbidden, NotFound
from keyturn.events import service as events
from keyturn.logs import get_logger, mask_email
from keyturn.notices import service as notices
from keyturn.sessions import live
from keyturn.users import service as users
from keyturn.users.models import User

log = get_logger("keyturn.auth.oauth")


class IdentityTaken(Conflict):
    """This Apple/Google account already signs in to another keyturn account."""

    code = "identity.taken"


class ProviderAlreadyLinked(Conflict):
    """The account already has another account of this provider linked; unlink it first."""

    code = "identity.provider_already_linked"


class LastWayIn(Conflict):
    """Unlinking would leave the account with no way to sign in."""

    code = "identity.last_way_in"


class GuestCannotLinkIdentity(Forbidden):
    """A guest session has no account to link to; sign in with the provider instead."""

    code = "identity.guest_not_allowed"


async def linked_providers(db: AsyncSession, *, user_id: int) -> list[str]:
    """The providers linked to the account (ways to re-authenticate)."""
    rows = await db.scalars(
        select(Identity.provider).where(Identity.user_id == user_id).order_by(Identity.provider)
    )
    return list(rows)


async def list_identities(db: AsyncSession, *, user_id: int) -> IdentityList:
    rows = await db.scalars(
        select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
    )
    return IdentityList(items=[IdentityRead.model_validate(row) for row in rows])


async def link(
    db: AsyncSession,
    oauth: OAuth,
    *,
    caller: live.Principal,
    provider: Provider,
    id_token: str,
    nonce: str | None,
    full_name: str | None,
    authorization_code: str | None,
    ip: str | None,
) -> IdentityRead:
    """`POST /profile/identities/{provider}`: link the proven account to the caller's."""
    user = await users.get_user(db, caller.user_id)
    if user.role == "guest":
        raise GuestCannotLinkIdentity("Guests sign in with the provider instead of linking.")
    await end_read(db)  # the provider is asked with no transaction open
    proven, sealed = await check_id_token(
        oauth, provider, id_token=id_token, nonce=nonce, authorization_code=authorization_code
    )
    user = await users.get_user(db, caller.user_id)
    identity = await find_identity(db, provider, proven.subject)
    if identity is not None and identity.user_id != user.id:
        raise IdentityTaken(f"This {provider.title()} account signs in to another account.")
    try:
        if identity is None:
            other = await db.scalar(
                select(Identity).where(Identity.user_id == user.id, Identity.provider == provider)
            )
            if other is not None:
                raise ProviderAlreadyLinked(
                    f"Another {provider.title()} account is linked; unlink it first."
                )
            identity = new_identity(user, proven)
            db.add(identity)
            await db.flush()
            announce_linked(db, user, identity, via="profile")
        remember(identity, proven, name=(full_name or "").strip() or proven.name, sealed=sealed)
        audit.record(
            db,
            "identity.linked",
            user_id=user.id,
            session_id=caller.session_id,
            ip=ip,
            provider=provider,
        )
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise IdentityTaken(
            f"This {provider.title()} account signs in to another account."
        ) from None
    log.info(
        "identity_linked", provider=provider, user_id=user.id, email=mask_email(proven.email or "")
    )
    return IdentityRead.model_validate(identity)


async def unlink(
    db: AsyncSession, *, caller: live.Principal, provider: Provider, ip: str | None
) -> None:
    """`DELETE /profile/identities/{provider}`: unlink, if another way to sign in remains.
    Apple's refresh token is queued for revocation at Apple."""
    user = await db.scalar(select(User).where(User.id == caller.user_id).with_for_update())
    if user is None:
        raise NotFound("No such user.")
    identity = await db.scalar(
        select(Identity).where(Identity.user_id == user.id, Identity.provider == provider)
    )
    if identity is None:
        raise NotFound(f"No {provider.title()} account is linked.")
    if not await _other_way_in(db, user, identity):
        raise LastWayIn("Add a password, a phone or another sign-in method before unlinking.")
    revocations.queue(db, identity)
    await db.delete(identity)
    audit.record(
        db,
        "identity.unlinked",
        user_id=user.id,
        session_id=caller.session_id,
        ip=ip,
        provider=provider,
    )
    events.emit(
        db,
        "identity.unlinked",
        {"user_id": user.id, "provider": provider, "reason": "unlinked_by_user"},
    )
    notices.queue(db, user=user, kind="identity_unlinked", details={"provider": provider.title()})
    await db.commit()


async def _other_way_in(db: AsyncSession, user: User, identity: Identity) -> bool:
    if user.phone_number is not None or (user.email and user.password_hash):
        return True
    if await passkeys.has_passkeys(db, user_id=user.id):
        return True
    others = await db.scalar(
        select(func.count())
        .select_from(Identity)
        .where(Identity.user_id == user.id, Identity.id != identity.id)
    )
    return bool(others)
