"""Request context of the JobPsych API: its market (its clients send no `X-Market`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from keyturn.deps import ClientIp, DatabasesDep, SettingsDep, get_market
from keyturn.sessions.service import Device
from keyturn.sessions.tokens import JOBPSYCH


async def jobpsych_market(
    settings: SettingsDep,
    x_market: Annotated[
        str | None, Header(description="Default: the JobPsych market (`KEYTURN_JOBPSYCH__MARKET`)")
    ] = None,
) -> str:
    if x_market is None:
        return settings.jobpsych_market
    return await get_market(settings, None, x_market)


JobPsychMarket = Annotated[str, Depends(jobpsych_market)]


async def jobpsych_db(
    databases: DatabasesDep, market: JobPsychMarket
) -> AsyncIterator[AsyncSession]:
    async with databases.session(market) as db:
        yield db


JobPsychDb = Annotated[AsyncSession, Depends(jobpsych_db)]


async def jobpsych_device(request: Request, ip: ClientIp) -> Device:
    """A browser signing in through the JobPsych API: its tokens carry the seed's claims."""
    return Device(user_agent=request.headers.get("user-agent"), ip=ip, compat=JOBPSYCH)


JobPsychDevice = Annotated[Device, Depends(jobpsych_device)]
