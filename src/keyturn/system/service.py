import asyncio

from keyturn import ratelimit
from keyturn.config import Settings
from keyturn.db import Databases


async def readiness(settings: Settings, databases: Databases) -> dict[str, bool]:
    """Ask every market database (and Redis, when configured) at once."""
    names = [f"database:{code}" for code in settings.market_codes]
    probes = [databases.ping(code) for code in settings.market_codes]
    if settings.redis_url:
        names.append("redis")
        probes.append(ratelimit.ping(settings.redis_url))
    results = await asyncio.gather(*probes)
    return dict(zip(names, results, strict=True))
