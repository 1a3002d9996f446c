"""Sessions that are not a sign-in method: start a guest session, refresh, log out. Each sign-in
method lives in its own package (`auth.phone`, `auth.password`); they all end in `auth.signin`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn import metrics
from keyturn.audit import service as audit
from keyturn.auth.schemas import MessageOut, TokenResponse
from keyturn.auth.signin import token_response
from keyturn.auth.throttles import Throttles
from keyturn.errors import Unauthorized
from keyturn.markets import Market, Markets
from keyturn.sessions import devices, ending, live
from keyturn.sessions import service as sessions
from keyturn.sessions.issuer import TokenIssuer
from keyturn.sessions.tokens import refresh_token_market
from keyturn.users import service as users


async def start_guest(
    db: AsyncSession,
    *,
    issuer: TokenIssuer,
    throttles: Throttles,
    market: Market,
    device: devices.Device,
) -> TokenResponse:
    """A guest user and its session: the device may shop before it signs in (a cart and a
    wishlist, nothing else); limited per client address."""
    await throttles.guest(ip=device.ip)
    user = users.new_user(market.config, role="guest")
    db.add(user)
    await db.flush()
    issued = await sessions.open_session(
        db, issuer, user=user, market=market.code, auth_method="guest", amr=(), device=device
    )
    await db.commit()
    return token_response(issued, user, is_new_user=True)


async def refresh(
    markets: Markets,
    *,
    issuer: TokenIssuer,
    requested: Market | None,
    refresh_token: str,
    ip: str | None,
) -> TokenResponse:
    """Redeem on the token's own market; an `X-Market` naming another one is refused."""
    market = markets.of_token(refresh_token_market(refresh_token), requested)
    if market is None:
        raise Unauthorized("Invalid or expired refresh token.")
    async with market.session() as db:
        issued, user = await sessions.refresh(
            db, issuer, refresh_token=refresh_token, market=market.code, ip=ip
        )
        await db.commit()
    return token_response(issued, user)


LOGOUT_MESSAGES = {
    "current": "Logged out of this device.",
    "others": "Logged out of every other device.",
    "all": "Logged out of every device.",
}


async def logout(
    db: AsyncSession, *, caller: live.Principal, scope: str, ip: str | None
) -> MessageOut:
    """End this session, the others, or all. Carts, orders and the account are untouched."""
    if scope == "current":
        await ending.revoke_session(
            db, user_id=caller.user_id, session_id=caller.session_id, reason="logout"
        )
    else:
        await ending.revoke_user_sessions(
            db,
            user_id=caller.user_id,
            reason=f"logout_{scope}",
            keep_session_id=caller.session_id if scope == "others" else None,
        )
    audit.record(
        db, "logout", user_id=caller.user_id, session_id=caller.session_id, ip=ip, scope=scope
    )
    await db.commit()
    metrics.logout(caller.market, scope)
    return MessageOut(message=LOGOUT_MESSAGES[scope])
