from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keyturn.db import Base, BigId, UtcDateTime, utcnow


class UsageCounter(Base):
    """How much of a named allowance (`uploads`, ...) one user has used.

    Consumed only by a conditional `UPDATE ... WHERE used + n <= limit` (usage.service)."""

    __tablename__ = "usage_counters"
    __table_args__ = (
        CheckConstraint("used >= 0", name="used_not_negative"),
        CheckConstraint('"limit" >= 0', name="limit_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    limit: Mapped[int] = mapped_column(Integer)
    # Reset period in seconds; NULL: the counter never resets.
    period_seconds: Mapped[int | None] = mapped_column(Integer)
    # End of the current period; NULL until first use of a periodic counter.
    resets_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
