from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from keyturn.db import Base, BigId, UtcDateTime, utcnow


class DevMessage(Base):
    """An SMS or email the console providers "sent": the development outbox.

    Kept in the market database so every worker process sees it.
    """

    __tablename__ = "dev_messages"
    __table_args__ = (Index("ix_dev_messages_recipient_id", "recipient", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))  # verification | password_reset | ...
    body: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(16))
    token: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
