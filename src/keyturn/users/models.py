from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from keyturn.db import Base, BigId, UtcDateTime, utcnow

ROLES = ("guest", "customer", "admin")


class User(Base):
    """A person (or a guest device) in one market. Everything they own hangs off `id`."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('guest', 'customer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(200))
    profile_image_url: Mapped[str | None] = mapped_column(String(2048))
    company: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="customer")
    # Account enabled. Only an admin changes it; logout never touches it
    # (docs/tokens-and-sessions.md).
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    market: Mapped[str] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    last_login: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Set when the person deleted the account: the row stays, emptied of everything personal,
    # so the orders kept for accounting still point at someone (docs/privacy.md).
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
