"""A downstream service that trusts keyturn's access tokens (see README.md next to this file).

KEYTURN_URL=http://127.0.0.1:8000 uvicorn examples.downstream_service.app:app --port 8100
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from keyturn.client import KeyturnVerifier, RevocationFeed, VerifiedToken

PICKS = {
    "us": ["Classic tee", "Enamel mug", "Canvas tote"],
    "kg": ["Felt slippers", "Kalpak hat", "Honey jar"],
}


class Recommendations(BaseModel):
    user_id: int
    market: str
    items: list[str]


def create_app(
    verifier: KeyturnVerifier | None = None, feed: RevocationFeed | None = None
) -> FastAPI:
    """`verifier` defaults to keyturn at `KEYTURN_URL`. With `KEYTURN_SERVICE_TOKEN` it follows
    keyturn's revocation feed (`feed`), so a signed-out token is refused within about a second
    with no call to keyturn per request; `KEYTURN_INTROSPECT=1` asks keyturn on every request
    instead."""
    url = os.environ.get("KEYTURN_URL", "http://127.0.0.1:8000")
    service_token = os.environ.get("KEYTURN_SERVICE_TOKEN")
    if feed is None and verifier is None and service_token:
        feed = RevocationFeed(url, service_token=service_token)
    verifier = verifier or KeyturnVerifier(
        url, introspect=os.environ.get("KEYTURN_INTROSPECT") == "1", revocations=feed
    )
    User = Annotated[VerifiedToken, Depends(verifier.dependency())]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            await feed.start()
        yield
        if feed is not None:
            await feed.aclose()
        await verifier.aclose()

    app = FastAPI(title="recommendations (keyturn example)", lifespan=lifespan)

    @app.get("/recommendations", summary="Picks for the signed-in user's market")
    async def recommendations(user: User) -> Recommendations:
        return Recommendations(
            user_id=user.user_id, market=user.market, items=PICKS.get(user.market, [])
        )

    return app


app = create_app()
