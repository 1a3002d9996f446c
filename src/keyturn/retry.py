"""When to try again: exponential backoff with jitter, for webhooks and security notices."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(attempt: int, *, first: timedelta, maximum: timedelta) -> timedelta:
    """The wait after failed attempt number `attempt` (1, 2, ...): `first` doubled per attempt,
    at most `maximum`, then a random point in its upper half ("equal jitter"), so receivers
    that failed together are not retried together."""
    ceiling = min(maximum, first * 2 ** min(attempt - 1, 40))
    return ceiling / 2 + ceiling / 2 * random.random()  # noqa: S311 (spreading, not secrecy)
