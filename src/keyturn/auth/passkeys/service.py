"""Passkeys as a way in: sign in with one (a first factor on its own), and prove who you are
again with one (step-up). Adding and managing them is `manage`; the WebAuthn checks are in
`ceremony`, the challenges in `challenges`; docs/passkeys-and-step-up.md has the decisions.

Every refused answer is audited (`passkey.refused`, with the reason's code) and changes
nothing but the challenge it spent."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.auth import signin
from keyturn.auth.models import Passkey
from keyturn.auth.passkeys import ceremony, challenges
from keyturn.auth.passkeys.ceremony import PasskeyRefused
from keyturn.auth.schemas import TokenResponse
from keyturn.auth.throttles import Throttles
from keyturn.config import PasskeySettings
from keyturn.db import fail, utcnow
from keyturn.errors import BadRequest, TooManyRequests
from keyturn.sessions import devices, live
from keyturn.sessions.tokens import AccessClaims
from keyturn.users import service as users


class PasskeyNotRecognized(PasskeyRefused):
    """The passkey is not registered here, or belongs to another account."""

    code = "passkey.not_recognized"


class PasskeyCounterRegressed(PasskeyRefused):
    """A device-bound passkey's signature counter did not go up: it may have been cloned."""

    code = "passkey.counter_regressed"


class NoPasskeys(BadRequest):
    """The account has no passkey to re-authenticate with."""

    code = "passkey.none_registered"


# Sign-in --------------------------------------------------------------------------------------


async def login_options(
    db: AsyncSession, *, rp: PasskeySettings, throttles: Throttles, market: str, ip: str | None
) -> dict[str, Any]:
    """Options for `navigator.credentials.get()` with no account named: the browser or phone
    offers the passkeys it holds for us (also as autofill, conditional mediation)."""
    try:
        await throttles.passkey_options(ip=ip)
    except TooManyRequests:
        metrics.sign_in(market, "passkey", "throttled")
        raise
    challenge = await challenges.issue(db, rp, purpose="login")
    await db.commit()
    return ceremony.authentication_options(rp, challenge=challenge, allow=[])


async def login(
    db: AsyncSession,
    *,
    context: signin.SignInContext,
    rp: PasskeySettings,
    market: str,
    credential: dict[str, Any],
    device: devices.Device,
    guest_claims: AccessClaims | None,
) -> TokenResponse:
    """Sign in with a passkey alone: no phone, no password."""
    try:
        passkey, amr = await _use(
            db, rp, credential, purpose="login", session_id=None, user_id=None, ip=device.ip
        )
    except PasskeyRefused:
        metrics.sign_in(market, "passkey", "refused")
        raise
    user = await users.get_user(db, passkey.user_id)
    await signin.refuse_if_disabled(db, user=user, method="passkey", ip=device.ip)
    return await signin.complete_sign_in(
        db,
        context.issuer,
        user=user,
        market=market,
        method="passkey",
        amr=amr,
        device=device,
        guest_claims=guest_claims,
        is_new_user=False,
        passkey_id=passkey.id,
    )


# Step-up --------------------------------------------------------------------------------------


async def reauthentication_options(
    db: AsyncSession, *, rp: PasskeySettings, caller: live.Principal
) -> dict[str, Any]:
    """Options to prove it is still you with one of your passkeys, for this session only."""
    owned = await user_passkeys(db, caller.user_id)
    if not owned:
        raise NoPasskeys("This account has no passkey; re-authenticate another way.")
    challenge = await challenges.issue(
        db,
        rp,
        purpose="reauth",
        session_id=caller.session_id,
        user_id=caller.user_id,
    )
    await db.commit()
    return ceremony.authentication_options(
        rp,
        challenge=challenge,
        allow=[(p.credential_id, p.transports) for p in owned],
    )


async def prove(
    db: AsyncSession,
    *,
    rp: PasskeySettings,
    caller: live.Principal,
    credential: dict[str, Any],
    ip: str | None,
) -> tuple[str, ...]:
    """Check a re-authentication answer with one of the caller's own passkeys; its `amr`
    (flushed, the caller commits)."""
    _, amr = await _use(
        db,
        rp,
        credential,
        purpose="reauth",
        session_id=caller.session_id,
        user_id=caller.user_id,
        ip=ip,
    )
    return amr


async def has_passkeys(db: AsyncSession, *, user_id: int) -> bool:
    found = await db.scalar(select(Passkey.id).where(Passkey.user_id == user_id).limit(1))
    return found is not None


# ----------------------------------------------------------------------------------------------


async def _use(
    db: AsyncSession,
    rp: PasskeySettings,
    credential: dict[str, Any],
    *,
    purpose: str,
    session_id: str | None,
    user_id: int | None,
    ip: str | None,
) -> tuple[Passkey, tuple[str, ...]]:
    """Verify an assertion for `purpose`, by any account's passkey (sign-in) or only
    `user_id`'s (step-up); record its use (flushed). Returns the passkey and the RFC 8176
    methods it proves: the key's kind, user verification, and two factors in one."""
    passkey: Passkey | None = None
    try:
        client = ceremony.client_data(credential, "webauthn.get")
        await challenges.consume(
            db, challenge=client.challenge, purpose=purpose, session_id=session_id
        )
        ceremony.check_origin(rp, client)
        passkey = await find_passkey(db, credential["rawId"].rstrip("="), lock=True)
        handle = ceremony.user_handle_of(credential)
        if (
            passkey is None
            or (user_id is not None and passkey.user_id != user_id)
            or (handle is not None and handle != passkey.user_handle)
        ):
            passkey = None
            raise PasskeyNotRecognized("This passkey is not registered to this account.")
        assertion = ceremony.verify_assertion(
            rp, credential, client=client, public_key=passkey.public_key
        )
        _check_counter(passkey, assertion.sign_count)
    except PasskeyRefused as refused:
        await refuse(
            db,
            refused,
            user_id=passkey.user_id if passkey else user_id,
            ip=ip,
            ceremony=purpose,
            passkey_id=passkey.id if passkey else None,
        )
    passkey.sign_count = max(passkey.sign_count, assertion.sign_count)
    passkey.backed_up = assertion.backed_up
    passkey.last_used_at = utcnow()
    audit.record(
        db,
        "passkey.used",
        user_id=passkey.user_id,
        session_id=session_id,
        ip=ip,
        passkey_id=passkey.id,
        ceremony=purpose,
    )
    await db.flush()
    return passkey, (assertion.key_kind, "user", "mfa")


def _check_counter(passkey: Passkey, sign_count: int) -> None:
    """A device-bound key counts every signature; a count that does not go up means two
    copies of the key exist. Synced passkeys share a key across devices, so their counter
    (often always 0) proves nothing and is not checked."""
    if passkey.backup_eligible:
        return
    if (sign_count or passkey.sign_count) and sign_count <= passkey.sign_count:
        raise PasskeyCounterRegressed(
            "This passkey's signature counter went backwards, so it may have been copied; "
            "it was refused. Sign in another way and remove it."
        )


async def refuse(
    db: AsyncSession,
    refused: Exception,
    *,
    user_id: int | None,
    ip: str | None,
    ceremony: str,
    passkey_id: int | None = None,
) -> NoReturn:
    """Audit a refused answer and raise it; the audit row and the spent challenge are kept."""
    audit.record(
        db,
        "passkey.refused",
        user_id=user_id,
        ip=ip,
        reason=getattr(refused, "code", "passkey.refused"),
        ceremony=ceremony,
        passkey_id=passkey_id,
    )
    await fail(db, refused)


async def user_passkeys(db: AsyncSession, user_id: int) -> list[Passkey]:
    rows = await db.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.id))
    return list(rows)


async def find_passkey(
    db: AsyncSession, credential_id: str, *, lock: bool = False
) -> Passkey | None:
    query = select(Passkey).where(Passkey.credential_id == credential_id)
    return await db.scalar(query.with_for_update() if lock else query)
