"""The audit trail. `record` only adds: it is written in the caller's transaction, so an
event exists exactly when the change it describes was committed."""

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit.models import AuditEvent
from keyturn.audit.schemas import AuditEventList, AuditEventRead, AuditEventTypes, AuditFilter
from keyturn.logs import get_logger

log = get_logger("keyturn.audit")

EVENTS = {
    "login.succeeded",
    "login.failed",
    "logout",
    "session.revoked",
    "refresh.reuse_detected",
    "password.changed",
    "password.reset",
    "account.disabled",
    "account.enabled",
    "account.linked",
    "account.promoted",
    "account.secured",
    "seed.imported",
    "email.proof_requested",
    "email.verified",
    "passkey.added",
    "passkey.removed",
    "passkey.used",
    "passkey.refused",
    "session.reauthenticated",
    "session.reauthentication_failed",
    "account.deleted",
    "account.exported",
    "identity.linked",
    "identity.unlinked",
    "catalog.imported",
    "login.second_factor_required",
    "mfa.enabled",
    "mfa.disabled",
    "mfa.recovery_code_used",
    "mfa.recovery_codes_replaced",
    "mfa.reset",
}


def record(
    db: AsyncSession,
    event: str,
    *,
    user_id: int | None = None,
    session_id: str | None = None,
    ip: str | None = None,
    **details: Any,
) -> None:
    assert event in EVENTS, event
    db.add(AuditEvent(event=event, user_id=user_id, session_id=session_id, ip=ip, details=details))
    log.info("audit", audit_event=event, user_id=user_id, session_id=session_id)


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.user_id is not None:
        query = query.where(AuditEvent.user_id == where.user_id)
    if where.event:
        query = query.where(
            or_(
                AuditEvent.event == where.event,
                AuditEvent.event.startswith(f"{where.event}.", autoescape=True),
            )
        )
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.created_at < where.until)
    return query


async def list_events(
    db: AsyncSession, *, where: AuditFilter, cursor: str | None, limit: int
) -> AuditEventList:
    """Newest first; `cursor` is the last id of the previous page."""
    query = _filtered(select(AuditEvent), where).order_by(AuditEvent.id.desc())
    if cursor is not None:
        query = query.where(AuditEvent.id < int(cursor))
    rows = list(await db.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    return AuditEventList(
        items=[AuditEventRead.model_validate(r) for r in page],
        next_cursor=str(page[-1].id) if len(rows) > limit else None,
    )


async def event_page(
    db: AsyncSession, *, where: AuditFilter, after: int, limit: int
) -> list[AuditEventRead]:
    """Oldest first from `after` (an id): what an export reads one page at a time."""
    query = _filtered(select(AuditEvent), where).where(AuditEvent.id > after)
    rows = await db.scalars(query.order_by(AuditEvent.id).limit(limit))
    return [AuditEventRead.model_validate(r) for r in rows]


def event_types() -> AuditEventTypes:
    return AuditEventTypes(items=sorted(EVENTS))
