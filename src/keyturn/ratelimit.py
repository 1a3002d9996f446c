"""Shared rate limits (the `limits` library): in process memory, or in Redis when
`KEYTURN_REDIS_URL` is set so every instance counts together.

If Redis cannot be reached the limiter fails closed with 503: an unthrottled SMS endpoint
costs money and an unthrottled login invites guessing.

Keys name what they count (`sms-phone`, `login-account`) followed by whom: a phone number,
an email, an address. Whoever reads Redis must not learn those, so everything after the name
is stored as an HMAC-SHA256 keyed with the server secret (`Limit.key` stays readable here).
"""

from __future__ import annotations

import hashlib
import hmac
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
    def __init__(self, redis_url: str | None, *, key_secret: bytes) -> None:
        self._key_secret = key_secret
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

    def _stored(self, key: tuple[str, ...]) -> tuple[str, str]:
        """The key as stored: its name, then a keyed hash of whom it counts."""
        name, *who = key
        joined = "\x1f".join(who).encode("utf-8", "surrogatepass")
        return name, hmac.new(self._key_secret, joined, hashlib.sha256).hexdigest()[:32]

    def _parse(self, rules: str) -> list[RateLimitItem]:
        if rules not in self._rules:
            self._rules[rules] = parse_many(rules)
        return self._rules[rules]

    async def hit(self, *limits: Limit, detail: str) -> None:
        """Count one event against every limit, or raise 429 if any is exhausted.

        All limits are tested before any is hit, so a refused request costs nothing.
        """
        try:
            keys = [self._stored(limit.key) for limit in limits]
            for limit, key in zip(limits, keys, strict=True):
                for item in self._parse(limit.rules):
                    if not await self.strategy.test(item, *key):
                        retry = await self._retry_after(item, key)
                        metrics.rate_limited(limit.key[0])
                        raise TooManyRequests(detail, retry_after=retry, limit=limit.name)
            for limit, key in zip(limits, keys, strict=True):
                for item in self._parse(limit.rules):
                    await self.strategy.hit(item, *key)
        except TooManyRequests:
            raise
        except Exception as exc:
            raise Unavailable("Rate-limit storage is unreachable; retry shortly.") from exc

    async def take(self, rules: str, *key: str) -> bool:
        """Count one event under every rule at once (atomically per rule, so parallel callers
        cannot slip past); False if any rule was already exhausted."""
        stored = self._stored(key)
        try:
            return all([await self.strategy.hit(item, *stored) for item in self._parse(rules)])
        except Exception as exc:
            raise Unavailable("Rate-limit storage is unreachable; retry shortly.") from exc

    async def blocked_for(self, rules: str, *key: str) -> int:
        """Seconds until `key` may act again under `rules`, 0 if it may now (counts nothing)."""
        stored = self._stored(key)
        try:
            for item in self._parse(rules):
                if not await self.strategy.test(item, *stored):
                    return await self._retry_after(item, stored)
            return 0
        except Exception as exc:
            raise Unavailable("Rate-limit storage is unreachable; retry shortly.") from exc

    async def clear(self, rules: str, *key: str) -> None:
        stored = self._stored(key)
        for item in self._parse(rules):
            await self.strategy.clear(item, *stored)

    async def _retry_after(self, item: RateLimitItem, key: tuple[str, str]) -> int:
        stats = await self.strategy.get_window_stats(item, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _async_uri(redis_url: str) -> str:
    return redis_url if redis_url.startswith("async+") else f"async+{redis_url}"


async def ping(redis_url: str) -> bool:
    try:
        return bool(await RedisStorage(_async_uri(redis_url), implementation="redispy").check())
    except Exception:
        return False
