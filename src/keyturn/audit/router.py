from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from keyturn.audit import export, service
from keyturn.audit.schemas import AuditEventList, AuditEventTypes, AuditFilterQuery, ExportFormat
from keyturn.db import utcnow
from keyturn.deps import Admin, DatabasesDep, Db, Market
from keyturn.fields import Cursor

admin_router = APIRouter(prefix="/admin/audit-events", tags=["admin"])

Limit = Annotated[int, Query(ge=1, le=200)]


@admin_router.get("", summary="The audit log of this market, newest first, filtered")
async def list_audit_events(
    db: Db, _: Admin, where: AuditFilterQuery, cursor: Cursor | None = None, limit: Limit = 50
) -> AuditEventList:
    return await service.list_events(db, where=where, cursor=cursor, limit=limit)


@admin_router.get("/types", summary="The event names the audit log records")
async def list_audit_event_types(_: Admin) -> AuditEventTypes:
    return service.event_types()


@admin_router.get(
    "/export",
    summary="Download the filtered audit log, oldest first, as CSV or NDJSON",
    description="Streamed page by page; no database transaction is held while the client "
    "reads. CSV cells that a spreadsheet would run as a formula start with `'`.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def export_audit_events(
    db: Db,
    _: Admin,
    databases: DatabasesDep,
    market: Market,
    where: AuditFilterQuery,
    format: Annotated[ExportFormat, Query(description="`csv` or `ndjson`")] = "csv",
) -> StreamingResponse:
    body = await export.start_export(
        db, databases=databases, market=market, where=where, fmt=format
    )
    name = f"audit-{market}-{utcnow():%Y%m%dT%H%M%SZ}.{format}"
    return StreamingResponse(
        body,
        media_type=export.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
