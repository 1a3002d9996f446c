"""Signing keys for access tokens: an Ed25519 keyring in a JSON file (or one HS256 secret).

Rotation with overlap: `keyturn keys rotate` adds a key that is published in the JWKS at once
but signs only from `activates_at`, so every instance (each re-reads the file within
`RELOAD_EVERY`) and every downstream JWKS cache knows it before the first token carries it.
The previous key keeps verifying until `retires_at`, after the last token it signed expired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keyturn.config import Settings
from keyturn.db import utcnow

RELOAD_EVERY = 10.0  # seconds between checks of the keyring file


class KeyringError(Exception):
    """The keyring file is missing, unreadable or has no usable key."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    created_at: datetime
    activates_at: datetime
    retires_at: datetime | None

    @cached_property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_bytes(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def fingerprint(self) -> str:
        return "sha256:" + hashlib.sha256(self.public_bytes).hexdigest()

    def to_json(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "kid": self.kid,
            "private_key": pem,
            "created_at": self.created_at.isoformat(),
            "activates_at": self.activates_at.isoformat(),
            "retires_at": self.retires_at.isoformat() if self.retires_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SigningKey:
        key = serialization.load_pem_private_key(data["private_key"].encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyringError(f"key {data.get('kid')!r} is not Ed25519")
        retires = data.get("retires_at")
        return cls(
            kid=data["kid"],
            private_key=key,
            created_at=datetime.fromisoformat(data["created_at"]),
            activates_at=datetime.fromisoformat(data["activates_at"]),
            retires_at=datetime.fromisoformat(retires) if retires else None,
        )

    @classmethod
    def generate(cls, activates_at: datetime | None = None) -> SigningKey:
        now = utcnow()
        return cls(
            kid=now.strftime("%Y%m%d") + "-" + secrets.token_hex(4),
            private_key=Ed25519PrivateKey.generate(),
            created_at=now,
            activates_at=activates_at or now,
            retires_at=None,
        )


def keyring_path(settings: Settings) -> Path:
    return settings.tokens.keys_file or settings.data_dir / "signing-keys.json"


def read_keys(path: Path) -> list[SigningKey]:
    try:
        data = json.loads(path.read_text())
        return [SigningKey.from_json(k) for k in data["keys"]]
    except FileNotFoundError:
        raise KeyringError(
            f"keyring file {path} does not exist; run `keyturn keys rotate`"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyringError(f"keyring file {path} is unreadable: {type(exc).__name__}") from None


def write_keys(path: Path, keys: list[SigningKey]) -> None:
    """Atomic replace, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"keys": [k.to_json() for k in keys]}, f, indent=2)
    os.replace(tmp, path)


def rotate(settings: Settings, *, overlap: timedelta) -> SigningKey:
    """Add a new key that signs from now + overlap; schedule the current ones to retire."""
    path = keyring_path(settings)
    keys = read_keys(path) if path.exists() else []
    new = SigningKey.generate(activates_at=utcnow() + overlap)
    retire_at = new.activates_at + settings.tokens.access_ttl + timedelta(minutes=5)
    kept = [
        k
        if k.retires_at
        else SigningKey(k.kid, k.private_key, k.created_at, k.activates_at, retire_at)
        for k in keys
        if not k.retires_at or k.retires_at > utcnow()
    ]
    write_keys(path, [new, *kept])
    return new


def ensure_dev_keyring(settings: Settings) -> None:
    """Generate a keyring in the data dir on first start when no keys file is configured
    (production refuses that unless KEYTURN_ALLOW_GENERATED_KEYS is set)."""
    path = keyring_path(settings)
    if settings.tokens.algorithm == "EdDSA" and not settings.tokens.keys_file and not path.exists():
        write_keys(path, [SigningKey.generate()])


class Keyring:
    """What the app signs and verifies access tokens with."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.tokens.algorithm
        self._path = keyring_path(settings)
        self._keys: list[SigningKey] = []
        self._mtime = 0.0
        self._checked = 0.0
        self._hs_secret = (settings.tokens.hs256_secret or "").encode()
        self.hs256_kid = "hs256-" + hashlib.sha256(b"kid:" + self._hs_secret).hexdigest()[:12]
        if self.algorithm == "EdDSA":
            self._reload()

    def _reload(self) -> None:
        mtime = self._path.stat().st_mtime if self._path.exists() else 0.0
        if mtime != self._mtime or not self._keys:
            self._keys = read_keys(self._path)
            self._mtime = mtime
        self._checked = time.monotonic()

    def _current(self) -> list[SigningKey]:
        if time.monotonic() - self._checked > RELOAD_EVERY:
            self._reload()
        now = utcnow()
        return [k for k in self._keys if not k.retires_at or k.retires_at > now]

    def signing_key(self) -> tuple[str, Any]:
        if self.algorithm == "HS256":
            return self.hs256_kid, self._hs_secret
        now = utcnow()
        active = [k for k in self._current() if k.activates_at <= now]
        if not active:
            raise KeyringError("no active signing key")
        newest = max(active, key=lambda k: k.activates_at)
        return newest.kid, newest.private_key

    def verification_key(self, kid: str) -> Any | None:
        if self.algorithm == "HS256":
            return self._hs_secret if secrets.compare_digest(kid, self.hs256_kid) else None
        for key in self._current():
            if secrets.compare_digest(key.kid, kid):
                return key.public_key
        return None

    def knows(self, kid: str) -> bool:
        """The key `kid` still verifies (it is in the keyring and not retired)."""
        if self.algorithm == "HS256":
            return secrets.compare_digest(kid, self.hs256_kid)
        return any(secrets.compare_digest(key.kid, kid) for key in self._current())

    def jwks(self) -> dict[str, Any]:
        if self.algorithm == "HS256":
            return {"keys": []}
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": k.kid,
                    "x": base64.urlsafe_b64encode(k.public_bytes).rstrip(b"=").decode(),
                }
                for k in self._current()
            ]
        }

    def describe(self) -> list[dict[str, Any]]:
        """Key ids and fingerprints: never any character of a private key or secret."""
        if self.algorithm == "HS256":
            fingerprint = "sha256:" + hashlib.sha256(self._hs_secret).hexdigest()
            return [
                {"kid": self.hs256_kid, "alg": "HS256", "fingerprint": fingerprint, "signing": True}
            ]
        signing_kid = self.signing_key()[0]
        return [
            {
                "kid": k.kid,
                "alg": "EdDSA",
                "fingerprint": k.fingerprint(),
                "signing": k.kid == signing_kid,
                "activates_at": k.activates_at.isoformat(),
                "retires_at": k.retires_at.isoformat() if k.retires_at else None,
            }
            for k in self._current()
        ]


def ensure_secret_key(settings: Settings) -> bytes:
    """The HMAC key for OTP and other short-lived secrets: configured, or generated in dev."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
