from typing import Annotated

from fastapi import APIRouter, Query

from keyturn.db import MAX_ID
from keyturn.deps import Admin, Db
from keyturn.events import service
from keyturn.events.schemas import EventList, EventTypeRead

admin_router = APIRouter(prefix="/admin", tags=["admin: events and webhooks"])

TypePattern = Annotated[
    str,
    Query(
        pattern=r"^(\*|[a-z_]+\.\*|[a-z_]+\.[a-z_]+)$",
        description="`order.created`, `order.*` or `*`",
    ),
]


@admin_router.get("/events", summary="The event log in id order (what webhooks deliver)")
async def list_events(
    db: Db,
    admin: Admin,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="The last id you have seen")] = 0,
    type: TypePattern | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> EventList:
    return await service.list_events(db, after=after, type_=type, limit=limit)


@admin_router.get("/event-types", summary="Every event type, with when it is emitted")
async def list_event_types(admin: Admin) -> list[EventTypeRead]:
    return [EventTypeRead(type=t, description=d) for t, d in service.TYPES.items()]
