from typing import Annotated

from fastapi import APIRouter, Path

from keyturn.deps import Admin, Caller, Db, PathId, SettingsDep
from keyturn.usage import service
from keyturn.usage.schemas import COUNTER_NAME, ConsumeIn, CounterRead, LimitUpdate, UsageRead

router = APIRouter(prefix="/usage", tags=["usage"])
admin_router = APIRouter(prefix="/admin/users", tags=["admin"])

CounterName = Annotated[str, Path(pattern=COUNTER_NAME, description="e.g. `uploads`")]


@router.get("", summary="Your usage counters: used, limit, remaining and when they reset")
async def read_usage(db: Db, caller: Caller, settings: SettingsDep) -> UsageRead:
    return await service.read_usage(db, user_id=caller.user_id, settings=settings.usage)


@router.post(
    "/{name}/consume",
    summary="Use up `amount` units of a counter, atomically",
    description="For services acting with the user's token. Over the limit: 429 with the "
    "counter in the body and `Retry-After`; nothing is consumed.",
    responses={429: {"description": "The counter would pass its limit"}},
)
async def consume_counter(
    db: Db, caller: Caller, settings: SettingsDep, name: CounterName, body: ConsumeIn
) -> CounterRead:
    return await service.consume_counter(
        db, user_id=caller.user_id, name=name, amount=body.amount, settings=settings.usage
    )


@admin_router.put("/{user_id}/usage/{name}", summary="Set one user's limit for a counter")
async def set_limit(
    db: Db,
    admin: Admin,
    settings: SettingsDep,
    user_id: PathId,
    name: CounterName,
    body: LimitUpdate,
) -> CounterRead:
    return await service.set_limit(
        db,
        user_id=user_id,
        name=name,
        limit=body.limit,
        admin_id=admin.user_id,
        settings=settings.usage,
    )
