"""The audit trail. `record` only adds: it is written in the caller's transaction, so an
event exists exactly when the change it describes was committed."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.audit.models import AuditEvent
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
