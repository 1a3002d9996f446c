"""`kill -9` of the process that is sending a webhook loses nothing: after a restart the
delivery is sent again (same `webhook-id`) and the log names the lost attempt. A receiver
that hangs holds no database transaction meanwhile."""

from __future__ import annotations

import asyncio
import json
import subprocess

import httpx
import pytest

from tests.harness.receiver import Receiver
from tests.harness.server import KEYTURN, LiveServer

pytestmark = pytest.mark.slow

ENV = {
    "KEYTURN_WEBHOOKS__ALLOW_NETWORKS": json.dumps(["127.0.0.1/32"]),
    # Long enough that the hanging attempt is still in flight when the server is killed, even
    # on a busy machine; the restarted server takes it over when the claim (+ grace) runs out.
    "KEYTURN_WEBHOOKS__TIMEOUT": "PT10S",
    "KEYTURN_WORKER__POLL_INTERVAL": "PT0.05S",
    "KEYTURN_WORKER__CLAIM_GRACE": "PT1S",
}
ADMIN_PHONE = "+13125550177"


async def phone_sign_in(http: httpx.AsyncClient, phone: str) -> dict:
    sent = await http.post("/api/v1/auth/send-verification", json={"phone": phone})
    assert sent.status_code == 200, sent.text
    code = (await http.get("/api/v1/dev/outbox", params={"to": phone})).json()["items"][0]["code"]
    signed = await http.post(
        "/api/v1/auth/verify-code", json={"phone": phone, "verification_code": code}
    )
    assert signed.status_code == 200, signed.text
    return signed.json()


def create_admin(server: LiveServer) -> None:
    subprocess.run(
        [str(KEYTURN), "create-admin", "--phone", ADMIN_PHONE, "--market", "us"],
        env={**server.env, "KEYTURN_DATA_DIR": str(server.data_dir)},
        check=True,
        capture_output=True,
        timeout=120,
    )


async def test_kill_9_mid_send_is_delivered_after_restart(start_live_server) -> None:
    receiver = Receiver().start()
    server = start_live_server(**ENV)
    create_admin(server)
    restarted = None
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"X-Market": "us"}, timeout=30
        ) as http:
            admin = await phone_sign_in(http, ADMIN_PHONE)
            headers = {"Authorization": f"Bearer {admin['access_token']}"}
            endpoint = (
                await http.post(
                    "/api/v1/admin/webhooks",
                    json={"url": receiver.url, "event_types": ["user.created"]},
                    headers=headers,
                )
            ).json()
            receiver.secrets.append(endpoint["secret"])
            receiver.mode = "hang"
            await phone_sign_in(http, "+13125550178")
            async with asyncio.timeout(30):
                while not receiver.received:
                    await asyncio.sleep(0.05)
            # The receiver hangs, and no transaction waits with it: writes go on (on SQLite
            # one held open would lock every writer out).
            changed = await http.patch("/api/v1/profile", json={"company": "Ops"}, headers=headers)
            assert changed.status_code == 200
        server.kill()  # mid-send: the receiver holds the request
        receiver.mode = "ok"
        receiver.release()

        restarted = LiveServer(server.data_dir, env=server.env).start()
        async with httpx.AsyncClient(
            base_url=restarted.url, headers={"X-Market": "us"}, timeout=30
        ) as http:
            log_url = f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries"
            async with asyncio.timeout(60):
                while True:
                    (delivery,) = (await http.get(log_url, headers=headers)).json()["items"]
                    if delivery["status"] == "delivered":
                        break
                    await asyncio.sleep(0.1)
    finally:
        receiver.stop()
        if restarted is not None:
            restarted.stop()
    first, second = receiver.received
    assert first.msg_id == second.msg_id == delivery["webhook_id"]
    assert first.verified and second.verified and second.type == "user.created"
    assert [a["outcome"] for a in delivery["attempts"]] == ["lost", "succeeded"]
    assert delivery["attempt"] == 2
