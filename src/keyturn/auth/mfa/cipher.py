"""TOTP secrets are stored encrypted (AES-256-GCM), bound to their user, under a key from
settings (`mfa.encryption_key`; generated in the data dir in development, required in
production). Each stored value names its key, so a rotated key (`mfa.old_encryption_keys`)
still opens what it sealed."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keyturn.config import Settings
from keyturn.errors import Unavailable


class SecretUnreadable(Unavailable):
    """A stored TOTP secret cannot be decrypted: its key is not configured (an operator error)."""

    code = "mfa.secret_unreadable"


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"keyturn-mfa-key:" + key).hexdigest()[:8]


@dataclass(frozen=True)
class TotpCipher:
    current: str  # the id of the key that seals
    keys: dict[str, bytes]

    @classmethod
    def from_settings(cls, settings: Settings) -> TotpCipher:
        materials = [ensure_key(settings), *settings.mfa.old_encryption_keys]
        keys: dict[str, bytes] = {}
        for material in materials:
            key = hashlib.sha256(material.encode()).digest()
            keys.setdefault(_key_id(key), key)
        return cls(current=next(iter(keys)), keys=keys)

    @property
    def tag_key(self) -> bytes:
        """An HMAC key for naming things without storing them (the throttle's clients)."""
        return hashlib.sha256(b"keyturn-mfa-tags:" + self.keys[self.current]).digest()

    def seal(self, secret: str, *, user_id: int) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, secret.encode(), _bound(user_id))
        return f"{self.current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, user_id: int) -> str:
        key_id, _, blob = stored.partition(".")
        key = self.keys.get(key_id)
        if key is None:
            raise SecretUnreadable("A second-factor secret's key is not configured.")
        raw = base64.urlsafe_b64decode(blob)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], _bound(user_id)).decode()
        except InvalidTag:
            raise SecretUnreadable("A second-factor secret does not open with its key.") from None


def _bound(user_id: int) -> bytes:
    """Associated data: a sealed secret copied to another user's row does not open there."""
    return f"totp:{user_id}".encode()


def ensure_key(settings: Settings) -> str:
    """The configured encryption key, or in development one generated in the data dir."""
    if settings.mfa.encryption_key:
        return settings.mfa.encryption_key
    path = settings.data_dir / "mfa.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
