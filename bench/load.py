"""The load generator: signs in a pool of users against a running keyturn, then sends a fixed
number of mixed requests with fixed concurrency and prints the measurements as JSON on stdout.

Run by bench/run.py in its own process (so it never shares an event loop with the server);
it only talks to 127.0.0.1. Standalone:

    .venv/bin/python -m bench.load --url http://127.0.0.1:8000 --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

MARKET = "us"
# (name, weight): the traffic mix; names are what the results are keyed by.
MIX = [
    ("GET /api/v1/profile", 60),
    ("GET /api/v1/cart", 20),
    ("POST /api/v1/cart/items", 10),
    ("POST /api/v1/auth/refresh", 10),
]


@dataclass
class User:
    access: str
    refresh: str


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def record(self, name: str, seconds: float, status: int | str) -> None:
        if status in (200, 201):
            self.latencies[name].append(seconds)
        else:
            errors = self.errors[name]
            errors[str(status)] = errors.get(str(status), 0) + 1


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def sign_in(client: httpx.AsyncClient, phone: str) -> User:
    """Phone sign-in through the dev outbox, as a test or a person without a phone would."""
    market = {"X-Market": MARKET}
    sent = await client.post(
        "/api/v1/auth/send-verification", json={"phone": phone}, headers=market
    )
    sent.raise_for_status()
    outbox = await client.get("/api/v1/dev/outbox", params={"to": phone}, headers=market)
    outbox.raise_for_status()
    code = outbox.json()["items"][0]["code"]
    verified = await client.post(
        "/api/v1/auth/verify-code",
        json={"phone": phone, "verification_code": code, "device_name": "bench"},
        headers=market,
    )
    verified.raise_for_status()
    body = verified.json()
    return User(access=body["access_token"], refresh=body["refresh_token"])


async def sign_in_pool(client: httpx.AsyncClient, count: int, seed: int) -> list[User]:
    # Fictional Chicago numbers (+1 312 555 xxxx), a different sample per seed so a rerun
    # against the same database does not hit the 60 s resend cooldown.
    numbers = random.Random(seed).sample(range(10000), count)
    gate = asyncio.Semaphore(16)

    async def one(n: int) -> User:
        async with gate:
            return await sign_in(client, f"+1312555{n:04d}")

    return list(await asyncio.gather(*(one(n) for n in numbers)))


async def sku_ids(client: httpx.AsyncClient) -> list[int]:
    products = await client.get(
        "/api/v1/products", params={"limit": 50}, headers={"X-Market": MARKET}
    )
    products.raise_for_status()
    ids = [sku["id"] for product in products.json()["items"] for sku in product["skus"]]
    if not ids:
        raise SystemExit("the catalog is empty: the benchmark adds SKUs to carts")
    return ids


async def send(
    client: httpx.AsyncClient, name: str, user: User, skus: list[int], rng: random.Random
) -> int:
    bearer = {"Authorization": f"Bearer {user.access}"}
    if name == "GET /api/v1/profile":
        response = await client.get("/api/v1/profile", headers=bearer)
    elif name == "GET /api/v1/cart":
        response = await client.get("/api/v1/cart", headers=bearer)
    elif name == "POST /api/v1/cart/items":
        body = {"sku_id": rng.choice(skus), "quantity": 1}
        response = await client.post("/api/v1/cart/items", json=body, headers=bearer)
    else:
        response = await client.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": user.refresh},
            headers={"X-Market": MARKET},
        )
        if response.status_code == 200:
            tokens = response.json()
            user.access, user.refresh = tokens["access_token"], tokens["refresh_token"]
    return response.status_code


async def drive(
    client: httpx.AsyncClient,
    users: list[User],
    skus: list[int],
    *,
    requests: int,
    concurrency: int,
    seed: int,
    recorder: Recorder | None,
    max_seconds: float = 600,
) -> float:
    """Send `requests` requests from `concurrency` workers (fewer if `max_seconds` passes
    first); returns the wall time.

    Each worker owns its own users (user i belongs to worker i % concurrency), so one
    refresh token is never redeemed by two requests at once, as on one real device."""
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    remaining = requests

    deadline = time.perf_counter() + max_seconds

    async def worker(index: int) -> None:
        nonlocal remaining
        rng = random.Random(seed * 1000 + index)
        mine = users[index::concurrency]
        turn = 0
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            name = rng.choices(names, weights)[0]
            user = mine[turn % len(mine)]
            turn += 1
            started = time.perf_counter()
            try:
                status: int | str = await send(client, name, user, skus, rng)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if recorder is not None:
                recorder.record(name, time.perf_counter() - started, status)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return time.perf_counter() - started


def summarise(recorder: Recorder, wall: float) -> dict[str, Any]:
    endpoints = {}
    total = 0
    for name, _ in MIX:
        ok = sorted(recorder.latencies.get(name, []))
        errors = recorder.errors.get(name, {})
        count = len(ok) + sum(errors.values())
        total += count
        endpoints[name] = {
            "requests": count,
            "errors": errors,
            "requests_per_second": round(count / wall, 1),
            "p50_ms": round(percentile(ok, 50) * 1000, 2),
            "p95_ms": round(percentile(ok, 95) * 1000, 2),
            "p99_ms": round(percentile(ok, 99) * 1000, 2),
            "max_ms": round(ok[-1] * 1000, 2) if ok else None,
        }
    every = sorted(x for values in recorder.latencies.values() for x in values)
    return {
        "requests": total,
        "seconds": round(wall, 2),
        "requests_per_second": round(total / wall, 1),
        "errors": sum(sum(e.values()) for e in recorder.errors.values()),
        "p50_ms": round(percentile(every, 50) * 1000, 2),
        "p95_ms": round(percentile(every, 95) * 1000, 2),
        "p99_ms": round(percentile(every, 99) * 1000, 2),
        "endpoints": endpoints,
    }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def group_cpu_seconds(pgid: int) -> float:
    """CPU time of every process in a process group (the server and its workers), Linux."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if urlsplit(args.url).hostname != "127.0.0.1":
        raise SystemExit("the load generator only sends traffic to 127.0.0.1")
    if args.users < args.concurrency:
        raise SystemExit("--users must be at least --concurrency (each worker owns its users)")
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        users = await sign_in_pool(client, args.users, args.seed)
        sign_in_seconds = time.perf_counter() - started
        skus = await sku_ids(client)
        print(f"signed in {len(users)} users in {sign_in_seconds:.1f} s", file=sys.stderr)

        if args.warmup:
            await drive(
                client,
                users,
                skus,
                requests=args.warmup,
                concurrency=args.concurrency,
                seed=args.seed + 1,
                recorder=None,
            )
        recorder = Recorder()
        cpu_before = cpu_seconds()
        server_before = group_cpu_seconds(args.server_pgid) if args.server_pgid else 0.0
        machine_before = machine_cpu()
        wall = await drive(
            client,
            users,
            skus,
            requests=args.requests,
            concurrency=args.concurrency,
            seed=args.seed,
            recorder=recorder,
            max_seconds=args.max_seconds,
        )
        load_cpu = cpu_seconds() - cpu_before
        server_cpu = group_cpu_seconds(args.server_pgid) - server_before if args.server_pgid else 0
        machine_busy = machine_cpu()[0] - machine_before[0]
    result = summarise(recorder, wall)
    result["sign_in"] = {
        "users": len(users),
        "seconds": round(sign_in_seconds, 2),
        "per_second": round(len(users) / sign_in_seconds, 1),
    }
    result["warmup_requests"] = args.warmup
    result["stopped_by_time_limit"] = result["requests"] < args.requests
    result["load_generator_cpu_seconds"] = round(load_cpu, 2)
    result["load_generator_cores_busy"] = round(load_cpu / wall, 2)
    if args.server_pgid:
        result["server_cores_busy"] = round(server_cpu / wall, 2)
        # CPU per request barely depends on what else runs on the machine; rates do.
        result["server_cpu_ms_per_request"] = round(
            server_cpu / max(result["requests"], 1) * 1000, 2
        )
    # Whole machine, so other work running at the same time shows: busy - server - generator.
    result["machine_cores_busy"] = round(machine_busy / wall, 2)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="keyturn base URL on 127.0.0.1")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured requests first")
    parser.add_argument(
        "--max-seconds", type=float, default=110, help="stop the measured phase after this"
    )
    parser.add_argument("--server-pgid", type=int, help="measure this process group's CPU")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse())), indent=2))
