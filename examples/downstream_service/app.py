"""A downstream service that trusts keyturn's access tokens (see README.md next to this file).

KEYTURN_URL=http://127.0.0.1:8000 uvicorn examples.downstream_service.app:app --port 8100
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from keyturn.client import KeyturnVerifier, VerifiedToken

PICKS = {
    "us": ["Classic tee", "Enamel mug", "Canvas tote"],
    "kg": ["Felt slippers", "Kalpak hat", "Honey jar"],
}


class Recommendations(BaseModel):
    user_id: int
    market: str
    items: list[str]


def create_app(verifier: KeyturnVerifier | None = None) -> FastAPI:
    """`verifier` defaults to keyturn at `KEYTURN_URL`; `KEYTURN_INTROSPECT=1` also asks
    keyturn on every request, so a signed-out token is refused at once."""
    verifier = verifier or KeyturnVerifier(
        os.environ.get("KEYTURN_URL", "http://127.0.0.1:8000"),
        introspect=os.environ.get("KEYTURN_INTROSPECT") == "1",
    )
    User = Annotated[VerifiedToken, Depends(verifier.dependency())]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await verifier.aclose()

    app = FastAPI(title="recommendations (keyturn example)", lifespan=lifespan)

    @app.get("/recommendations", summary="Picks for the signed-in user's market")
    async def recommendations(user: User) -> Recommendations:
        return Recommendations(
            user_id=user.user_id, market=user.market, items=PICKS.get(user.market, [])
        )

    return app


app = create_app()
