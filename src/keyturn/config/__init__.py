"""Settings, read once at start-up from `KEYTURN_*` environment variables and `.env`.

Anything missing or invalid fails loudly with the name of the setting (see `load_settings`).
Each group of sections has its module here (`markets`, `sign_in`, `platforms`, `files`,
`events`, `compat`); `Settings` puts them together, and every name is importable from
`keyturn.config`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from keyturn.config.compat import COMPAT_NAMES, JobPsychSettings
from keyturn.config.events import (
    NoticeSettings,
    RevocationSettings,
    WebhookSettings,
    WorkerSettings,
)
from keyturn.config.files import FileSettings, UsageSettings
from keyturn.config.markets import DEFAULT_MARKETS, MarketConfig
from keyturn.config.platforms import AndroidApp, OAuthSettings, PasskeySettings
from keyturn.config.sign_in import (
    EmailSettings,
    GuestSettings,
    LoginSettings,
    MfaSettings,
    OtpSettings,
    SmsSettings,
    TokenSettings,
)

__all__ = [
    "API_PREFIX",
    "COMPAT_NAMES",
    "DEFAULT_MARKETS",
    "AndroidApp",
    "ConfigError",
    "EmailSettings",
    "FileSettings",
    "GuestSettings",
    "JobPsychSettings",
    "LoginSettings",
    "MarketConfig",
    "MfaSettings",
    "NoticeSettings",
    "OAuthSettings",
    "OtpSettings",
    "PasskeySettings",
    "RevocationSettings",
    "Settings",
    "SmsSettings",
    "TokenSettings",
    "UsageSettings",
    "WebhookSettings",
    "WorkerSettings",
    "load_settings",
]

API_PREFIX = "/api/v1"  # every API route's path starts here (routes.py, the cookie path)


class ConfigError(Exception):
    """Settings are missing or invalid; the message names them."""


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
    # PostgreSQL connections per market and `serve` worker process, opened as load needs them
    # and then kept: for transactions, and for the one-statement hot reads (docs/deployment.md).
    database_pool_size: int = Field(default=16, ge=1, le=500)
    database_read_pool_size: int = Field(default=16, ge=1, le=500)
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
