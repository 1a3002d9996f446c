"""Load benchmark: start `keyturn serve` with N workers on SQLite or PostgreSQL, sign in a pool
of users, drive a fixed mixed load from a separate process, print and save the figures.

    .venv/bin/python -m bench.run --backend sqlite
    .venv/bin/python -m bench.run --backend postgres      # throwaway cluster (tests.harness)
    .venv/bin/python -m bench.run --database-url 'postgresql+asyncpg://u@127.0.0.1/kt_{market}'

Results go to bench/results/<date>-<backend>.json. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.load import MIX
from tests.harness.postgres import PostgresCluster, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
KEYTURN = Path(sys.executable).parent / "keyturn"
MARKETS = ("kg", "us")

# The sign-in phase sends one SMS code per user from one IP within seconds: far past the
# production throttles (KEYTURN_OTP__PER_IP=1000/hour etc.), so the benchmark raises them.
UNTHROTTLED = "1000000/minute"
BENCH_ENV = {
    "KEYTURN_ENV": "development",  # console SMS + the dev outbox the sign-in phase reads
    "KEYTURN_LOG_LEVEL": "WARNING",
    "KEYTURN_OTP__PER_PHONE": UNTHROTTLED,
    "KEYTURN_OTP__PER_IP": UNTHROTTLED,
    "KEYTURN_OTP__PER_COUNTRY": UNTHROTTLED,
    "KEYTURN_OTP__GLOBAL_DAILY": UNTHROTTLED,
    "KEYTURN_OTP__VERIFY_PER_IP": UNTHROTTLED,
}


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str | None]:
    """The database URL template to use (None: SQLite files in the data dir)."""
    if args.database_url or args.backend == "sqlite":
        yield args.database_url
        return
    cluster = PostgresCluster().start()
    try:
        for market in MARKETS:
            cluster.create_database(f"keyturn_{market}")
        yield cluster.url("keyturn_{market}")
    finally:
        cluster.destroy()


def prepare_postgres(url: str, data_dir: Path) -> None:
    """What `keyturn serve` does by itself for SQLite: migrate and load the demo catalog."""
    from keyturn.catalog.importer import load_demo_catalog
    from keyturn.config import Settings
    from keyturn.db import migrate

    settings = Settings(_env_file=None, data_dir=data_dir, database_url=url)
    migrate(settings)
    load_demo_catalog(settings, settings.market_codes)


@contextlib.contextmanager
def server(env: dict[str, str], data_dir: Path, workers: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = data_dir / "server.log"
    command = [
        str(KEYTURN), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(data_dir), "--workers", str(workers),
    ]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"keyturn serve exited:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("keyturn serve did not become healthy within 60 s")
            time.sleep(0.2)
        time.sleep(1)  # let every worker finish importing, not just the first to answer
        yield url, proc.pid
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def run_load(url: str, pgid: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "bench.load", "--url", url,
        "--requests", str(args.requests), "--concurrency", str(args.concurrency),
        "--users", str(args.users), "--warmup", str(args.warmup),
        "--max-seconds", str(args.max_seconds), "--server-pgid", str(pgid),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, check=True, timeout=600)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": commit + ("+uncommitted" if dirty else ""),
        # Other work on the machine skews everything: compare only quiet runs.
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['backend']}: {result['workers']} workers, {result['requests']} requests, "
        f"concurrency {result['concurrency']}, {result['seconds']} s",
        f"sign-in: {result['sign_in']['users']} users in {result['sign_in']['seconds']} s",
        f"{'endpoint':28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}",
    ]
    rows = [*result["endpoints"].items(), ("all", result)]
    for name, row in rows:
        errors = row["errors"] if isinstance(row["errors"], int) else sum(row["errors"].values())
        lines.append(
            f"{name:28} {row['requests_per_second']:>8} {row['p50_ms']:>8} "
            f"{row['p95_ms']:>8} {row['p99_ms']:>8} {errors:>7}"
        )
    lines.append(
        f"cores busy (of {result['machine']['cpus']}): server {result['server_cores_busy']}, "
        f"load generator {result['load_generator_cores_busy']}, "
        f"whole machine {result['machine_cores_busy']}; "
        f"server CPU {result['server_cpu_ms_per_request']} ms per request"
    )
    return "\n".join(lines)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="keyturn load benchmark")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--database-url",
        help="an existing PostgreSQL URL template with {market} (implies --backend postgres; "
        "its databases must exist; they are migrated and get the demo catalog)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument(
        "--max-seconds", type=float, default=110, help="cap on the measured phase's duration"
    )
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    if args.database_url:
        args.backend = "postgres"
    return args


def main() -> None:
    args = parse()
    host = machine()
    if host["load_average_before"][0] > 0.5:
        print(f"warning: load average {host['load_average_before']}: the machine is busy")
    with tempfile.TemporaryDirectory(prefix="keyturn-bench-") as tmp, database(args) as url:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        env = {**os.environ, **BENCH_ENV}
        if url:
            env["KEYTURN_DATABASE_URL"] = url
            prepare_postgres(url, data_dir)
        with server(env, data_dir, args.workers) as (base_url, pgid):
            measured = run_load(base_url, pgid, args)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": args.backend,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "mix": dict(MIX),
        "machine": host,
        **measured,
    }
    print(report(result))
    if result["stopped_by_time_limit"]:
        print(f"stopped by --max-seconds after {result['requests']} of {args.requests} requests")
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-{args.backend}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"saved {path.relative_to(ROOT)}")
    if result["errors"]:
        raise SystemExit(f"{result['errors']} requests failed; see the endpoints' errors")


if __name__ == "__main__":
    main()
