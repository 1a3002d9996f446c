from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keyturn.db import Base, BigId, UtcDateTime, utcnow


class PhoneChallenge(Base):
    """The open SMS code of one phone number. One row per phone: a resend replaces the code
    but keeps counting failures, so resending never buys more guesses."""

    __tablename__ = "phone_challenges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(20), unique=True)
    # HMAC of the code; NULL when the SMS provider owns the code (Twilio Verify).
    code_hash: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Wrong codes from every client, since `first_failed_at` (the per-phone daily bound).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Wrong codes per client in the last `otp.failure_window`: {client key: [count, since]}
    # (a keyed hash of the client's network, never its address; at most a few entries).
    client_failures: Mapped[dict[str, tuple[int, float]] | None] = mapped_column(JSON)


class PasswordReset(Base):
    """A single-use password reset token, stored only as its SHA-256 (the email holds it)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EmailProof(Base):
    """An open proof of a mailbox (docs/email-proof.md): an address claimed for an account
    (with the argon2id hash of the password chosen with it), or the account's own unproven
    address. Nothing is attached to the account until the emailed code comes back. One per
    account; a new claim replaces it."""

    __tablename__ = "email_proofs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    # Set for a claim (the password that comes with the address); NULL for the own address.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
