import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, FetchedValue, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyturn.db import Base, BigId, UtcDateTime, utcnow


def _uid() -> str:
    return secrets.token_hex(12)


class Event(Base):
    """What keyturn decided, written in the same transaction as the change it announces
    (docs/events.md). Webhooks, the revocation feed and the admin event log read it."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_txid_id", "txid", "id"),
        Index("ix_outbox_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The `webhook-id` of every delivery of this event: random, so a restored database that
    # reuses ids never makes a receiver drop a new event as a duplicate.
    uid: Mapped[str] = mapped_column(String(24), default=_uid)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # PostgreSQL: the id of the transaction that wrote the row (a server default), so readers
    # follow the table in commit order (`events.positions`). NULL on SQLite (serial writers).
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())


class EventCursor(Base):
    """How far a reader that must see every event exactly once (the webhook fan-out) got."""

    __tablename__ = "event_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
