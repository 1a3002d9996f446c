"""Wrong second-factor codes (authenticator or recovery code), counted on the account's
`totp_factors` row like wrong SMS codes are on the phone's: `mfa.max_failures` per client per
`mfa.failure_window` (that client waits; the owner elsewhere does not), and
`mfa.max_failures_per_account` per `mfa.account_failure_window` from every client together.
Only someone who passed the first factor gets this far. The caller holds the row locked."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from keyturn import metrics
from keyturn.auth.failures import Failures, client_network
from keyturn.auth.models import TotpFactor
from keyturn.config import MfaSettings
from keyturn.db import utcnow
from keyturn.errors import TooManyRequests


class SecondFactorThrottled(TooManyRequests):
    """Too many wrong second-factor codes for this account from this client, or from all."""

    code = "mfa.throttled"


def client_key(secret: bytes, ip: str | None) -> str:
    """Whom the count is of, without storing an address."""
    network = client_network(ip).encode()
    return hmac.new(secret, b"mfa-client:" + network, hashlib.sha256).hexdigest()[:16]


def _account(factor: TotpFactor, rules: MfaSettings, now: datetime) -> Failures:
    counted = Failures(factor.failed_attempts or 0, factor.first_failed_at)
    return counted.live(rules.account_failure_window, now)


def _client(factor: TotpFactor, client: str, rules: MfaSettings, now: datetime) -> Failures:
    count, since = (factor.client_failures or {}).get(client, (0, 0))
    counted = Failures(int(count), datetime.fromtimestamp(since, now.tzinfo) if since else None)
    return counted.live(rules.failure_window, now)


def refuse_if_throttled(factor: TotpFactor, client: str, rules: MfaSettings) -> None:
    """429 while this client, or the account as a whole, has had too many wrong codes."""
    now = utcnow()
    wait = max(
        _account(factor, rules, now).locked_for(
            rules.max_failures_per_account, rules.account_failure_window, now
        ),
        _client(factor, client, rules, now).locked_for(
            rules.max_failures, rules.failure_window, now
        ),
    )
    if wait:
        metrics.rate_limited("mfa-attempts")
        raise SecondFactorThrottled(
            "Too many wrong codes; try again later.", retry_after=wait, limit="mfa"
        )


def record(factor: TotpFactor, client: str, rules: MfaSettings, *, failed: bool) -> int:
    """Count a wrong code for the client and the account, or clear the client's count after a
    right one (the account's stays: it is the daily bound). Returns the client's tries left."""
    now = utcnow()
    window = rules.failure_window.total_seconds()
    clients = {
        key: [count, since]
        for key, (count, since) in (factor.client_failures or {}).items()
        if key != client and now.timestamp() - since < window
    }
    account, mine = _account(factor, rules, now), _client(factor, client, rules, now)
    if failed:
        account, mine = account.plus_one(now), mine.plus_one(now)
        assert mine.since is not None
        clients[client] = [mine.count, mine.since.timestamp()]
        factor.failed_attempts, factor.first_failed_at = account.count, account.since
    factor.client_failures = clients
    return max(
        0,
        min(
            rules.max_failures - mine.count,
            rules.max_failures_per_account - account.count,
        ),
    )
