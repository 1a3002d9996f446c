from typing import Any

from fastapi import APIRouter

from keyturn.cart import service
from keyturn.cart.schemas import CartItemCreate, CartItemUpdate, CartLine, CartRead
from keyturn.deps import Caller, Db, PathId, RequestMarket, SignedIn
from keyturn.routing import SignedInRead

router = APIRouter(prefix="/cart", tags=["cart"])

ITEM_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such line in your cart"}
}


async def read_cart(bearer: SignedIn) -> CartRead:
    return await service.read_cart(bearer.market, claims=bearer.claims)


router.add_api_route(
    "",
    read_cart,
    methods=["GET"],
    summary="Your cart at current prices, with line totals and stock",
    route_class_override=SignedInRead,
)


@router.post(
    "/items",
    summary="Add an SKU; if it is already in the cart its quantity grows (capped at 99)",
    responses={
        404: {"description": "No such SKU (`cart.sku_not_found`)"},
        422: {"description": "Bad quantity, or the SKU is not for sale (`cart.sku_inactive`)"},
    },
)
async def add_item(db: Db, caller: Caller, market: RequestMarket, body: CartItemCreate) -> CartRead:
    return await service.add_item(
        db,
        user_id=caller.user_id,
        sku_id=body.sku_id,
        quantity=body.quantity,
        currency=market.currency,
    )


@router.get("/items/{item_id}", summary="One line of your cart", responses=ITEM_NOT_FOUND)
async def read_item(db: Db, caller: Caller, item_id: PathId) -> CartLine:
    return await service.read_item(db, user_id=caller.user_id, item_id=item_id)


@router.put("/items/{item_id}", summary="Set a line's quantity (1 to 99)", responses=ITEM_NOT_FOUND)
async def set_quantity(
    db: Db,
    caller: Caller,
    market: RequestMarket,
    item_id: PathId,
    body: CartItemUpdate,
) -> CartRead:
    return await service.set_quantity(
        db,
        user_id=caller.user_id,
        item_id=item_id,
        quantity=body.quantity,
        currency=market.currency,
    )


@router.delete("/items/{item_id}", summary="Remove one line", responses=ITEM_NOT_FOUND)
async def remove_item(db: Db, caller: Caller, market: RequestMarket, item_id: PathId) -> CartRead:
    return await service.remove_item(
        db, user_id=caller.user_id, item_id=item_id, currency=market.currency
    )


@router.delete("", summary="Empty the cart")
async def clear_cart(db: Db, caller: Caller, market: RequestMarket) -> CartRead:
    return await service.clear_cart(db, user_id=caller.user_id, currency=market.currency)
