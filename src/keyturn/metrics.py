"""Every Prometheus metric keyturn exports, in one place (names and labels: docs/metrics.md).

Counters are recorded where an outcome is decided (the service that refuses or accepts), never
guessed from status codes. Labels are small fixed sets from the code (markets, methods,
outcomes, reasons): never a user id, phone, email or IP. Recording is one `labels().inc()`,
about a microsecond; nothing is recorded on the hot read path except what `REQUEST_TALLY`
counts for every request.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left

from prometheus_client import Counter, Histogram

from keyturn.config import Settings

REQUESTS = Counter("keyturn_http_requests_total", "HTTP requests", ["method", "route", "status"])
_LATENCY_BOUNDS = Histogram.DEFAULT_BUCKETS  # seconds; the last is +Inf
LATENCY = Histogram(
    "keyturn_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=_LATENCY_BOUNDS,
)
FLUSH_EVERY = 1.0  # seconds


class RequestTally:
    """`REQUESTS` and `LATENCY` for every request, counted in plain dicts by the middleware and
    moved into those metrics before every scrape and once a second (so `serve --workers`
    siblings, read from their files, lag by at most that). Two locked Prometheus updates per
    request were a third of the middleware's cost (bench/README.md)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        # (method, route) -> [sum of seconds, count in bucket 0, bucket 1, ...]
        self._latency: dict[tuple[str, str], list[float]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        tally = self._latency.get((method, route))
        if tally is None:
            tally = self._latency[(method, route)] = [0.0] * (len(_LATENCY_BOUNDS) + 1)
        tally[0] += seconds
        tally[bisect_left(_LATENCY_BOUNDS, seconds) + 1] += 1  # the first bound >= seconds

    def flush(self) -> None:
        counts, self._counts = self._counts, {}
        latency, self._latency = self._latency, {}
        for (method, route, status), count in counts.items():
            REQUESTS.labels(method, route, str(status)).inc(count)
        for (method, route), tally in latency.items():
            child = LATENCY.labels(method, route)
            # Histogram.observe() adds to these one observation at a time.
            child._sum.inc(tally[0])
            for bucket, observed in zip(child._buckets, tally[1:], strict=True):
                if observed:
                    bucket.inc(observed)


REQUEST_TALLY = RequestTally()


async def flush_forever() -> None:
    try:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            REQUEST_TALLY.flush()
    finally:
        REQUEST_TALLY.flush()


SIGN_INS = Counter(
    "keyturn_sign_ins_total",
    "Sign-in attempts by method and outcome",
    ["market", "method", "outcome"],
)
SMS_CODES_SENT = Counter(
    "keyturn_sms_codes_sent_total", "SMS codes handed to the provider", ["market"]
)
SMS_CODES_REFUSED = Counter(
    "keyturn_sms_codes_refused_total", "SMS codes not sent, by reason", ["market", "reason"]
)
REFRESHES = Counter(
    "keyturn_refreshes_total", "Refresh-token redemptions by outcome", ["market", "outcome"]
)
LOGOUTS = Counter("keyturn_logouts_total", "Logouts by scope", ["market", "scope"])
SESSIONS_REVOKED = Counter(
    "keyturn_sessions_revoked_total",
    "Sessions ended before they expired, by reason",
    ["market", "reason"],
)
RATE_LIMITED = Counter(
    "keyturn_rate_limited_total", "Requests refused with 429, by the limit", ["limiter"]
)
WEBHOOK_DELIVERIES = Counter(
    "keyturn_webhook_deliveries_total",
    "Webhook delivery attempts, by what became of the delivery",
    ["market", "outcome"],
)

# Sign-in methods and the outcomes each can have. A new method is one line here.
SIGN_IN_OUTCOMES: dict[str, tuple[str, ...]] = {
    "phone": ("ok", "second_factor", "wrong_code", "expired", "throttled", "disabled"),
    "password": ("ok", "second_factor", "invalid_credentials", "throttled", "disabled"),
    "passkey": ("ok", "refused", "throttled", "disabled"),
    # The second step: its success is counted as the first method's `ok`.
    "mfa": ("wrong_code", "token_invalid", "throttled"),
}
SMS_REFUSALS = (
    "cooldown",
    "per_phone",
    "per_ip",
    "per_country",
    "global",
    "country",
    "premium_number",
    "provider_refused",
    "provider_error",
)
REFRESH_OUTCOMES = ("rotated", "retried", "reuse_detected", "invalid")
LOGOUT_SCOPES = ("current", "others", "all")
REVOKE_REASONS = (
    "logout",
    "logout_others",
    "logout_all",
    "revoked_by_user",
    "revoked_by_admin",
    "refresh_reuse",
    "password_changed",
    "password_reset",
    "account_disabled",
    "account_deleted",
    "not_me",
)
# delivered; retrying (the attempt failed, another is due); failed (retry period over: given
# up); lost (the process sending it stopped before recording the outcome).
WEBHOOK_OUTCOMES = ("delivered", "retrying", "failed", "lost")
LIMITERS = (
    "sms-phone",
    "sms-ip",
    "sms-country",
    "sms-global",
    "otp-attempts",
    "otp-cooldown",
    "otp-verify-ip",
    "login-account",
    "login-ip",
    "register-ip",
    "forgot-email",
    "forgot-ip",
    "sms-provider",
    "usage-quota",
)


def prepare(settings: Settings) -> None:
    """Create every known series at zero, so dashboards and `increase()` see the first event
    (a counter that appears at 1 is read as no increase)."""
    for market in settings.market_codes:
        for method, outcomes in SIGN_IN_OUTCOMES.items():
            for outcome in outcomes:
                SIGN_INS.labels(market, method, outcome)
        SMS_CODES_SENT.labels(market)
        for reason in SMS_REFUSALS:
            SMS_CODES_REFUSED.labels(market, reason)
        for outcome in REFRESH_OUTCOMES:
            REFRESHES.labels(market, outcome)
        for scope in LOGOUT_SCOPES:
            LOGOUTS.labels(market, scope)
        for reason in REVOKE_REASONS:
            SESSIONS_REVOKED.labels(market, reason)
        for outcome in WEBHOOK_OUTCOMES:
            WEBHOOK_DELIVERIES.labels(market, outcome)
    for limiter in LIMITERS:
        RATE_LIMITED.labels(limiter)


def sign_in(market: str, method: str, outcome: str) -> None:
    SIGN_INS.labels(market, method, outcome).inc()


def sms_code_sent(market: str) -> None:
    SMS_CODES_SENT.labels(market).inc()


def sms_code_refused(market: str, reason: str) -> None:
    SMS_CODES_REFUSED.labels(market, reason).inc()


def refresh(market: str, outcome: str) -> None:
    REFRESHES.labels(market, outcome).inc()


def logout(market: str, scope: str) -> None:
    LOGOUTS.labels(market, scope).inc()


def sessions_revoked(market: str, reason: str, count: int = 1) -> None:
    if count:
        SESSIONS_REVOKED.labels(market, reason).inc(count)


def rate_limited(limiter: str) -> None:
    RATE_LIMITED.labels(limiter).inc()


def webhook_deliveries(market: str, outcome: str, count: int = 1) -> None:
    if count:
        WEBHOOK_DELIVERIES.labels(market, outcome).inc(count)
