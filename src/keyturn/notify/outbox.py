"""The development outbox: what the console SMS and email providers "send"."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.notify.models import DevMessage
from keyturn.notify.schemas import OutboxMessage, OutboxRead


async def keep(
    db: AsyncSession,
    *,
    channel: str,
    recipient: str,
    kind: str,
    body: str,
    code: str | None = None,
    token: str | None = None,
) -> None:
    db.add(
        DevMessage(
            channel=channel,
            recipient=normalize_recipient(recipient),
            kind=kind,
            body=body,
            code=code,
            token=token,
        )
    )
    await db.flush()


def normalize_recipient(to: str) -> str:
    """Emails are kept lower-cased; phone numbers in E.164 (spaces and dashes dropped)."""
    to = to.strip()
    if "@" in to:
        return to.lower()
    return "+" + "".join(ch for ch in to if ch.isdigit())


async def read(db: AsyncSession, *, to: str, limit: int = 20) -> OutboxRead:
    rows = await db.scalars(
        select(DevMessage)
        .where(DevMessage.recipient == normalize_recipient(to))
        .order_by(DevMessage.id.desc())
        .limit(limit)
    )
    return OutboxRead(
        items=[
            OutboxMessage(
                id=m.id,
                channel=m.channel,
                to=m.recipient,
                kind=m.kind,
                body=m.body,
                code=m.code,
                token=m.token,
                created_at=m.created_at,
            )
            for m in rows
        ]
    )
