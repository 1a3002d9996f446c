"""`GET /profile/export`: one read transaction, everything about the caller (GDPR art. 15/20).
Each part is read the way its own domain shows it, never creating anything on the way."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.addresses.models import Address
from keyturn.addresses.schemas import AddressRead
from keyturn.audit import service as audit
from keyturn.audit.models import AuditEvent
from keyturn.auth.mfa import service as mfa
from keyturn.auth.oauth import manage as identities
from keyturn.auth.passkeys import manage as passkeys
from keyturn.auth.passkeys import service as passkey_signin
from keyturn.cart import service as cart
from keyturn.cart.models import Cart
from keyturn.config import UsageSettings
from keyturn.db import utcnow
from keyturn.files.models import StoredFile
from keyturn.files.schemas import FileRead
from keyturn.markets import Market
from keyturn.orders import service as orders
from keyturn.orders.models import Order
from keyturn.privacy.schemas import AuditEventRead, DataExport, SignInMethods
from keyturn.sessions.live import Principal
from keyturn.sessions.models import Session
from keyturn.sessions.schemas import SessionRead
from keyturn.usage import service as usage
from keyturn.users import service as users
from keyturn.users.schemas import UserRead
from keyturn.wishlist import service as wishlist
from keyturn.wishlist.models import Wishlist


async def export(
    db: AsyncSession, *, caller: Principal, market: Market, usage_rules: UsageSettings
) -> DataExport:
    user_id = caller.user_id
    user = await users.get_user(db, user_id)
    linked = await identities.list_identities(db, user_id=user_id)
    sessions = await db.scalars(
        select(Session).where(Session.user_id == user_id).order_by(Session.created_at)
    )
    addresses = await db.scalars(
        select(Address).where(Address.user_id == user_id).order_by(Address.id)
    )
    cart_id = await db.scalar(select(Cart.id).where(Cart.user_id == user_id))
    has_wishlist = await db.scalar(select(Wishlist.id).where(Wishlist.user_id == user_id))
    order_rows = await db.scalars(
        select(Order).where(Order.user_id == user_id).order_by(Order.id.desc())
    )
    files = await db.scalars(
        select(StoredFile).where(StoredFile.user_id == user_id).order_by(StoredFile.id)
    )
    events = await db.scalars(
        select(AuditEvent).where(AuditEvent.user_id == user_id).order_by(AuditEvent.id)
    )
    document = DataExport(
        generated_at=utcnow(),
        market=market.code,
        profile=UserRead.model_validate(user),
        sign_in_methods=SignInMethods(
            email=user.email,
            email_verified=user.email_verified,
            has_password=user.password_hash is not None,
            phone_number=user.phone_number,
            phone_verified=user.is_verified,
            identities=linked.items,
            passkeys=[passkeys.read(p) for p in await passkey_signin.user_passkeys(db, user_id)],
            second_factor=await mfa.status(db, caller=caller),
        ),
        sessions=[SessionRead.model_validate(s) for s in sessions],
        addresses=[AddressRead.model_validate(a) for a in addresses],
        cart=None
        if cart_id is None
        else await cart.cart_view(db, cart_id=cart_id, currency=market.currency),
        wishlist=None
        if has_wishlist is None
        else await wishlist.wishlist_view(db, wishlist_id=has_wishlist),
        orders=[await orders.order_read(db, order) for order in order_rows.all()],
        files=[FileRead.model_validate(f) for f in files],
        usage=await usage.read_usage(db, user_id=user_id, settings=usage_rules),
        audit_events=[
            AuditEventRead(
                event=e.event,
                session_id=e.session_id,
                ip=e.ip,
                details=e.details,
                created_at=e.created_at,
            )
            for e in events
        ],
    )
    audit.record(db, "account.exported", user_id=user_id, session_id=caller.session_id)
    await db.commit()
    return document
