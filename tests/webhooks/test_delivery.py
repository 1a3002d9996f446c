"""Events reach a webhook receiver signed per the Standard Webhooks spec, once per attempt,
retried with backoff while the receiver is down, and never sent to where they must not go."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from keyturn.db import Databases
from keyturn.events import service as events
from keyturn.events.models import Event
from keyturn.webhooks.models import WebhookDelivery
from keyturn.worker import Worker
from tests.factories import emit_every_event_type, new_phone, sign_in
from tests.system.test_metrics import Series, scrape
from tests.webhooks.conftest import deliveries, fast, subscribe


def webhook_counts(before: dict[Series, float], after: dict[Series, float]) -> dict[str, float]:
    """How much `keyturn_webhook_deliveries_total{market="us"}` moved, by outcome."""
    counts = {}
    for (name, labels), value in after.items():
        label = dict(labels)
        if name == "keyturn_webhook_deliveries_total" and label["market"] == "us":
            counts[label["outcome"]] = value - before.get((name, labels), 0)
    return counts


@pytest.fixture
def hook_settings(make_settings, providers):
    return make_settings(usage={"limits": {"uploads": 1}}, oauth=providers.settings(), **fast())


async def test_each_event_type_arrives_once_with_a_valid_signature(
    app, client, admin, receiver, worker, providers
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["*"])
    await emit_every_event_type(app, client, admin, providers)
    await worker.run_until_idle()

    received = receiver.received
    assert received and all(r.verified for r in received), [r.headers for r in received]
    assert set(receiver.by_type()) == set(events.TYPES)
    counts = Counter(r.msg_id for r in received)
    assert set(counts.values()) == {1}, "a message was sent twice"
    log = await deliveries(client, admin, endpoint["id"])
    assert len(log) == len(received)
    assert {d["status"] for d in log} == {"delivered"}
    assert {(d["attempt"], d["response_code"]) for d in log} == {(1, 204)}
    assert {d["webhook_id"] for d in log} == set(counts)
    first = received[0].headers
    assert first["content-type"] == "application/json"
    assert first["webhook-id"].startswith("msg_")
    assert first["webhook-signature"].startswith("v1,")
    body = json.loads(received[0].body)
    assert set(body) == {"type", "timestamp", "market", "data"} and body["market"] == "us"


async def test_endpoints_get_only_the_types_they_subscribed_to(
    app, client, admin, receiver, worker
) -> None:
    await subscribe(client, admin, receiver, ["session.*"])
    await sign_in(client)
    await worker.run_until_idle()
    assert set(receiver.by_type()) == {"session.created"}


async def test_a_disabled_endpoint_receives_nothing(client, admin, receiver, worker) -> None:
    await subscribe(client, admin, receiver, ["*"], enabled=False)
    await sign_in(client)
    await worker.run_until_idle()
    assert receiver.received == []


async def test_receiver_down_is_retried_with_backoff_then_delivered(
    client, admin, receiver, worker
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    receiver.mode = "down"
    await sign_in(client)
    running = asyncio.create_task(worker.run_forever())
    try:
        async with asyncio.timeout(30):
            while len(receiver.received) < 4:
                await asyncio.sleep(0.05)
            receiver.mode = "ok"
            while [d["status"] for d in await deliveries(client, admin, endpoint["id"])] != [
                "delivered"
            ]:
                await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    outcomes = [(a["outcome"], a["response_code"]) for a in delivery["attempts"]]
    assert outcomes[:-1] == [("failed", 503)] * (len(outcomes) - 1)
    assert outcomes[-1] == ("succeeded", 204)
    assert delivery["attempt"] == len(outcomes) >= 5
    # Each wait is at least half its backoff (0.2 s doubling, capped at 1 s: equal jitter).
    times = [r.at for r in receiver.received]
    floors = [min(1.0, 0.2 * 2**n) / 2 for n in range(len(times) - 1)]
    assert all(b - a >= floor - 0.02 for a, b, floor in zip(times, times[1:], floors, strict=False))
    assert len({r.msg_id for r in receiver.received}) == 1


@pytest.mark.parametrize("mode, code", [("down", 503), ("redirect", 302)])
async def test_a_receiver_that_keeps_failing_is_given_up_after_retry_for(
    app, client, admin, receiver, make_settings, mode, code
) -> None:
    settings = make_settings(**fast(webhooks={"retry_for": 1.5}))
    worker = Worker(settings, app.state.databases)
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    receiver.mode = mode
    before = await scrape(client)
    await sign_in(client)
    running = asyncio.create_task(worker.run_forever())
    try:
        async with asyncio.timeout(30):
            while [d["status"] for d in await deliveries(client, admin, endpoint["id"])] in (
                [],
                ["pending"],
            ):
                await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert delivery["status"] == "failed"
    assert {a["response_code"] for a in delivery["attempts"]} == {code}
    assert len(receiver.received) == delivery["attempt"]  # a redirect is never followed
    counted = webhook_counts(before, await scrape(client))
    assert counted["failed"] == 1 and counted["delivered"] == 0
    # Each attempt is counted once: the last one gave up, unless the claim after it did.
    assert counted["retrying"] in (delivery["attempt"] - 1, delivery["attempt"])


async def test_prometheus_counts_each_attempt_by_what_became_of_the_delivery(
    app, client, admin, receiver, make_settings
) -> None:
    slow_retry = fast(webhooks={"backoff_first": 60, "backoff_max": 60})
    worker = Worker(make_settings(**slow_retry), app.state.databases)
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    before = await scrape(client)
    receiver.mode = "down"
    await sign_in(client)
    await worker.run_until_idle()  # attempt 1: 503, the next one due in a minute
    assert webhook_counts(before, await scrape(client)) == {
        "delivered": 0,
        "retrying": 1,
        "failed": 0,
        "lost": 0,
    }
    receiver.mode = "ok"
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    replay = f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay"
    assert (await client.post(replay, headers=admin)).status_code == 202
    await worker.run_until_idle()  # attempt 2: delivered
    assert webhook_counts(before, await scrape(client)) == {
        "delivered": 1,
        "retrying": 1,
        "failed": 0,
        "lost": 0,
    }


async def test_two_workers_never_send_the_same_attempt(
    app, client, admin, receiver, hook_settings
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["session.created"])
    for _ in range(12):
        await sign_in(client)
    a = Worker(hook_settings, Databases(hook_settings))
    b = Worker(hook_settings, Databases(hook_settings))
    try:
        await asyncio.gather(a.run_until_idle(), b.run_until_idle())
    finally:
        await a.databases.dispose()
        await b.databases.dispose()
    counts = Counter(r.msg_id for r in receiver.received)
    assert len(counts) == 12 and set(counts.values()) == {1}
    log = await deliveries(client, admin, endpoint["id"])
    assert [d["attempt"] for d in log] == [1] * 12


async def test_forged_and_replayed_deliveries_fail_verification(
    client, admin, receiver, worker
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    await sign_in(client)
    await worker.run_until_idle()
    (real,) = receiver.received
    hook = Webhook(endpoint["secret"])
    assert hook.verify(real.body, real.headers)["type"] == "user.created"

    tampered = real.body.replace(b'"role":"customer"', b'"role":"admin"')
    assert tampered != real.body
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    replayed = dict(real.headers)
    replayed["webhook-timestamp"] = str(int(an_hour_ago.timestamp()))
    replayed["webhook-signature"] = hook.sign(real.msg_id, an_hour_ago, real.body.decode())
    forged = dict(real.headers)
    other_key = "whsec_" + base64.b64encode(b"k" * 32).decode()
    forged["webhook-signature"] = Webhook(other_key).sign(
        real.msg_id, datetime.now(UTC), real.body.decode()
    )
    for body, headers, reason in [
        (tampered, real.headers, "No matching signature"),
        (real.body, replayed, "too old"),
        (real.body, forged, "No matching signature"),
    ]:
        with pytest.raises(WebhookVerificationError, match=reason):
            hook.verify(body, headers)


async def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    client, admin, receiver, worker
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    old = endpoint["secret"]
    rotated = await client.post(
        f"/api/v1/admin/webhooks/{endpoint['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=admin,
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    await sign_in(client)
    await worker.run_until_idle()
    (during,) = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(during.body, during.headers)

    again = await client.post(
        f"/api/v1/admin/webhooks/{endpoint['id']}/rotate-secret",
        json={"overlap_seconds": 0},
        headers=admin,
    )
    newest = again.json()["secret"]
    await sign_in(client)
    await worker.run_until_idle()
    after = receiver.received[-1]
    assert Webhook(newest).verify(after.body, after.headers)
    for retired in (old, new):
        with pytest.raises(WebhookVerificationError):
            Webhook(retired).verify(after.body, after.headers)


async def test_an_address_the_settings_do_not_allow_is_never_contacted(
    app, client, admin, receiver, make_settings
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    strict = Worker(make_settings(**fast(webhooks={"allow_networks": []})), app.state.databases)
    await sign_in(client)
    await strict.run_until_idle()
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    assert delivery["attempts"][0]["outcome"] == "failed"
    assert "local, private or reserved" in delivery["attempts"][0]["error"]
    assert receiver.received == []


async def test_replay_sends_a_delivered_event_again_with_the_same_webhook_id(
    client, admin, receiver, worker
) -> None:
    endpoint = await subscribe(client, admin, receiver, ["user.created"])
    await sign_in(client)
    await worker.run_until_idle()
    (delivery,) = await deliveries(client, admin, endpoint["id"])
    replayed = await client.post(
        f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay",
        headers=admin,
    )
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["status"] == "pending"
    await worker.run_until_idle()
    (after,) = await deliveries(client, admin, endpoint["id"])
    assert after["status"] == "delivered" and after["attempt"] == 2
    assert [r.msg_id for r in receiver.received] == [delivery["webhook_id"]] * 2


async def test_events_committed_before_an_endpoint_existed_are_not_sent_to_it(
    app, client, admin, receiver, worker
) -> None:
    await sign_in(client)
    await worker.run_until_idle()  # the fan-out passes the first sign-in's events
    await subscribe(client, admin, receiver, ["user.created"])
    await sign_in(client, new_phone())
    await worker.run_until_idle()
    assert len(receiver.received) == 1
    async with app.state.databases.session("us") as db:
        created = await db.scalar(
            select(Event.id).where(Event.type == "user.created").order_by(Event.id.desc())
        )
        (delivery,) = (await db.scalars(select(WebhookDelivery))).all()
    assert delivery.event_id == created
