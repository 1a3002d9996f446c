"""What the app keeps for Apple and Google: one HTTP client, the JWKS caches, the sealer."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from keyturn.auth.oauth.apple import Sealer
from keyturn.auth.oauth.idtoken import IdTokenVerifier
from keyturn.config import OAuthSettings, Settings
from keyturn.sessions.keys import ensure_secret_key


@dataclass
class OAuth:
    settings: OAuthSettings
    http: httpx.AsyncClient
    verifier: IdTokenVerifier
    sealer: Sealer

    async def aclose(self) -> None:
        await self.http.aclose()


def make_oauth(settings: Settings) -> OAuth:
    http = httpx.AsyncClient(timeout=settings.oauth.http_timeout, follow_redirects=False)
    return OAuth(
        settings=settings.oauth,
        http=http,
        verifier=IdTokenVerifier(settings.oauth, http),
        sealer=Sealer(ensure_secret_key(settings)),
    )
