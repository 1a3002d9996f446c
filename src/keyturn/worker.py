"""The background loop that sends what the outbox holds: webhook deliveries and security
notices (docs/webhooks.md). It runs inside every `keyturn serve` process (unless
`KEYTURN_WORKER__IN_SERVE=false`) and in each `keyturn worker` process; any number of them
may run against the same databases, as every piece of work is claimed before it is done.

Each round, per market: fan new events out into deliveries, then claim as many due
deliveries and notices as there is room for (`worker.concurrency` in flight per process) and
start sending them. A round that found nothing waits `worker.poll_interval`, or less if a send
finishes first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from keyturn.config import Settings
from keyturn.db import Databases
from keyturn.logs import get_logger
from keyturn.notices import sender as notices
from keyturn.notify.email import make_mailer
from keyturn.notify.providers import make_sms_provider
from keyturn.sessions.keys import ensure_secret_key
from keyturn.webhooks import delivery as webhooks

log = get_logger("keyturn.worker")

STOP_GRACE = 5.0  # seconds a stopping worker waits for its sends


class Worker:
    def __init__(self, settings: Settings, databases: Databases) -> None:
        self.settings = settings
        self.databases = databases
        self.master = ensure_secret_key(settings)
        self.mailer = make_mailer(settings)
        self.sms = make_sms_provider(settings)
        self.in_flight: set[asyncio.Task[Any]] = set()

    def _start(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self.in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The claim stays; the work becomes due again when it runs out.
            log.warning("worker.task_failed", error=type(task.exception()).__name__)

    def _room(self) -> int:
        return self.settings.worker.concurrency - len(self.in_flight)

    async def tick(self) -> int:
        """One round over every market; how many pieces of work it started or fanned out."""
        started = 0
        for market in self.settings.market_codes:
            started += await webhooks.fan_out(self.settings, self.databases, market)
            if self._room() > 0:
                for claimed in await webhooks.claim(
                    self.settings, self.databases, market, master=self.master, limit=self._room()
                ):
                    self._start(webhooks.deliver(self.settings, self.databases, claimed))
                    started += 1
            if self._room() > 0:
                for notice in await notices.claim(
                    self.settings, self.databases, market, limit=self._room()
                ):
                    self._start(
                        notices.deliver(self.databases, notice, mailer=self.mailer, sms=self.sms)
                    )
                    started += 1
        return started

    async def drain(self) -> None:
        """Wait for everything in flight to finish."""
        while self.in_flight:
            await asyncio.wait(set(self.in_flight))

    async def run_until_idle(self) -> None:
        """Rounds until one starts nothing and nothing is in flight (tests, one-off runs)."""
        while await self.tick() or self.in_flight:
            await self.drain()

    async def run_forever(self) -> None:
        wait = self.settings.worker.poll_interval.total_seconds()
        try:
            while True:
                try:
                    busy = await self.tick()
                except Exception as exc:  # a database that is down: log, wait, try again
                    log.warning("worker.round_failed", error=type(exc).__name__)
                    busy = 0
                if busy and self._room() > 0:
                    continue
                if self.in_flight:
                    await asyncio.wait(
                        set(self.in_flight), timeout=wait, return_when=asyncio.FIRST_COMPLETED
                    )
                else:
                    await asyncio.sleep(wait)
        finally:
            await self._stop()

    async def _stop(self) -> None:
        """Give sends in flight a moment to finish and record; cancel the rest (their claims
        run out and someone sends them again)."""
        if self.in_flight:
            grace = min(self.settings.webhooks.timeout.total_seconds(), STOP_GRACE)
            await asyncio.wait(set(self.in_flight), timeout=grace)
        for task in list(self.in_flight):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self.in_flight, return_exceptions=True)
