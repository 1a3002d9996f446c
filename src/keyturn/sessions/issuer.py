"""`TokenIssuer`: what issuing tokens and opening a session needs, built once (`create_app`).

It holds the keyring and the token settings: it signs access tokens (`iss`, `aud`, the
active key) and knows every lifetime a session's tokens get. Verifying is `tokens.TokenVerifier`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import jwt

from keyturn.config import TokenSettings
from keyturn.db import utcnow
from keyturn.sessions.keys import Keyring
from keyturn.sessions.tokens import JOBPSYCH


class TokenIssuer:
    def __init__(self, tokens: TokenSettings, keyring: Keyring) -> None:
        self.tokens = tokens
        self.keyring = keyring

    def session_expiry(self, opened_at: datetime) -> datetime:
        """The absolute end of a session opened at `opened_at`."""
        return opened_at + self.tokens.session_absolute_ttl

    def refresh_expiry(self, session_expires_at: datetime) -> datetime:
        """When a refresh token issued now stops working (never past its session's end)."""
        return min(utcnow() + self.tokens.refresh_idle_ttl, session_expires_at)

    def access_token(
        self,
        *,
        user_id: int,
        session_id: str,
        market: str,
        role: str,
        session_expires_at: datetime,
        auth_time: datetime,
        amr: tuple[str, ...],
        compat: str | None = None,
        email: str | None = None,
    ) -> tuple[str, int]:
        """A signed JWT and its lifetime in seconds (never past the session's absolute end).

        Sessions opened through the JobPsych-compatible API also carry `userId` and `email`,
        and with HS256 no `aud` (docs/compat-jobpsych.md, "Tokens")."""
        now = utcnow()
        expires = min(now + self.tokens.access_ttl, session_expires_at)
        kid, key = self.keyring.signing_key()
        claims = {
            "iss": self.tokens.issuer,
            "aud": self.tokens.audience,
            "sub": str(user_id),
            "sid": session_id,
            "mkt": market,
            "role": role,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
            "auth_time": int(auth_time.timestamp()),
            "amr": list(amr),
        }
        if compat == JOBPSYCH:
            claims.update(userId=str(user_id), email=email)
            if self.keyring.algorithm == "HS256":
                del claims["aud"]
        token = jwt.encode(claims, key, algorithm=self.keyring.algorithm, headers={"kid": kid})
        return token, max(0, int((expires - now).total_seconds()))
