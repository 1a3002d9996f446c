"""Counting wrong codes so that guessing stops without a stranger locking the owner out: a
client (an IPv4 address, or an IPv6 /64) gets a few tries per window, and every client
together gets a higher ceiling, the brute-force bound. SMS codes count per phone
(`auth/phone/otp.py`, docs/sms-firewall.md), second factors per account (`auth/mfa/throttle.py`,
docs/second-factors.md); the counts live on the row being guessed at, which the check holds
locked."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta


def client_network(ip: str | None) -> str:
    """Whom a guess comes from: an IPv4 address, or the /64 of an IPv6 one (a subscriber
    gets a whole /64, so its addresses count as one client)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class Failures:
    """Wrong codes counted in a window that started at `since`."""

    count: int
    since: datetime | None

    def live(self, window: timedelta, now: datetime) -> Failures:
        """These failures, or none once their window has passed."""
        if self.since is None or now - self.since >= window:
            return Failures(0, None)
        return self

    def locked_for(self, limit: int, window: timedelta, now: datetime) -> int:
        """Seconds until the window ends if `limit` is reached, else 0."""
        if self.count < limit or self.since is None:
            return 0
        return max(1, math.ceil((self.since + window - now).total_seconds()))

    def plus_one(self, now: datetime) -> Failures:
        return Failures(self.count + 1, self.since or now)
