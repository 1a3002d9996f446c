from typing import Any

from fastapi import APIRouter, Response, status

from keyturn.cart.schemas import CartRead
from keyturn.deps import Caller, Db, PathId, RequestMarket
from keyturn.wishlist import service
from keyturn.wishlist.schemas import (
    MoveToCart,
    WishlistItemAdded,
    WishlistItemCreate,
    WishlistItemRead,
    WishlistRead,
)

router = APIRouter(prefix="/wishlist", tags=["wishlist"])

ITEM_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such item in your wishlist"}
}


@router.get("", summary="Your wishlist")
async def read_wishlist(db: Db, caller: Caller) -> WishlistRead:
    return await service.read_wishlist(db, user_id=caller.user_id)


@router.post(
    "/items",
    status_code=status.HTTP_201_CREATED,
    summary="Add a product; adding it again changes nothing (200, `already_present: true`)",
    responses={
        200: {"description": "Already in the wishlist", "model": WishlistItemAdded},
        404: {"description": "No such product"},
        422: {"description": "The product is not for sale"},
    },
)
async def add_item(
    db: Db, caller: Caller, body: WishlistItemCreate, response: Response
) -> WishlistItemAdded:
    added = await service.add_item(db, user_id=caller.user_id, product_id=body.product_id)
    if added.already_present:
        response.status_code = status.HTTP_200_OK
    return added


@router.get("/items/{item_id}", summary="One wishlist item", responses=ITEM_NOT_FOUND)
async def read_item(db: Db, caller: Caller, item_id: PathId) -> WishlistItemRead:
    return await service.read_item(db, user_id=caller.user_id, item_id=item_id)


@router.delete(
    "/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an item",
    responses=ITEM_NOT_FOUND,
)
async def remove_item(db: Db, caller: Caller, item_id: PathId) -> Response:
    await service.remove_item(db, user_id=caller.user_id, item_id=item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/items/{item_id}/move-to-cart",
    summary="Put the product in the cart and take it off the wishlist; answers with the cart",
    description="Send `sku_id` when the product has more than one SKU for sale.",
    responses={**ITEM_NOT_FOUND, 422: {"description": "Choose an SKU, or not for sale"}},
)
async def move_to_cart(
    db: Db,
    caller: Caller,
    market: RequestMarket,
    item_id: PathId,
    body: MoveToCart | None = None,
) -> CartRead:
    choice = body or MoveToCart()
    return await service.move_to_cart(
        db,
        user_id=caller.user_id,
        item_id=item_id,
        sku_id=choice.sku_id,
        quantity=choice.quantity,
        currency=market.currency,
    )
