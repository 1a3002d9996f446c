"""`keyturn worker` as an operator runs it next to `serve` instances whose own loop is off:
it delivers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess

import httpx
import pytest

from tests.harness.receiver import Receiver
from tests.harness.server import KEYTURN
from tests.webhooks.test_crash import create_admin, phone_sign_in

pytestmark = pytest.mark.slow


async def test_a_separate_worker_process_delivers_and_stops_on_sigterm(start_live_server) -> None:
    env = {
        "KEYTURN_WORKER__IN_SERVE": "false",
        "KEYTURN_WORKER__POLL_INTERVAL": "PT0.1S",
        "KEYTURN_WEBHOOKS__ALLOW_NETWORKS": json.dumps(["127.0.0.1/32"]),
    }
    server = start_live_server(**env)
    create_admin(server)
    receiver = Receiver().start()
    worker = None
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-Market": "us"}, timeout=30
        ) as http:
            admin = await phone_sign_in(http, "+13125550177")
            endpoint = (
                await http.post(
                    "/api/v1/admin/webhooks",
                    json={"url": receiver.url, "event_types": ["user.created"]},
                    headers={"Authorization": f"Bearer {admin['access_token']}"},
                )
            ).json()
            receiver.secrets.append(endpoint["secret"])
            await phone_sign_in(http, "+13125550176")
            await asyncio.sleep(1)
            assert receiver.received == []  # serve sends nothing itself

            worker = subprocess.Popen(
                [str(KEYTURN), "worker"],
                env={**server.env, "KEYTURN_DATA_DIR": str(server.data_dir)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            async with asyncio.timeout(60):
                while not receiver.received:
                    await asyncio.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    finally:
        receiver.stop()
        if worker is not None and worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
    (delivered,) = receiver.received
    assert delivered.verified and delivered.type == "user.created"
    assert worker.returncode == 0, err.decode()[-2000:]
