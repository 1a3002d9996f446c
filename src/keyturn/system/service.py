"""Readiness: every dependency asked at once, each failure named (docs/probes.md); the
metrics exposition."""

import asyncio
import os
from collections.abc import Awaitable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from keyturn import metrics, ratelimit
from keyturn.config import Settings
from keyturn.db import Databases
from keyturn.files.storage import Storage
from keyturn.notify.sms import SmsProvider


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    # A required dependency failing makes the instance unready (503); an optional one (an
    # outside provider only some requests need) makes it "degraded" and still ready (200).
    required: bool
    problem: str | None = None


async def readiness(
    settings: Settings, databases: Databases, storage: Storage, sms: SmsProvider
) -> list[Check]:
    probes: dict[str, tuple[Awaitable[bool], str]] = {
        f"database:{code}": (databases.ping(code), "does not answer")
        for code in settings.market_codes
    }
    if settings.redis_url:
        probes["redis"] = (ratelimit.ping(settings.redis_url), "does not answer")
    probes["storage"] = (storage.ready(), "cannot store files")
    results = await asyncio.gather(*(probe for probe, _ in probes.values()))
    checks = [
        Check(name, ok, required=True, problem=None if ok else problem)
        for (name, (_, problem)), ok in zip(probes.items(), results, strict=True)
    ]
    checks.append(Check("sms", sms.problem is None, required=False, problem=sms.problem))
    return checks


def exposition() -> bytes:
    """Prometheus text: this process's metrics, or every worker's added up when `serve
    --workers N` made them count in files (`PROMETHEUS_MULTIPROC_DIR`)."""
    metrics.REQUEST_TALLY.flush()
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
