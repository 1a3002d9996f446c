"""Request-context dependencies: settings, market, database session, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.config import Settings
from keyturn.db import Databases
from keyturn.errors import UnknownMarket


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_databases(request: Request) -> Databases:
    databases: Databases = request.app.state.databases
    return databases


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabasesDep = Annotated[Databases, Depends(get_databases)]


async def get_market(
    request: Request,
    settings: SettingsDep,
    x_market: Annotated[
        str | None,
        Header(
            description="Market code (e.g. `kg`, `us`); default: the token's, else the "
            "deployment's default market."
        ),
    ] = None,
) -> str:
    """The request's market: `X-Market`, else the bearer token's market, else the default."""
    if x_market is not None:
        code = x_market.strip().lower()
        if code not in settings.market_codes:
            raise UnknownMarket(f"Unknown market {x_market[:16]!r}.", markets=settings.market_codes)
        return code
    token_market = getattr(request.state, "token_market", None)
    return token_market or settings.default_market


Market = Annotated[str, Depends(get_market)]


async def get_db(databases: DatabasesDep, market: Market) -> AsyncIterator[AsyncSession]:
    """A database session on the request's market. Services commit; anything else rolls back."""
    async with databases.session(market) as db:
        yield db


Db = Annotated[AsyncSession, Depends(get_db)]
