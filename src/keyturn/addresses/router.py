from typing import Any

from fastapi import APIRouter, Response, status

from keyturn.addresses import service
from keyturn.addresses.schemas import AddressCreate, AddressList, AddressRead, AddressUpdate
from keyturn.deps import Caller, Db, PathId

router = APIRouter(prefix="/profile/addresses", tags=["profile"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such address of yours"}}


@router.get("", summary="Your saved addresses")
async def list_addresses(db: Db, caller: Caller) -> AddressList:
    return await service.list_addresses(db, caller=caller)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Save an address (the first one becomes the default)",
    responses={
        403: {"description": "Guests cannot save addresses"},
        409: {"description": "Too many addresses"},
        422: {"description": "Invalid fields or phone number"},
    },
)
async def create_address(db: Db, caller: Caller, body: AddressCreate) -> AddressRead:
    return await service.create_address(db, caller=caller, body=body)


@router.get("/{address_id}", summary="One saved address", responses=NOT_FOUND)
async def read_address(db: Db, caller: Caller, address_id: PathId) -> AddressRead:
    return await service.read_address(db, caller=caller, address_id=address_id)


@router.patch("/{address_id}", summary="Change an address", responses=NOT_FOUND)
async def update_address(
    db: Db, caller: Caller, address_id: PathId, body: AddressUpdate
) -> AddressRead:
    return await service.update_address(db, caller=caller, address_id=address_id, changes=body)


@router.delete(
    "/{address_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an address",
    responses=NOT_FOUND,
)
async def delete_address(db: Db, caller: Caller, address_id: PathId) -> Response:
    await service.delete_address(db, caller=caller, address_id=address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
