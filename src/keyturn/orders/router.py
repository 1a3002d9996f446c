from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from keyturn.db import MAX_ID
from keyturn.deps import Admin, Caller, Db, PathId, RequestMarket
from keyturn.fields import Cursor, Moment
from keyturn.orders import checkout, service
from keyturn.orders.schemas import (
    CheckoutIn,
    OrderList,
    OrderRead,
    Status,
    StatusChange,
)

router = APIRouter(tags=["orders"])
admin_router = APIRouter(prefix="/admin", tags=["admin"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string per checkout attempt; a retry with the same key returns "
        "the same order",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Check out the cart (one transaction; safe to retry with Idempotency-Key)",
    responses={
        409: {"description": "Out of stock: `lines` names what cannot be supplied"},
        422: {
            "description": "Empty cart, bad address, or an Idempotency-Key reused for another body"
        },
    },
)
async def place_order(
    db: Db,
    caller: Caller,
    market: RequestMarket,
    body: CheckoutIn,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderRead:
    order, created = await checkout.place_order(
        db,
        caller=caller,
        body=body,
        idempotency_key=idempotency_key,
        market=market.code,
        currency=market.currency,
    )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return order


@router.get("/profile/orders", summary="Your orders, newest first")
async def list_orders(
    db: Db,
    caller: Caller,
    status: Status | None = None,
    cursor: Cursor | None = None,
    limit: Limit = 20,
) -> OrderList:
    return await service.list_orders(
        db, user_id=caller.user_id, status=status, cursor=cursor, limit=limit
    )


@router.get("/profile/orders/{order_id}", summary="One of your orders with items and history")
async def read_order(db: Db, caller: Caller, order_id: PathId) -> OrderRead:
    return await service.read_order(db, order_id=order_id, user_id=caller.user_id)


@router.post(
    "/profile/orders/{order_id}/cancel",
    summary="Cancel a pending or processing order; its stock goes back",
    responses={409: {"description": "Already shipped or delivered"}},
)
async def cancel_order(db: Db, caller: Caller, order_id: PathId) -> OrderRead:
    return await service.change_status(
        db,
        order_id=order_id,
        new_status="cancelled",
        actor="customer",
        actor_user_id=caller.user_id,
        owner_id=caller.user_id,
    )


@admin_router.get(
    "/orders",
    summary="All orders of this market, newest first, by status, time, customer or number",
    description="Each market is its own database: the market is the request's (`X-Market`, "
    "which must match the admin's token), so another market's orders never appear.",
)
async def admin_list_orders(
    db: Db,
    admin: Admin,
    status: Status | None = None,
    since: Annotated[
        Moment, Query(description="Placed at or after (ISO 8601; UTC if no zone)")
    ] = None,
    until: Annotated[Moment, Query(description="Placed before (ISO 8601; UTC if no zone)")] = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    number: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9-]{1,32}$")] = None,
    cursor: Cursor | None = None,
    limit: Limit = 50,
) -> OrderList:
    return await service.list_orders(
        db,
        user_id=user_id,
        status=status,
        cursor=cursor,
        limit=limit,
        since=since,
        until=until,
        number=number,
    )


@admin_router.get("/orders/{order_id}", summary="Any order with items and history")
async def admin_read_order(db: Db, admin: Admin, order_id: PathId) -> OrderRead:
    return await service.read_order(db, order_id=order_id, user_id=None)


@admin_router.post(
    "/orders/{order_id}/status",
    summary="Move an order: pending → processing → shipped → delivered, or cancelled",
    responses={409: {"description": "Illegal transition"}},
)
async def change_order_status(
    db: Db, admin: Admin, order_id: PathId, body: StatusChange
) -> OrderRead:
    return await service.change_status(
        db,
        order_id=order_id,
        new_status=body.status,
        actor="admin",
        actor_user_id=admin.user_id,
    )
