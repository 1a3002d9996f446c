"""What the platforms must know about our apps: passkeys (the browsers' and phones' RP ID,
origins and app links) and Sign in with Apple and Google."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator


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
