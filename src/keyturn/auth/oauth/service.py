"""Sign in with Apple or Google, and link or unlink them (docs/social-sign-in.md).

The linking rules:
1. A known (provider, subject) signs its user in.
2. A new one whose email the provider verified links to the account whose own email is that
   address **and proven** (`email_verified`).
3. An unverified email never links and never blocks anyone: the new account does not take
   it, and if an account holds it, the sign-in is refused (409) rather than making a twin.
4. Otherwise a new account is created (with the email only when the provider verified it
   and no other account holds it).
Each new link is an `identity.linked` event, and for an existing account a security notice to
its owner (a new way in); an unlink is `identity.unlinked` and a notice.
The id_token is verified (network) before any database work, so no transaction waits on the
provider.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit import service as audit
from keyturn.auth import signin
from keyturn.auth.mfa import second_step
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.models import Identity
from keyturn.auth.oauth import apple, revocations
from keyturn.auth.oauth.clients import OAuth
from keyturn.auth.oauth.idtoken import ProvenIdentity, Provider
from keyturn.auth.oauth.schemas import IdentityList, IdentityRead
from keyturn.auth.passkeys import service as passkeys
from keyturn.auth.schemas import TokenResponse
from keyturn.config import Settings
from keyturn.db import end_read, utcnow
from keyturn.errors import BadRequest, Conflict, Forbidden, NotFound
from keyturn.events import service as events
from keyturn.logs import get_logger, mask_email
from keyturn.notices import service as notices
from keyturn.sessions import devices, live
from keyturn.sessions.keys import Keyring
from keyturn.sessions.tokens import AccessClaims
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


class EmailBelongsToAccount(Conflict):
    """An account holds the email the provider did not verify: link from that account."""

    code = "identity.unverified_email_taken"


class IdentityNotYours(BadRequest):
    """The Apple/Google account that signed the id_token is not linked to this account."""

    code = "identity.not_linked"


class GuestCannotLinkIdentity(Forbidden):
    """A guest session has no account to link to; sign in with the provider instead."""

    code = "identity.guest_not_allowed"


async def _prove(
    oauth: OAuth,
    provider: Provider,
    *,
    id_token: str,
    nonce: str | None,
    authorization_code: str | None,
) -> tuple[ProvenIdentity, str | None]:
    """Verify the id_token and, for Apple, exchange the code for a refresh token (sealed)."""
    proven = await oauth.verifier.verify(provider, id_token, nonce=nonce)
    sealed = None
    if provider == "apple" and authorization_code:
        token = await apple.exchange_code(
            oauth.http,
            oauth.settings,
            client_id=proven.client_id,
            code=authorization_code,
            subject=proven.subject,
        )
        sealed = oauth.sealer.seal(token) if token else None
    return proven, sealed


async def sign_in(
    db: AsyncSession,
    settings: Settings,
    keyring: Keyring,
    oauth: OAuth,
    *,
    provider: Provider,
    market: str,
    id_token: str,
    nonce: str | None,
    full_name: str | None,
    authorization_code: str | None,
    device: devices.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse | MfaRequiredOut:
    """`POST /auth/oauth/{provider}`: prove, find or create the user by the rules, sign in;
    an account with a second factor gets its `mfa_token` instead (we cannot see how the
    provider checked the person, so Apple/Google count as one factor)."""
    proven, sealed = await _prove(
        oauth, provider, id_token=id_token, nonce=nonce, authorization_code=authorization_code
    )
    name = (full_name or "").strip() or proven.name
    try:
        user, identity, is_new = await _find_or_create(db, settings, market, proven, name)
    except IntegrityError:
        # A concurrent first sign-in of the same person (or a registration of the email)
        # committed first: the second look finds what it made.
        await db.rollback()
        user, identity, is_new = await _find_or_create(db, settings, market, proven, name)
    _remember(identity, proven, name=name, sealed=sealed)
    await signin.refuse_if_disabled(db, user=user, method=provider, ip=device.ip)
    return await second_step.complete_sign_in(
        db,
        settings,
        keyring,
        user=user,
        market=market,
        method=provider,
        device=device,
        guest_claims=guest_claims,
        is_new_user=is_new,
    )


async def _find_or_create(
    db: AsyncSession, settings: Settings, market: str, proven: ProvenIdentity, name: str | None
) -> tuple[User, Identity, bool]:
    identity = await _find(db, proven.provider, proven.subject)
    if identity is not None:
        return await users.get_user(db, identity.user_id), identity, False
    owner = None
    if proven.email is not None:
        owner = await users.find_by_email(db, proven.email)
    if owner is not None and not proven.email_verified:
        # Rule 3: it cannot link, and a second account beside it would be a takeover try.
        raise EmailBelongsToAccount(
            "An account uses this email, which the provider has not verified. Sign in to "
            "that account and link from its profile."
        )
    if owner is not None and owner.email_verified:
        identity = _new_identity(owner, proven)  # rule 2
        db.add(identity)
        await db.flush()
        _announce_linked(db, owner, identity, via="verified_email")
        log.info("identity_linked_by_email", provider=proven.provider, user_id=owner.id)
        return owner, identity, False
    # Rules 3 and 4: a new account. It takes the email only if the provider verified it and
    # nobody holds it: an unproven claim elsewhere keeps its row but blocks nobody.
    takes_email = proven.email_verified and owner is None
    user = users.new_user(
        settings.market(market),
        email=proven.email if takes_email else None,
        full_name=name,
    )
    user.email_verified = takes_email
    db.add(user)
    await db.flush()
    identity = _new_identity(user, proven)
    db.add(identity)
    await db.flush()
    _announce_linked(db, user, identity, via="sign_up")
    return user, identity, True


def _announce_linked(db: AsyncSession, user: User, identity: Identity, *, via: str) -> None:
    """`identity.linked` of a flushed identity; the owner of an account that existed before is
    told (`via`: `sign_up` for an account the identity creates, `verified_email`, `profile`),
    and the notice names the identity for its "this wasn't me" link (`auth.ways_in`)."""
    provider = identity.provider
    events.emit(db, "identity.linked", {"user_id": user.id, "provider": provider, "via": via})
    if via != "sign_up":
        notices.queue(
            db,
            user=user,
            kind="identity_linked",
            details={"provider": provider.title(), "identity_id": identity.id},
        )


def _new_identity(user: User, proven: ProvenIdentity) -> Identity:
    return Identity(
        user_id=user.id,
        provider=proven.provider,
        subject=proven.subject,
        client_id=proven.client_id,
        email=proven.email,
        email_verified=proven.email_verified,
        private_relay=proven.private_relay,
    )


def _remember(
    identity: Identity, proven: ProvenIdentity, *, name: str | None, sealed: str | None
) -> None:
    """What the provider showed this time; a name once given (Apple: first time only) stays."""
    identity.client_id = proven.client_id
    identity.email = proven.email
    identity.email_verified = proven.email_verified
    identity.private_relay = proven.private_relay
    identity.full_name = identity.full_name or name
    if sealed is not None:
        identity.refresh_token_sealed = sealed
    identity.last_used_at = utcnow()


async def _find(db: AsyncSession, provider: str, subject: str) -> Identity | None:
    return await db.scalar(
        select(Identity).where(Identity.provider == provider, Identity.subject == subject)
    )


async def prove(
    db: AsyncSession,
    oauth: OAuth,
    *,
    user_id: int,
    provider: Provider,
    id_token: str,
    nonce: str | None,
) -> tuple[str, ...]:
    """Re-authentication (step-up) with a linked Apple/Google account: the id_token must be
    valid and its subject linked to `user_id`. Call with no transaction open (the provider's
    keys may be fetched); the identity's last use is flushed. Returns the `amr`."""
    proven = await oauth.verifier.verify(provider, id_token, nonce=nonce)
    identity = await _find(db, provider, proven.subject)
    if identity is None or identity.user_id != user_id:
        raise IdentityNotYours(f"This {provider.title()} account is not linked to yours.")
    identity.last_used_at = utcnow()
    return signin.METHOD_AMR[provider]


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
    proven, sealed = await _prove(
        oauth, provider, id_token=id_token, nonce=nonce, authorization_code=authorization_code
    )
    user = await users.get_user(db, caller.user_id)
    identity = await _find(db, provider, proven.subject)
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
            identity = _new_identity(user, proven)
            db.add(identity)
            await db.flush()
            _announce_linked(db, user, identity, via="profile")
        _remember(identity, proven, name=(full_name or "").strip() or proven.name, sealed=sealed)
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
