"""`keyturn serve --workers 2`: whichever worker answers /metrics, it reports every worker's
counts, so Prometheus sees one steadily growing counter and not a different process each time."""

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import sign_in
from tests.harness.server import LiveServer

pytestmark = pytest.mark.slow


def counted(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return sample.value
    return 0.0


async def test_every_worker_reports_the_sum_of_all_workers(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", workers=2).start()
    try:

        async def probe() -> None:  # a connection of its own, so both workers take some
            async with httpx.AsyncClient(base_url=live.url, timeout=30) as own:
                assert (await own.get("/health")).is_success

        await asyncio.gather(*(probe() for _ in range(30)))
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            await sign_in(client)
        # Each worker moves its request counts into its file once a second (metrics.py).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = httpx.get(f"{live.url}/metrics", headers={"Connection": "close"}).text
            if counted(text, "keyturn_http_requests_total", route="/health", status="200") >= 30:
                break
            time.sleep(0.2)
        pids = {p.name.split("_")[-1] for p in (tmp_path / "data" / "metrics").glob("*.db")}
        assert len(pids) >= 2, pids  # both workers counted something
        for _ in range(10):
            text = httpx.get(f"{live.url}/metrics", headers={"Connection": "close"}).text
            health = counted(text, "keyturn_http_requests_total", route="/health", status="200")
            assert health >= 30  # the start-up health checks count too
            ok = counted(text, "keyturn_sign_ins_total", market="us", method="phone", outcome="ok")
            assert ok == 1
    finally:
        live.stop()
