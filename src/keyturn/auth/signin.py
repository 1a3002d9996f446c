"""The common end of every sign-in method. A method proves who the person is (a phone code, a
password; next a passkey, a second factor, Apple/Google) and finds or creates the user; then it
calls `refuse_if_disabled` and `complete_sign_in`, which absorb the device's guest session,
open the new session, audit, commit, and build the token response. What a method needs besides
its own proof is one `SignInContext`, built once (`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.auth import guest
from keyturn.auth.schemas import TokenResponse
from keyturn.auth.throttles import Throttles
from keyturn.config import MfaSettings
from keyturn.db import fail, utcnow
from keyturn.errors import Forbidden, Unauthorized
from keyturn.notices import service as notices
from keyturn.sessions import devices, live
from keyturn.sessions import service as sessions
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users
from keyturn.users.models import User
from keyturn.users.schemas import UserRead

# RFC 8176 methods of each sign-in that proves one thing; a passkey says its own (`passkeys`).
# RFC 8176 has no value for "another identity provider vouched": Apple and Google are named.
METHOD_AMR: dict[str, tuple[str, ...]] = {
    "phone": ("sms",),
    "password": ("pwd",),
    "apple": ("apple",),
    "google": ("google",),
}


@dataclass(frozen=True)
class SignInContext:
    """What every sign-in method needs besides its own proof: the issuer that opens the
    session, the throttles, and the rules of the second step (`mfa`: the `mfa_token`)."""

    issuer: TokenIssuer
    throttles: Throttles
    mfa: MfaSettings


class AccountDisabled(Forbidden):
    """The account was disabled by an administrator; signing in does not re-enable it."""

    code = "auth.account_disabled"


def token_response(
    issued: sessions.IssuedTokens, user: User, *, is_new_user: bool | None = None
) -> TokenResponse:
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
        session_id=issued.session_id,
        user=UserRead.model_validate(user),
        is_new_user=is_new_user,
    )


async def refuse_if_disabled(db: AsyncSession, *, user: User, method: str, ip: str | None) -> None:
    """A disabled account cannot sign in (the refusal is audited and counted), and signing in
    never re-enables it."""
    if not user.is_active:
        metrics.sign_in(user.market, method, "disabled")
        audit.record(db, "login.failed", user_id=user.id, ip=ip, reason="disabled")
        await fail(db, AccountDisabled("This account is disabled."))


async def complete_sign_in(
    db: AsyncSession,
    issuer: TokenIssuer,
    *,
    user: User,
    market: str,
    method: str,
    device: devices.Device,
    guest_claims: AccessClaims | None,
    is_new_user: bool,
    amr: tuple[str, ...] | None = None,
    **audit_details: object,
) -> TokenResponse:
    """The last step of every sign-in, in its transaction: announce a new account, merge a
    guest's data, open the session, tell the owner about a device never seen before, audit,
    commit (the sign-in use case's one commit). `amr` (RFC 8176) defaults to the method's own
    (`METHOD_AMR`)."""
    user.last_login = utcnow()
    if is_new_user:
        users.announce(db, "user.created", user, via=method)
    await _absorb_guest(db, claims=guest_claims, user=user)
    seen = await devices.device_history(db, user_id=user.id, device=device)
    new_device = not seen.on_this_device
    issued = await sessions.open_session(
        db,
        issuer,
        user=user,
        market=market,
        auth_method=method,
        amr=amr if amr is not None else METHOD_AMR[method],
        device=device,
        new_device=new_device,
    )
    if new_device and seen.signed_in_before:  # not an account's first sign-in (an import)
        notices.queue(
            db,
            user=user,
            kind="new_device",
            details={"device": devices.device_label(device), "ip": device.ip, "method": method},
        )
    audit.record(
        db,
        "login.succeeded",
        user_id=user.id,
        session_id=issued.session_id,
        ip=device.ip,
        method=method,
        new_user=is_new_user,
        **audit_details,
    )
    await db.commit()
    metrics.sign_in(market, method, "ok")
    return token_response(issued, user, is_new_user=is_new_user)


async def _absorb_guest(db: AsyncSession, *, claims: AccessClaims | None, user: User) -> None:
    """If the device signed in from a live guest session, the guest's data joins the user."""
    if claims is None or claims.role != "guest" or claims.user_id == user.id:
        return
    try:
        await live.authenticate(db, claims)
    except Unauthorized:
        return
    await guest.merge_into(db, guest_id=claims.user_id, user_id=user.id)
