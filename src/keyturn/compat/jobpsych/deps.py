"""Request context of the JobPsych API: its market (its clients send no `X-Market`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.deps import ClientIp, MarketsDep, SettingsDep
from keyturn.markets import Market
from keyturn.sessions.devices import Device
from keyturn.sessions.tokens import JOBPSYCH


async def get_jobpsych_market(
    markets: MarketsDep,
    settings: SettingsDep,
    x_market: Annotated[
        str | None, Header(description="Default: the JobPsych market (`KEYTURN_JOBPSYCH__MARKET`)")
    ] = None,
) -> Market:
    """`X-Market` (400 if unknown), else the JobPsych market."""
    return markets.requested(x_market if x_market is not None else settings.jobpsych_market)


JobPsychRequestMarket = Annotated[Market, Depends(get_jobpsych_market)]


async def jobpsych_market(market: JobPsychRequestMarket) -> str:
    return market.code


JobPsychMarket = Annotated[str, Depends(jobpsych_market)]


async def jobpsych_db(market: JobPsychRequestMarket) -> AsyncIterator[AsyncSession]:
    async with market.session() as db:
        yield db


JobPsychDb = Annotated[AsyncSession, Depends(jobpsych_db)]


async def jobpsych_device(request: Request, ip: ClientIp) -> Device:
    """A browser signing in through the JobPsych API: its tokens carry the seed's claims."""
    return Device(user_agent=request.headers.get("user-agent"), ip=ip, compat=JOBPSYCH)


JobPsychDevice = Annotated[Device, Depends(jobpsych_device)]
