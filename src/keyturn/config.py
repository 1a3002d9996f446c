"""Settings, read once at start-up from `KEYTURN_*` environment variables and `.env`.

Anything missing or invalid fails loudly with the name of the setting (see `load_settings`).
"""

from __future__ import annotations

import base64
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

API_PREFIX = "/api/v1"  # every API route's path starts here (routes.py, the cookie path)


class ConfigError(Exception):
    """Settings are missing or invalid; the message names them."""


class MarketConfig(BaseModel):
    code: str = Field(pattern=r"^[a-z]{2,8}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    language: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    # Countries (ISO 3166 alpha-2) whose numbers may receive SMS codes (SMS-pumping defence,
    # docs/sms-firewall.md). Unset: the market's own country only; `[]`: any country.
    sms_countries: list[str] | None = None
    database_url: str | None = None

    @model_validator(mode="after")
    def _own_country_by_default(self) -> MarketConfig:
        if self.sms_countries is None:
            self.sms_countries = [self.country]
        return self


DEFAULT_MARKETS = [
    MarketConfig(code="kg", currency="KGS", language="ru", country="KG"),  # +996
    # +1 is shared by 25 countries; the Caribbean ones are classic SMS-pumping destinations.
    MarketConfig(
        code="us", currency="USD", language="en", country="US", sms_countries=["US", "CA"]
    ),
]


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


class AndroidApp(BaseModel):
    """An Android app that shares our passkeys: listed in `/.well-known/assetlinks.json`, and
    its signing certificates' `android:apk-key-hash:` origins are allowed."""

    package_name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
    # SHA-256 of the signing certificate, `AB:CD:...` as `keytool -list -v` prints it.
    sha256_cert_fingerprints: list[str] = Field(min_length=1)

    @field_validator("sha256_cert_fingerprints")
    @classmethod
    def _colon_hex(cls, fingerprints: list[str]) -> list[str]:
        upper = [f.strip().upper() for f in fingerprints]
        for fingerprint in upper:
            if not re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", fingerprint):
                raise ValueError("a SHA-256 fingerprint is 32 hex bytes separated by ':'")
        return upper

    def origins(self) -> list[str]:
        """The WebAuthn origins this app's passkey requests carry."""
        return [
            "android:apk-key-hash:"
            + base64.urlsafe_b64encode(bytes.fromhex(f.replace(":", ""))).decode().rstrip("=")
            for f in self.sha256_cert_fingerprints
        ]


class PasskeySettings(BaseModel):
    """The WebAuthn relying party (docs/passkeys-and-step-up.md)."""

    # The domain passkeys belong to: the site's host or a parent domain of it (never an IP).
    rp_id: str = "localhost"
    rp_name: str = "keyturn"
    # Web origins allowed to use passkeys (`https://shop.example`). Empty while `rp_id` is
    # `localhost`: any `http://localhost:<port>` (development). Android apps' origins come from
    # `android_apps`; native iOS apps use the web origin of `rp_id`.
    origins: list[str] = []
    challenge_ttl: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # Sign-in options handed out per client address (`limits` rate strings, ';'-separated);
    # each is a stored challenge. Pages with passkey autofill ask once per visit.
    login_options_per_ip: str = "3000/hour"
    # `TEAMID.bundle.id` of iOS apps: `/.well-known/apple-app-site-association` webcredentials.
    apple_app_ids: list[str] = []
    android_apps: list[AndroidApp] = []

    @field_validator("rp_id")
    @classmethod
    def _domain(cls, rp_id: str) -> str:
        rp_id = rp_id.strip().lower()
        label = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
        if not re.fullmatch(rf"{label}(\.{label})*", rp_id):
            raise ValueError("rp_id is a domain name (e.g. shop.example), not a URL or an IP")
        if re.fullmatch(r"[0-9.]+", rp_id):
            raise ValueError("rp_id cannot be an IP address (WebAuthn refuses them)")
        return rp_id

    @field_validator("apple_app_ids")
    @classmethod
    def _app_ids(cls, app_ids: list[str]) -> list[str]:
        for app_id in app_ids:
            if not re.fullmatch(r"[A-Z0-9]{10}\.[A-Za-z0-9.-]+", app_id):
                raise ValueError(f"{app_id!r} is not TEAMID.bundle.id")
        return app_ids

    @model_validator(mode="after")
    def _origins_match_rp_id(self) -> PasskeySettings:
        for origin in self.origins:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            if (
                parts.scheme not in ("https", "http")
                or parts.path
                or parts.query
                or (parts.scheme == "http" and host != "localhost")
            ):
                raise ValueError(
                    f"passkey origin {origin!r}: https://host[:port] (http only for localhost)"
                )
            if host != self.rp_id and not host.endswith("." + self.rp_id):
                raise ValueError(f"passkey origin {origin!r} is not on rp_id {self.rp_id!r}")
        return self

    def allows_origin(self, origin: str) -> bool:
        """Whether a ceremony from `origin` (clientDataJSON's) may use our passkeys."""
        if origin in self.origins:
            return True
        if any(origin in app.origins() for app in self.android_apps):
            return True
        if self.origins or self.rp_id != "localhost":
            return False
        parts = urlsplit(origin)
        return f"{parts.scheme}://{parts.netloc}" == origin and parts.hostname == "localhost"


class FileSettings(BaseModel):
    backend: Literal["local", "s3"] = "local"
    max_size: int = 10 * 1024 * 1024
    allowed_types: list[str] = [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
        "image/png",
        "image/jpeg",
    ]
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    # Local backend directory; default: `<data_dir>/files`. Uploads spool to `<data_dir>/tmp`.
    local_dir: Path | None = None
    # Stored objects without a file row are removed by the sweep once this old (an upload in
    # flight has stored its bytes but not yet committed its row).
    orphan_grace: timedelta = timedelta(hours=1)

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> FileSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("KEYTURN_FILES__S3_BUCKET is required when KEYTURN_FILES__BACKEND=s3")
        return self


class UsageSettings(BaseModel):
    """Plan defaults, copied into a user's counter when it is first used (see
    docs/files-and-quotas.md); an admin may then change that user's limit."""

    limits: dict[str, int] = {"uploads": 10}
    # Optional reset period per counter name; counters without one never reset.
    periods: dict[str, timedelta] = {}
    # Retry-After for an exhausted counter that has no period.
    retry_after_without_period: int = Field(default=3600, ge=1)

    @model_validator(mode="after")
    def _check_counters(self) -> UsageSettings:
        if "uploads" not in self.limits:
            raise ValueError("KEYTURN_USAGE__LIMITS must include 'uploads' (file uploads use it)")
        for name, limit in self.limits.items():
            if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,63}", name) or limit < 0:
                raise ValueError(f"usage limit {name!r}: lowercase name and a limit >= 0 needed")
        if any(period.total_seconds() < 1 for period in self.periods.values()):
            raise ValueError("usage periods must be at least one second")
        return self


class WorkerSettings(BaseModel):
    """The background loop that sends webhooks and security notices (docs/webhooks.md):
    inside every `serve` process, and in `keyturn worker` processes."""

    in_serve: bool = True  # false when dedicated `keyturn worker` processes do the work
    poll_interval: timedelta = timedelta(seconds=1)
    concurrency: int = Field(default=8, ge=1, le=256)  # requests in flight per process
    # How long past its timeout a claimed attempt that recorded nothing (its process died) is
    # presumed lost and may be taken again; covers a slow database when the outcome is written.
    claim_grace: timedelta = timedelta(seconds=30)


class WebhookSettings(BaseModel):
    """Signed webhook delivery (docs/webhooks.md)."""

    timeout: timedelta = timedelta(seconds=10)  # one attempt, resolving to the status line
    retry_for: timedelta = timedelta(days=3)  # then the delivery is marked failed
    backoff_first: timedelta = timedelta(seconds=5)  # doubles per attempt, with jitter
    backoff_max: timedelta = timedelta(hours=6)
    secret_overlap: timedelta = timedelta(hours=24)  # the old secret still signs after a rotation
    # Private, loopback or link-local networks webhooks may still be sent to (SSRF guard).
    allow_networks: list[IPvAnyNetwork] = []
    retention: timedelta = timedelta(days=30)  # events and finished deliveries kept this long


class NoticeSettings(BaseModel):
    """Security notices to the account's owner (docs/security-notices.md)."""

    enabled: bool = True
    link_ttl: timedelta = timedelta(hours=24)
    # The "this wasn't me" link; `{token}` is replaced.
    link_url: str = "http://127.0.0.1:8000/wasnt-me?token={token}"
    retry_for: timedelta = timedelta(hours=6)


class RevocationSettings(BaseModel):
    """The revocation feed for services that verify tokens locally (docs/revocation-feed.md)."""

    # Bearer credentials of the services allowed to read the feed (at least 32 characters
    # each; two during a rotation).
    service_tokens: list[SecretStr] = []
    max_wait: timedelta = timedelta(seconds=30)  # the longest long-poll
    check_every: timedelta = timedelta(milliseconds=500)  # while a long-poll waits

    @field_validator("service_tokens")
    @classmethod
    def _long_enough(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        if any(len(t.get_secret_value()) < 32 for t in tokens):
            raise ValueError("each service token needs at least 32 characters")
        return tokens


# Seed-shaped APIs that `KEYTURN_COMPAT` can switch on (docs/compat-jobpsych.md and
# docs/migrating-from-the-seed-systems.md).
COMPAT_NAMES = ("jobpsych", "mobile-v0")


class JobPsychSettings(BaseModel):
    """The JobPsych-compatible API (`KEYTURN_COMPAT` includes `jobpsych`)."""

    # The market its users live in; default: the default market.
    market: str | None = None
    # Addresses (after trusted-proxy resolution) allowed to read and increment any user's
    # upload count by email, as the analysis service does; a user's own token always may.
    service_ips: list[str] = []


class OAuthSettings(BaseModel):
    """Sign in with Apple and Google: native id_tokens verified against the provider's JWKS
    (docs/social-sign-in.md). A provider with no client ids is off. The URLs and issuers are
    settings so tests (and private gateways) can point them elsewhere."""

    # `aud` values accepted: the iOS bundle id and Services ID (Apple); the Android, iOS and
    # web client ids (Google).
    apple_client_ids: list[str] = []
    google_client_ids: list[str] = []
    apple_issuer: str = "https://appleid.apple.com"
    apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    apple_token_url: str = "https://appleid.apple.com/auth/token"  # noqa: S105 (a URL)
    apple_revoke_url: str = "https://appleid.apple.com/auth/revoke"
    google_issuers: list[str] = ["https://accounts.google.com", "accounts.google.com"]
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    # The Sign in with Apple key (ES256, a .p8 PEM): signs the client secret that exchanges
    # authorization codes and revokes tokens when an account is deleted.
    apple_team_id: str | None = None
    apple_key_id: str | None = None
    apple_private_key: str | None = None
    apple_private_key_file: Path | None = None
    # Refuse id_tokens without a nonce the client sent with the request (replay defence).
    require_nonce: bool = True
    # An id_token issued longer ago than this is refused, whatever its `exp` says.
    max_token_age: timedelta = timedelta(minutes=10)
    jwks_ttl: timedelta = timedelta(hours=6)
    # An unknown `kid` refetches the JWKS at most this often (key rotation, bounded).
    jwks_refetch_after: timedelta = timedelta(seconds=30)
    http_timeout: float = Field(default=5.0, gt=0)

    def client_ids(self, provider: str) -> list[str]:
        return self.apple_client_ids if provider == "apple" else self.google_client_ids

    def apple_key_pem(self) -> str | None:
        if self.apple_private_key:
            return self.apple_private_key
        if self.apple_private_key_file:
            return self.apple_private_key_file.read_text()
        return None

    @model_validator(mode="after")
    def _apple_key_complete(self) -> OAuthSettings:
        given = [
            self.apple_team_id,
            self.apple_key_id,
            self.apple_private_key or self.apple_private_key_file,
        ]
        if any(given) and not all(given):
            raise ValueError(
                "Sign in with Apple's key needs KEYTURN_OAUTH__APPLE_TEAM_ID, "
                "KEYTURN_OAUTH__APPLE_KEY_ID and KEYTURN_OAUTH__APPLE_PRIVATE_KEY(_FILE)"
            )
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KEYTURN_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    # May hold `{market}`; default: one SQLite file per market in the data dir.
    database_url: str | None = None
    redis_url: str | None = None
    default_market: str = "kg"
    markets: list[MarketConfig] = DEFAULT_MARKETS
    secret_key: str | None = None  # HMAC key for OTP hashes; generated in the data dir in dev
    cors_origins: list[str] = []
    trusted_proxies: list[str] = []
    cookie_secure: bool = True
    log_level: str = "INFO"
    # Request bodies larger than this are refused (413) before they are read, except on the
    # upload route, which streams and bounds its body itself (`files.max_size`).
    max_body_size: int = Field(default=64 * 1024, ge=1024)
    # OTLP/HTTP collector (e.g. http://collector:4318): traces on. The standard OTEL_* variables
    # work too (docs/tracing.md).
    otel_exporter_otlp_endpoint: str | None = None
    load_demo_catalog: bool = True
    # Comma-separated names from COMPAT_NAMES, or empty for none; unset: all of them in
    # development, none in production.
    compat: Annotated[frozenset[str] | None, NoDecode] = None
    # Production refuses unsafe defaults unless each is allowed explicitly.
    allow_console_sms: bool = False
    allow_console_email: bool = False
    allow_generated_keys: bool = False
    allow_sqlite: bool = False
    allow_insecure_cookies: bool = False

    tokens: TokenSettings = TokenSettings()
    otp: OtpSettings = OtpSettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    login: LoginSettings = LoginSettings()
    guests: GuestSettings = GuestSettings()
    mfa: MfaSettings = MfaSettings()
    files: FileSettings = FileSettings()
    usage: UsageSettings = UsageSettings()
    jobpsych: JobPsychSettings = JobPsychSettings()
    passkeys: PasskeySettings = PasskeySettings()
    oauth: OAuthSettings = OAuthSettings()
    worker: WorkerSettings = WorkerSettings()
    webhooks: WebhookSettings = WebhookSettings()
    notices: NoticeSettings = NoticeSettings()
    revocations: RevocationSettings = RevocationSettings()

    @field_validator("compat", mode="before")
    @classmethod
    def _compat_names(cls, value: object) -> object:
        if isinstance(value, str):
            value = [name.strip().lower() for name in value.split(",") if name.strip()]
        if isinstance(value, list | tuple | set | frozenset):
            unknown = sorted(set(value) - set(COMPAT_NAMES))
            if unknown:
                raise ValueError(f"unknown names {unknown}; known: {', '.join(COMPAT_NAMES)}")
            return frozenset(value)
        return value

    @field_validator("markets")
    @classmethod
    def _markets_unique(cls, markets: list[MarketConfig]) -> list[MarketConfig]:
        codes = [m.code for m in markets]
        if not codes or len(set(codes)) != len(codes):
            raise ValueError("market codes must be present and unique")
        return markets

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, origins: list[str]) -> list[str]:
        if "*" in origins:
            raise ValueError("list origins explicitly; '*' is refused (credentials are allowed)")
        return origins

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.default_market not in self.market_codes:
            raise ValueError(f"default_market {self.default_market!r} is not in markets")
        if self.jobpsych.market is not None and self.jobpsych.market not in self.market_codes:
            raise ValueError(f"jobpsych.market {self.jobpsych.market!r} is not in markets")
        if self.tokens.algorithm == "HS256":
            secret = self.tokens.hs256_secret or ""
            if len(secret.encode()) < 32:
                raise ValueError("tokens.hs256_secret must be at least 32 bytes for HS256")
        if self.env == "production":
            self._check_production()
        return self

    def _check_production(self) -> None:
        refusals = {
            "console SMS (set KEYTURN_ALLOW_CONSOLE_SMS=true to allow)": (
                self.sms.provider == "console" and not self.allow_console_sms
            ),
            "console email (set KEYTURN_EMAIL__PROVIDER=smtp, or "
            "KEYTURN_ALLOW_CONSOLE_EMAIL=true to allow)": (
                self.email.provider == "console" and not self.allow_console_email
            ),
            "generated signing keys (set KEYTURN_TOKENS__KEYS_FILE or "
            "KEYTURN_ALLOW_GENERATED_KEYS=true)": (
                self.tokens.algorithm == "EdDSA"
                and self.tokens.keys_file is None
                and not self.allow_generated_keys
            ),
            "SQLite (set KEYTURN_DATABASE_URL or KEYTURN_ALLOW_SQLITE=true)": (
                any(url.startswith("sqlite") for url in self.database_urls().values())
                and not self.allow_sqlite
            ),
            "insecure cookies (KEYTURN_COOKIE_SECURE=false needs "
            "KEYTURN_ALLOW_INSECURE_COOKIES=true)": (
                not self.cookie_secure and not self.allow_insecure_cookies
            ),
            "KEYTURN_SECRET_KEY missing": self.secret_key is None,
            "KEYTURN_MFA__ENCRYPTION_KEY missing": self.mfa.encryption_key is None,
        }
        refused = [name for name, bad in refusals.items() if bad]
        if refused:
            raise ValueError("production refuses: " + "; ".join(refused))

    @property
    def market_codes(self) -> list[str]:
        return [m.code for m in self.markets]

    def market(self, code: str) -> MarketConfig:
        return next(m for m in self.markets if m.code == code)

    def database_urls(self) -> dict[str, str]:
        """The database URL of each market: per-market override, template, or SQLite file."""
        urls = {}
        for m in self.markets:
            override = m.database_url or os.environ.get(
                f"KEYTURN_MARKET_{m.code.upper()}_DATABASE_URL"
            )
            if override:
                urls[m.code] = override
            elif self.database_url:
                urls[m.code] = self.database_url.replace("{market}", m.code)
            else:
                path = (self.data_dir / f"keyturn_{m.code}.sqlite3").resolve()
                urls[m.code] = f"sqlite+aiosqlite:///{path}"
        return urls

    def traces_endpoint(self) -> str | None:
        """Where spans are sent (OTLP over HTTP), or None: tracing is off."""
        env = os.environ
        if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return None
        if env.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
            return None
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
            return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
        return None

    def compat_on(self, name: str) -> bool:
        """Whether the seed-shaped API `name` (one of COMPAT_NAMES) is switched on."""
        enabled = self.compat if self.compat is not None else self._default_compat
        return name in enabled

    @property
    def _default_compat(self) -> frozenset[str]:
        return frozenset(COMPAT_NAMES) if self.is_development else frozenset()

    @property
    def jobpsych_market(self) -> str:
        return self.jobpsych.market or self.default_market

    @property
    def is_development(self) -> bool:
        return self.env in ("development", "test")


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one ConfigError naming each setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "KEYTURN_" + "__".join(str(p) for p in err["loc"]).upper() if err["loc"] else ""
            problems.append(f"{name}: {err['msg']}" if name else err["msg"])
        raise ConfigError("invalid keyturn settings: " + "; ".join(problems)) from None
