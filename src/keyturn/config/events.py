"""The background worker, signed webhooks, security notices and the revocation feed."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, field_validator


class WorkerSettings(BaseModel):
    """The background loop that sends webhooks and security notices (docs/webhooks.md):
    inside every `serve` process, and in `keyturn worker` processes."""

    in_serve: bool = True  # false when dedicated `keyturn worker` processes do the work
    poll_interval: timedelta = timedelta(seconds=1)
    concurrency: int = Field(default=8, ge=1, le=256)  # requests in flight per process
    # How long past its timeout a claimed attempt that recorded nothing (its process died) is
    # presumed lost and may be taken again; covers a slow database when the outcome is written.
    claim_grace: timedelta = timedelta(seconds=30)


class WebhookSettings(BaseModel):
    """Signed webhook delivery (docs/webhooks.md)."""

    timeout: timedelta = timedelta(seconds=10)  # one attempt, resolving to the status line
    retry_for: timedelta = timedelta(days=3)  # then the delivery is marked failed
    backoff_first: timedelta = timedelta(seconds=5)  # doubles per attempt, with jitter
    backoff_max: timedelta = timedelta(hours=6)
    secret_overlap: timedelta = timedelta(hours=24)  # the old secret still signs after a rotation
    # Private, loopback or link-local networks webhooks may still be sent to (SSRF guard).
    allow_networks: list[IPvAnyNetwork] = []
    retention: timedelta = timedelta(days=30)  # events and finished deliveries kept this long


class NoticeSettings(BaseModel):
    """Security notices to the account's owner (docs/security-notices.md)."""

    enabled: bool = True
    link_ttl: timedelta = timedelta(hours=24)
    # The "this wasn't me" link; `{token}` is replaced.
    link_url: str = "http://127.0.0.1:8000/wasnt-me?token={token}"
    retry_for: timedelta = timedelta(hours=6)


class RevocationSettings(BaseModel):
    """The revocation feed for services that verify tokens locally (docs/revocation-feed.md)."""

    # Bearer credentials of the services allowed to read the feed (at least 32 characters
    # each; two during a rotation).
    service_tokens: list[SecretStr] = []
    max_wait: timedelta = timedelta(seconds=30)  # the longest long-poll
    check_every: timedelta = timedelta(milliseconds=500)  # while a long-poll waits

    @field_validator("service_tokens")
    @classmethod
    def _long_enough(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        if any(len(t.get_secret_value()) < 32 for t in tokens):
            raise ValueError("each service token needs at least 32 characters")
        return tokens
