"""Password guessing throttles (docs/passwords-and-browser-sessions.md).

Only failures count against a person, so nobody is throttled for signing in often:
- per account, short window (default 5 per 15 minutes), so an attacker cannot keep the
  owner out for long. Each attempt takes a slot atomically *before* the password is checked
  (parallel guesses cannot slip past the limit) and a success clears the account's window,
  which leaves exactly the failures counted;
- per client IP (default 50 per hour; spraying many accounts): tested before the check,
  counted on failure.
Unknown emails count exactly like known ones, so a 429 reveals nothing.
"""

from __future__ import annotations

from contextlib import suppress

from keyturn import metrics
from keyturn.config import Settings
from keyturn.errors import TooManyRequests
from keyturn.ratelimit import Limit, RateLimiter


class LoginThrottled(TooManyRequests):
    """Too many failed sign-ins for this account or from this address; wait Retry-After."""

    code = "auth.login_throttled"


def _throttled(limit: str, wait: int) -> LoginThrottled:
    """The refusal to raise (and count: every caller raises it)."""
    metrics.rate_limited(f"login-{limit}")
    return LoginThrottled(
        "Too many failed sign-in attempts; try again later.", retry_after=wait, limit=limit
    )


def _account_key(market: str, account: str) -> tuple[str, ...]:
    return ("login-account", market, account)


def _ip_key(ip: str | None) -> tuple[str, ...]:
    return ("login-ip", ip or "unknown")


async def begin_attempt(
    limiter: RateLimiter, settings: Settings, *, market: str, account: str, ip: str | None
) -> None:
    """Refuse (429) while the IP or the account is throttled, else take the account's slot."""
    login = settings.login
    wait = await limiter.blocked_for(login.failures_per_ip, *_ip_key(ip))
    if wait:
        raise _throttled("ip", wait)
    key = _account_key(market, account)
    if not await limiter.take(login.failures_per_account, *key):
        wait = await limiter.blocked_for(login.failures_per_account, *key)
        raise _throttled("account", max(1, wait))


async def failed(limiter: RateLimiter, settings: Settings, *, ip: str | None) -> None:
    """Count a failure against the IP (the account's slot is already taken). If a concurrent
    failure already filled the window, this one is not counted twice: the next attempt gets
    the 429."""
    with suppress(TooManyRequests):
        await limiter.hit(
            Limit("ip", settings.login.failures_per_ip, _ip_key(ip)),
            detail="Too many failed sign-in attempts.",
        )


async def succeeded(limiter: RateLimiter, settings: Settings, *, market: str, account: str) -> None:
    """A success (or a reset) gives the owner a clean account window."""
    await limiter.clear(settings.login.failures_per_account, *_account_key(market, account))
