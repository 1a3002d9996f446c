"""What keyturn asks of Apple beyond verifying id_tokens: exchange the app's authorization
code for a refresh token at sign-in, and revoke that token when the account is deleted or
Apple is unlinked (App Store guideline 5.1.1(v)). Both authenticate with a client secret, a
short ES256 JWT signed with the Sign in with Apple key. The refresh token is stored sealed
(AES-GCM under a key derived from `KEYTURN_SECRET_KEY`)."""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass

import httpx
import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keyturn.config import OAuthSettings
from keyturn.logs import get_logger

log = get_logger("keyturn.auth.oauth.apple")

CLIENT_SECRET_TTL = 300  # seconds; Apple accepts up to six months, we need minutes


@dataclass(frozen=True)
class Revoked:
    """The outcome of one revocation call: done (Apple confirmed, or the token was already
    dead), or to retry later with the reason."""

    done: bool
    error: str | None = None


class Sealer:
    """Seals provider tokens at rest; the key never leaves the process."""

    def __init__(self, secret_key: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"keyturn provider tokens"
        ).derive(secret_key)
        self._aead = AESGCM(key)

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), b"apple-refresh-token")
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str) -> str:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return self._aead.decrypt(raw[:12], raw[12:], b"apple-refresh-token").decode()


def configured(settings: OAuthSettings) -> bool:
    return settings.apple_key_pem() is not None


def client_secret(settings: OAuthSettings, client_id: str) -> str:
    """The client secret JWT Apple's token and revoke endpoints require."""
    now = int(time.time())
    key = settings.apple_key_pem()
    assert key is not None, "only called when configured()"
    return jwt.encode(
        {
            "iss": settings.apple_team_id,
            "iat": now,
            "exp": now + CLIENT_SECRET_TTL,
            "aud": settings.apple_issuer,
            "sub": client_id,
        },
        key,
        algorithm="ES256",
        headers={"kid": settings.apple_key_id},
    )


async def exchange_code(
    http: httpx.AsyncClient, settings: OAuthSettings, *, client_id: str, code: str, subject: str
) -> str | None:
    """The refresh token for the app's authorization code, or None (Apple key not configured,
    Apple refused or unreachable, or the code belongs to someone else): signing in goes on,
    only a later revocation has nothing to revoke."""
    if not configured(settings):
        return None
    try:
        response = await http.post(
            settings.apple_token_url,
            data={
                "client_id": client_id,
                "client_secret": client_secret(settings, client_id),
                "code": code,
                "grant_type": "authorization_code",
            },
        )
        body = response.json()
        if response.status_code != 200:
            log.warning("apple.code_refused", status=response.status_code, error=body.get("error"))
            return None
        # The answer comes from Apple over TLS with our secret; its id_token names whose it is.
        owner = jwt.decode(body["id_token"], options={"verify_signature": False}).get("sub")
        token = body.get("refresh_token")
    except (
        httpx.HTTPError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        jwt.PyJWTError,
    ) as exc:
        log.warning("apple.code_exchange_failed", error=type(exc).__name__)
        return None
    if owner != subject or not isinstance(token, str):
        log.warning("apple.code_for_another_subject")
        return None
    return token


async def revoke(
    http: httpx.AsyncClient, settings: OAuthSettings, *, client_id: str, token: str
) -> Revoked:
    """Revoke a refresh token at Apple (RFC 7009 shape)."""
    if not configured(settings):
        return Revoked(done=False, error="apple_key_not_configured")
    try:
        response = await http.post(
            settings.apple_revoke_url,
            data={
                "client_id": client_id,
                "client_secret": client_secret(settings, client_id),
                "token": token,
                "token_type_hint": "refresh_token",
            },
        )
    except httpx.HTTPError as exc:
        return Revoked(done=False, error=type(exc).__name__)
    if response.status_code == 200:
        return Revoked(done=True)
    try:
        error = str(response.json().get("error", ""))[:48]
    except (ValueError, AttributeError):
        error = ""
    if response.status_code == 400 and error == "invalid_grant":
        return Revoked(done=True)  # already revoked or expired: nothing left to end
    return Revoked(
        done=False, error=f"http_{response.status_code}" + (f":{error}" if error else "")
    )
