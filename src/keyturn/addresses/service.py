"""Saved shipping addresses: owner only (someone else's is a 404), phone numbers stored in
E.164, at most one default, at most MAX_ADDRESSES per account. Guests have no addresses: a
guest's data is merged at sign-in, and an address is better typed into the account itself."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.addresses.models import Address
from keyturn.addresses.schemas import AddressCreate, AddressList, AddressRead, AddressUpdate
from keyturn.contacts import InvalidPhone, normalize_phone
from keyturn.errors import Conflict, Forbidden, Invalid, NotFound
from keyturn.sessions.live import Principal
from keyturn.users.models import User

MAX_ADDRESSES = 20


class AddressNotFound(NotFound):
    """No such address of yours."""

    code = "addresses.not_found"


class InvalidAddressPhone(Invalid):
    """The address's phone is not a valid number (read in the address's country)."""

    code = "addresses.phone_invalid"


class TooManyAddresses(Conflict):
    """The account already has MAX_ADDRESSES addresses; delete one first."""

    code = "addresses.limit_reached"


class GuestCannotSaveAddress(Forbidden):
    """Guests cannot save addresses; sign in first."""

    code = "addresses.sign_in_required"


def _owner(caller: Principal) -> int:
    if caller.role == "guest":
        raise GuestCannotSaveAddress("Sign in to save addresses.")
    return caller.user_id


async def _lock_owner(db: AsyncSession, caller: Principal) -> int:
    """The owner's id, with their user row locked until the commit: one account's address
    changes queue, so the count limit and the single default hold under concurrency
    (SQLite's `BEGIN IMMEDIATE` already serialises writers)."""
    user_id = _owner(caller)
    await db.execute(select(User.id).where(User.id == user_id).with_for_update())
    return user_id


def _e164(raw: str, country: str) -> str:
    try:
        number, _ = normalize_phone(raw, country)
    except InvalidPhone:
        raise InvalidAddressPhone(
            "Not a valid phone number for this address.", field="phone"
        ) from None
    return number


async def get_address(db: AsyncSession, *, user_id: int, address_id: int) -> Address:
    address = await db.scalar(
        select(Address).where(Address.id == address_id, Address.user_id == user_id)
    )
    if address is None:
        raise AddressNotFound("No such address.")
    return address


async def _make_default(db: AsyncSession, address: Address) -> None:
    await db.execute(
        update(Address)
        .where(Address.user_id == address.user_id, Address.id != address.id)
        .values(is_default=False)
        .execution_options(synchronize_session=False)
    )
    address.is_default = True


async def list_addresses(db: AsyncSession, *, caller: Principal) -> AddressList:
    rows = await db.scalars(
        select(Address).where(Address.user_id == _owner(caller)).order_by(Address.id)
    )
    return AddressList(items=[AddressRead.model_validate(a) for a in rows])


async def read_address(db: AsyncSession, *, caller: Principal, address_id: int) -> AddressRead:
    address = await get_address(db, user_id=_owner(caller), address_id=address_id)
    return AddressRead.model_validate(address)


async def create_address(
    db: AsyncSession, *, caller: Principal, body: AddressCreate
) -> AddressRead:
    user_id = await _lock_owner(db, caller)
    count = await db.scalar(select(func.count()).where(Address.user_id == user_id))
    if (count or 0) >= MAX_ADDRESSES:
        raise TooManyAddresses(f"You can save up to {MAX_ADDRESSES} addresses.")
    fields = body.model_dump()
    fields["phone"] = _e164(body.phone, body.country)
    address = Address(user_id=user_id, **fields)
    db.add(address)
    await db.flush()
    if body.is_default or count == 0:
        await _make_default(db, address)
    await db.commit()
    return AddressRead.model_validate(address)


async def update_address(
    db: AsyncSession, *, caller: Principal, address_id: int, changes: AddressUpdate
) -> AddressRead:
    address = await get_address(db, user_id=await _lock_owner(db, caller), address_id=address_id)
    fields = changes.model_dump(exclude_unset=True)
    make_default = fields.pop("is_default", None)
    if "phone" in fields or "country" in fields:
        country = fields.get("country", address.country)
        fields["phone"] = _e164(fields.get("phone", address.phone), country)
    for field, value in fields.items():
        setattr(address, field, value)
    if make_default is True:
        await _make_default(db, address)
    elif make_default is False:
        address.is_default = False
    await db.commit()
    return AddressRead.model_validate(address)


async def delete_address(db: AsyncSession, *, caller: Principal, address_id: int) -> None:
    """Delete an address; if it was the default, the oldest remaining one becomes default."""
    user_id = await _lock_owner(db, caller)
    address = await get_address(db, user_id=user_id, address_id=address_id)
    was_default = address.is_default
    await db.delete(address)
    await db.flush()
    if was_default:
        oldest = await db.scalar(
            select(Address).where(Address.user_id == user_id).order_by(Address.id).limit(1)
        )
        if oldest is not None:
            oldest.is_default = True
    await db.commit()
