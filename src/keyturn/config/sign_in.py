"""Sign-in settings: tokens, SMS codes and their provider, email, passwords, second factors,
guests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class TokenSettings(BaseModel):
    issuer: str = "keyturn"
    audience: str = "keyturn"
    algorithm: Literal["EdDSA", "HS256"] = "EdDSA"
    hs256_secret: str | None = None
    keys_file: Path | None = None  # Ed25519 keyring (JSON); generated in the data dir when unset
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_idle_ttl: timedelta = timedelta(days=14)
    session_absolute_ttl: timedelta = timedelta(days=30)
    # Step-up (RFC 9470): actions that could take an account over need a proof of identity
    # (`auth_time`) at most this old (docs/passkeys-and-step-up.md).
    step_up_max_age: timedelta = Field(default=timedelta(minutes=10), gt=timedelta(0))


class OtpSettings(BaseModel):
    """Code rules (docs/sms-firewall.md). Wrong codes count across resends: per phone and
    client address (`max_attempts` per `failure_window`: locks out that client only) and per
    phone from all clients together (`max_attempts_per_phone` per `phone_failure_window`)."""

    ttl: timedelta = timedelta(minutes=5)
    max_attempts: int = Field(default=5, ge=1)
    resend_cooldown: timedelta = timedelta(seconds=60)
    failure_window: timedelta = timedelta(hours=1)
    max_attempts_per_phone: int = Field(default=30, ge=1)
    phone_failure_window: timedelta = timedelta(days=1)
    # `limits` rate strings; several separated by ';'.
    per_phone: str = "10/hour;30/day"
    per_ip: str = "1000/hour;5000/day"
    per_country: str = "1000/hour"
    global_daily: str = "10000/day"
    verify_per_ip: str = "300/minute"


class SmsSettings(BaseModel):
    provider: Literal["console", "twilio-verify", "twilio-messaging"] = "console"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_verify_service_sid: str | None = None
    twilio_from: str | None = None
    # Only for tests and private gateways: send Twilio API calls to this base URL instead.
    twilio_base_url: str | None = None

    def missing_twilio_settings(self) -> list[str]:
        """Env names of the settings the chosen Twilio provider needs but lacks."""
        needed = {
            "twilio-verify": ("account_sid", "auth_token", "verify_service_sid"),
            "twilio-messaging": ("account_sid", "auth_token", "from"),
        }.get(self.provider, ())
        return [
            f"KEYTURN_SMS__TWILIO_{name.upper()}"
            for name in needed
            if not (getattr(self, f"twilio_{name}") or "").strip()
        ]

    @model_validator(mode="after")
    def _twilio_complete(self) -> SmsSettings:
        missing = self.missing_twilio_settings()
        if missing:
            raise ValueError(f"SMS provider {self.provider} needs " + ", ".join(missing))
        if self.twilio_base_url and not self.twilio_base_url.startswith(("http://", "https://")):
            raise ValueError("KEYTURN_SMS__TWILIO_BASE_URL must be an http:// or https:// URL")
        return self


class EmailSettings(BaseModel):
    provider: Literal["console", "smtp"] = "console"
    sender: str = "keyturn <no-reply@keyturn.local>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    reset_ttl: timedelta = timedelta(minutes=30)
    # Codes that prove a mailbox (docs/email-proof.md): lifetime, wrong answers per code.
    proof_ttl: timedelta = timedelta(minutes=15)
    proof_max_attempts: int = Field(default=5, ge=1)
    # `{token}` and, optionally, `{market}`: /app opens its reset form in that market.
    reset_url: str = "http://127.0.0.1:8000/app#reset?token={token}&market={market}"
    smtp_timeout: float = 10.0
    # CA bundle that verifies the SMTP server's certificate (default: the system's).
    smtp_ca_file: Path | None = None


class LoginSettings(BaseModel):
    """Password sign-in throttles (`limits` rate strings; several separated by ';').
    Only failures count; the account window is short so nobody can lock an owner out long."""

    failures_per_account: str = "5/15 minutes"
    failures_per_ip: str = "200/hour"
    register_per_ip: str = "200/hour"
    forgot_per_email: str = "3/hour"
    forgot_per_ip: str = "100/hour"
    # Proofs of an email for an account (`POST /auth/link/email`, `/link/email/send`).
    link_email_per_account: str = "5/hour;20/day"
    link_email_per_address: str = "3/hour;10/day"
    link_email_per_ip: str = "100/hour"


class MfaSettings(BaseModel):
    """Second factors: authenticator apps (TOTP) and recovery codes (docs/second-factors.md)."""

    # Encrypts TOTP secrets at rest: 32+ characters (`openssl rand -base64 32`). Generated in
    # the data dir in development; production refuses to start without it.
    encryption_key: str | None = Field(default=None, min_length=32)
    # Keys used before a rotation: secrets they encrypted stay readable until re-enrolled.
    old_encryption_keys: list[str] = []
    issuer: str = Field(default="keyturn", min_length=1, max_length=64)  # what the app shows
    enrolment_ttl: timedelta = Field(default=timedelta(minutes=15), gt=timedelta(0))
    # The `mfa_token` between the first factor and the second.
    token_ttl: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    token_attempts: int = Field(default=5, ge=1)
    # Wrong second-factor codes from one client (an IPv4 address, an IPv6 /64) per window:
    # that client waits, the owner elsewhere does not.
    max_failures: int = Field(default=5, ge=1)
    failure_window: timedelta = Field(default=timedelta(minutes=15), gt=timedelta(0))
    # From every client together: the account's second step waits (the brute-force bound).
    max_failures_per_account: int = Field(default=30, ge=1)
    account_failure_window: timedelta = Field(default=timedelta(days=1), gt=timedelta(0))


class GuestSettings(BaseModel):
    """Guest sessions: a cart and a wishlist before sign-in, nothing else (docs/security.md)."""

    per_ip: str = "200/hour"  # guest sessions a client address may start (`limits` rules)
    idle_ttl: timedelta = timedelta(days=30)  # a guest not seen for this long is purged
    sweep_every: timedelta = timedelta(hours=1)  # the sweep inside `serve`; 0 turns it off
