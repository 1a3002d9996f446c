"""Endpoint secrets and Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is `whsec_` + base64 of 32 random bytes, shown to the administrator once. It is kept
sealed (AES-GCM under a key derived from `KEYTURN_SECRET_KEY`), so a copy of the database
alone cannot sign webhooks. During a rotation both secrets sign: the `webhook-signature` header
carries one `v1,<signature>` per secret, and receivers accept a message any one of them signs.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from standardwebhooks.webhooks import Webhook

PREFIX = "whsec_"
_SEALED = "v1:"


class SecretUnreadable(Exception):
    """A sealed secret does not open with this deployment's key (KEYTURN_SECRET_KEY changed)."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _cipher(master: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"keyturn webhook secrets"
    ).derive(master)
    return AESGCM(key)


def seal(master: bytes, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _cipher(master).encrypt(nonce, secret.encode(), None)
    return _SEALED + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(master: bytes, sealed: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.removeprefix(_SEALED))
        return _cipher(master).decrypt(raw[:12], raw[12:], None).decode()
    except Exception:
        raise SecretUnreadable("the endpoint's secret cannot be opened") from None


def headers(*, msg_id: str, timestamp: datetime, body: str, keys: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers, signed by every key in `keys`."""
    signatures = " ".join(Webhook(key).sign(msg_id, timestamp, body) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
