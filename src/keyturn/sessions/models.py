from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyturn.db import Base, BigId, UtcDateTime, utcnow


class Session(Base):
    """One signed-in device. Revoking it ends its access and refresh tokens at once."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id_revoked_at", "user_id", "revoked_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not guessable
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auth_method: Mapped[str] = mapped_column(String(16))  # phone | password | passkey | guest
    device_name: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)  # absolute, never extended
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    # The last proof of identity in this session (sign-in or re-authentication) and its
    # RFC 8176 methods, space-separated; every access token of the session carries both.
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    amr: Mapped[str] = mapped_column(String(64), default="")
    # The refresh token redeemed most recently; see sessions.refresh for the rule.
    last_redeemed_id: Mapped[int | None] = mapped_column(BigInteger)
    # A seed client whose claims this session's access tokens carry too (`jobpsych`), or NULL.
    compat: Mapped[str | None] = mapped_column(String(16))


class RefreshToken(Base):
    """An opaque refresh token, stored only as its SHA-256. A session's tokens form a chain."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
