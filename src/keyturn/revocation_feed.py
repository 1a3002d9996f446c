"""Follow keyturn's revocation feed, so a service that verifies tokens locally refuses a
revoked session's tokens within about a second, with no call to keyturn per request
(docs/revocation-feed.md). Used through `keyturn.client`:

    feed = RevocationFeed("http://keyturn.internal:8000", service_token="...")
    verifier = KeyturnVerifier("http://keyturn.internal:8000", revocations=feed)
    await feed.start()          # first sync, then a long-poll loop in the background
    ...
    await feed.aclose()

The loop long-polls `GET /api/v1/auth/revocations` (`wait` seconds at most per request); keyturn
answers as soon as a session is revoked (it checks every 0.5 s by default), so while the feed
is followed a revoked session is refused within that check interval plus one network round
trip. Entries are forgotten once no token of their session can be valid any more. If no
answer has come for `max_lag` seconds (keyturn unreachable, the token refused), `is_revoked`
raises `KeyturnUnavailable` and the verifier fails closed (503) until the feed catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

log = logging.getLogger("keyturn.client")

RETRY_AFTER_FAILURE = 1.0  # seconds; doubles up to 10 while keyturn cannot be reached


class FeedStale(Exception):
    """The feed has not been heard from for too long to trust what it says."""


class RevocationFeed:
    def __init__(
        self,
        base_url: str,
        *,
        service_token: str,
        wait: float = 20.0,
        max_lag: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`max_lag` must exceed `wait`: a quiet feed answers once per `wait`."""
        assert max_lag > wait, "max_lag must be longer than one long-poll"
        self.url = base_url.rstrip("/") + "/api/v1/auth/revocations"
        self.wait = wait
        self.max_lag = max_lag
        self._headers = {"Authorization": f"Bearer {service_token}"}
        self._own_client = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport)
        self._clock = clock
        self._revoked: dict[str, float] = {}  # session id → forget after (epoch seconds)
        self._cursor: str | None = None
        self._synced_at = -math.inf
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Sync once (raises if keyturn cannot be asked), then follow in the background."""
        await self.sync(wait=0)
        self._task = asyncio.create_task(self._follow())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._own_client:
            await self._http.aclose()

    def is_revoked(self, session_id: str) -> bool:
        """Whether tokens of `session_id` must be refused; raises `FeedStale` when the feed
        has not answered for `max_lag` seconds."""
        if self._clock() - self._synced_at > self.max_lag:
            raise FeedStale("the revocation feed is not being followed")
        forget_after = self._revoked.get(session_id)
        return forget_after is not None and forget_after > time.time()

    async def sync(self, *, wait: float) -> int:
        """One request to the feed; the number of revocations it brought."""
        params: dict[str, Any] = {"wait": wait}
        if self._cursor is not None:
            params["since"] = self._cursor
        response = await self._http.get(
            self.url, params=params, headers=self._headers, timeout=wait + 10
        )
        response.raise_for_status()
        body = response.json()
        now = time.time()
        for item in body["items"]:
            forget_after = datetime.fromisoformat(item["expires_at"]).timestamp()
            if forget_after > now:
                self._revoked[str(item["session_id"])] = forget_after
        self._revoked = {sid: t for sid, t in self._revoked.items() if t > now}
        self._cursor = str(body["next_cursor"])
        self._synced_at = self._clock()
        return len(body["items"])

    async def _follow(self) -> None:
        pause = RETRY_AFTER_FAILURE
        while True:
            try:
                await self.sync(wait=self.wait)
                pause = RETRY_AFTER_FAILURE
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                log.warning("keyturn revocation feed: %s", type(exc).__name__)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)
