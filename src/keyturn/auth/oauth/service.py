"""Sign in with Apple or Google (docs/social-sign-in.md); linking one to a signed-in account is
`manage`.

The linking rules:
1. A known (provider, subject) signs its user in.
2. A new one whose email the provider verified links to the account whose own email is that
   address **and proven** (`email_verified`).
3. An unverified email never links and never blocks anyone: the new account does not take
   it, and if an account holds it, the sign-in is refused (409) rather than making a twin.
4. Otherwise a new account is created (with the email only when the provider verified it
   and no other account holds it).
Each new link is an `identity.linked` event, and for an existing account a security notice to
its owner (a new way in).
The id_token is verified (network) before any database work, so no transaction waits on the
provider.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.auth import signin
from keyturn.auth.mfa import second_step
from keyturn.auth.mfa.schemas import MfaRequiredOut
from keyturn.auth.models import Identity
from keyturn.auth.oauth import apple
from keyturn.auth.oauth.clients import OAuth
from keyturn.auth.oauth.idtoken import ProvenIdentity, Provider
from keyturn.auth.schemas import TokenResponse
from keyturn.config import MarketConfig
from keyturn.db import utcnow
from keyturn.errors import BadRequest, Conflict
from keyturn.events import service as events
from keyturn.logs import get_logger
from keyturn.markets import Market
from keyturn.notices import service as notices
from keyturn.sessions import devices
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users
from keyturn.users.models import User

log = get_logger("keyturn.auth.oauth")


class EmailBelongsToAccount(Conflict):
    """An account holds the email the provider did not verify: link from that account."""

    code = "identity.unverified_email_taken"


class IdentityNotYours(BadRequest):
    """The Apple/Google account that signed the id_token is not linked to this account."""

    code = "identity.not_linked"


async def check_id_token(
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
    context: signin.SignInContext,
    oauth: OAuth,
    *,
    provider: Provider,
    market: Market,
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
    proven, sealed = await check_id_token(
        oauth, provider, id_token=id_token, nonce=nonce, authorization_code=authorization_code
    )
    name = (full_name or "").strip() or proven.name
    try:
        user, identity, is_new = await _find_or_create(db, market.config, proven, name)
    except IntegrityError:
        # A concurrent first sign-in of the same person (or a registration of the email)
        # committed first: the second look finds what it made.
        await db.rollback()
        user, identity, is_new = await _find_or_create(db, market.config, proven, name)
    remember(identity, proven, name=name, sealed=sealed)
    await signin.refuse_if_disabled(db, user=user, method=provider, ip=device.ip)
    return await second_step.complete_sign_in(
        db,
        context,
        user=user,
        market=market.code,
        method=provider,
        device=device,
        guest_claims=guest_claims,
        is_new_user=is_new,
    )


async def _find_or_create(
    db: AsyncSession, market: MarketConfig, proven: ProvenIdentity, name: str | None
) -> tuple[User, Identity, bool]:
    identity = await find_identity(db, proven.provider, proven.subject)
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
        identity = new_identity(owner, proven)  # rule 2
        db.add(identity)
        await db.flush()
        announce_linked(db, owner, identity, via="verified_email")
        log.info("identity_linked_by_email", provider=proven.provider, user_id=owner.id)
        return owner, identity, False
    # Rules 3 and 4: a new account. It takes the email only if the provider verified it and
    # nobody holds it: an unproven claim elsewhere keeps its row but blocks nobody.
    takes_email = proven.email_verified and owner is None
    user = users.new_user(
        market,
        email=proven.email if takes_email else None,
        full_name=name,
    )
    user.email_verified = takes_email
    db.add(user)
    await db.flush()
    identity = new_identity(user, proven)
    db.add(identity)
    await db.flush()
    announce_linked(db, user, identity, via="sign_up")
    return user, identity, True


def announce_linked(db: AsyncSession, user: User, identity: Identity, *, via: str) -> None:
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


def new_identity(user: User, proven: ProvenIdentity) -> Identity:
    return Identity(
        user_id=user.id,
        provider=proven.provider,
        subject=proven.subject,
        client_id=proven.client_id,
        email=proven.email,
        email_verified=proven.email_verified,
        private_relay=proven.private_relay,
    )


def remember(
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


async def find_identity(db: AsyncSession, provider: str, subject: str) -> Identity | None:
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
    identity = await find_identity(db, provider, proven.subject)
    if identity is None or identity.user_id != user_id:
        raise IdentityNotYours(f"This {provider.title()} account is not linked to yours.")
    identity.last_used_at = utcnow()
    return signin.METHOD_AMR[provider]
