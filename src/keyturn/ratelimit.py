"""Shared rate limits (the `limits` library): in process memory, or in Redis when
`KEYTURN_REDIS_URL` is set so every instance counts together.

If Redis cannot be reached the limiter fails closed with 503: an unthrottled SMS endpoint
costs money and an unthrottled login invites guessing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from keyturn import metrics
from keyturn.errors import TooManyRequests, Unavailable


@dataclass(frozen=True)
class Limit:
    """`rules` (e.g. "5/hour;10/day") applied to one `key`; `name` is shown to the client.
    `key[0]` names the limit in metrics (`keyturn_rate_limited_total{limiter}`)."""

    name: str
    rules: str
    key: tuple[str, ...]


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        self.storage: Storage = (
            RedisStorage(
                _async_uri(redis_url),
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="keyturn",
                socket_timeout=2,
                socket_connect_timeout=2,
            )
            if redis_url
            else MemoryStorage()
        )
        self.strategy = MovingWindowRateLimiter(self.storage)
        self._rules: dict[str, list[RateLimitItem]] = {}

    def _parse(self, rules: str) -> list[RateLimitItem]:
        if rules not in self._rules:
            self._rules[rules] = parse_many(rules)
        return self._rules[rules]

    async def hit(self, *limits: Limit, detail: str) -> None:
        """Count one event against every limit, or raise 429 if any is exhausted.

        All limits are tested before any is hit, so a refused request costs nothing.
        """
        try:
            for limit in limits:
                for item in self._parse(limit.rules):
                    if not await self.strategy.test(item, *limit.key):
                        retry = await self._retry_after(item, limit.key)
                        metrics.rate_limited(limit.key[0])
                        raise TooManyRequests(detail, retry_after=retry, limit=limit.name)
            for limit in limits:
                for item in self._parse(limit.rules):
                    await self.strategy.hit(item, *limit.key)
        except TooManyRequests:
            raise
        except Exception as exc:
            raise Unavailable("Rate-limit storage is unreachable; retry shortly.") from exc

    async def blocked_for(self, rules: str, *key: str) -> int:
        """Seconds until `key` may act again under `rules`, 0 if it may now (counts nothing)."""
        try:
            for item in self._parse(rules):
                if not await self.strategy.test(item, *key):
                    return await self._retry_after(item, key)
            return 0
        except Exception as exc:
            raise Unavailable("Rate-limit storage is unreachable; retry shortly.") from exc

    async def clear(self, rules: str, *key: str) -> None:
        for item in self._parse(rules):
            await self.strategy.clear(item, *key)

    async def _retry_after(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        stats = await self.strategy.get_window_stats(item, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _async_uri(redis_url: str) -> str:
    return redis_url if redis_url.startswith("async+") else f"async+{redis_url}"


async def ping(redis_url: str) -> bool:
    try:
        return bool(await RedisStorage(_async_uri(redis_url), implementation="redispy").check())
    except Exception:
        return False
