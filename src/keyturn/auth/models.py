from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
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


class Passkey(Base):
    """A WebAuthn credential a user registered: it signs them in on its own (a first factor,
    user verification required). Found by `credential_id` when the browser or phone offers it."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url of the raw credential id (at most 1023 bytes).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key
    # base64url of the WebAuthn `user.id` the authenticator stored with the credential.
    user_handle: Mapped[str] = mapped_column(String(88))
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    aaguid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(100))
    # Backup eligible: a synced (multi-device) passkey; its counter may legitimately repeat.
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasskeyChallenge(Base):
    """An open WebAuthn challenge, in the market database so every instance sees it.
    Single-use: answering deletes it, whether or not the answer verifies."""

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex
    purpose: Mapped[str] = mapped_column(String(16))  # register | login | reauth
    # register and reauth: the session that asked; its answer must come from that session.
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    user_handle: Mapped[str | None] = mapped_column(String(88))  # register: `user.id` offered
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Identity(Base):
    """An Apple or Google account (provider, subject) that signs a user in, with the email
    the provider showed when it was last seen (docs/social-sign-in.md)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))  # apple | google
    subject: Mapped[str] = mapped_column(String(255))  # the provider's stable `sub`
    client_id: Mapped[str] = mapped_column(String(255))  # the `aud` it was issued for
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    private_relay: Mapped[bool] = mapped_column(Boolean, default=False)  # Apple's relay address
    # Apple sends the name once, at the first sign-in: kept from then on.
    full_name: Mapped[str | None] = mapped_column(String(200))
    # Apple's refresh token, sealed (AES-GCM); revoked at Apple when the account goes.
    refresh_token_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AppleRevocation(Base):
    """An Apple refresh token to revoke at Apple (account deleted or Apple unlinked), kept
    until Apple confirms; no user id, the account it belonged to may be gone."""

    __tablename__ = "apple_revocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255))
    token_sealed: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TotpFactor(Base):
    """A user's authenticator app (TOTP), the second factor at sign-in once `confirmed_at` is
    set. One per user. The secret is stored encrypted (auth/mfa/cipher.py); the last time step
    a code was accepted for is kept so no code works twice. Wrong second-step codes are
    counted here, per client and for the whole account (auth/mfa/throttle.py)."""

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(200))  # encrypted, see auth/mfa/cipher.py
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # NULL while enrolment waits for its first right code: the factor does not count yet.
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # {client key: [count, first failure (Unix seconds)]}
    client_failures: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)


class RecoveryCode(Base):
    """One of the 10 single-use codes that stand in for the authenticator app, stored as an
    HMAC (the owner saw them once)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MfaChallenge(Base):
    """A sign-in waiting for its second factor: the first factor was proven, no session is open
    yet. The client holds the `mfa_token` (stored as its SHA-256); single-use, short-lived,
    bound to the first step's method and device, a few tries."""

    __tablename__ = "mfa_challenges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # the first factor: password | phone
    device_name: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    # The guest session the first step came from: its cart joins the account at the end.
    guest_session_id: Mapped[str | None] = mapped_column(String(32))
    guest_user_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
