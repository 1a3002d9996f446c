"""Traces on request: requests, database calls and outgoing provider calls become OpenTelemetry
spans, with no personal data in them; with tracing off nothing of OpenTelemetry's SDK loads."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from keyturn import tracing
from keyturn.app import create_app
from keyturn.config import Settings
from tests.conftest import http_client
from tests.factories import STRONG_PASSWORD, auth
from tests.notify.test_twilio import ACCOUNT, SENDER, SERVICE, TOKEN, FakeTwilio, sent_code

PHONE = "+13125550163"
EMAIL = "ada.lovelace@example.com"
US = {"X-Market": "us"}


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """An aiohttp app on 127.0.0.1; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


async def lookup_answer(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def twilio_settings(make_settings: Callable[..., Settings], url: str) -> Settings:
    return make_settings(
        sms={
            "provider": "twilio-messaging",
            "twilio_account_sid": ACCOUNT,
            "twilio_auth_token": TOKEN,
            "twilio_verify_service_sid": SERVICE,
            "twilio_from": SENDER,
            "twilio_base_url": url,
        }
    )


def attr(span: ReadableSpan, *names: str) -> Any:
    attributes = span.attributes or {}
    return next((attributes[n] for n in names if n in attributes), None)


async def test_requests_database_and_provider_calls_are_traced_without_personal_data(
    make_settings: Callable[..., Settings],
) -> None:
    fake = FakeTwilio()
    partner = web.Application()
    partner.router.add_get("/lookup/{rest:.*}", lookup_answer)
    async with serve(fake.app) as twilio_url, serve(partner) as partner_url:
        fake.url = twilio_url
        app = create_app(twilio_settings(make_settings, twilio_url))
        memory = InMemorySpanExporter()
        provider = tracing.install(app, app.state.databases, memory)
        try:
            async with http_client(app) as client:
                sent = await client.post(
                    "/api/v1/auth/send-verification", json={"phone": PHONE}, headers=US
                )
                assert sent.status_code == 200, sent.text
                code = sent_code(fake.requests[-1])
                wrong = f"{(int(code) + 1) % 10**6:06d}"
                for attempt in (wrong, code):
                    signed = await client.post(
                        "/api/v1/auth/verify-code",
                        json={"phone": PHONE, "verification_code": attempt},
                        headers=US,
                    )
                assert signed.status_code == 200, signed.text
                tokens = signed.json()
                registered = await client.post(
                    "/api/v1/auth/register",
                    json={"email": EMAIL, "password": STRONG_PASSWORD},
                    headers=US,
                )
                assert registered.status_code == 201, registered.text
                outbox = await client.get("/api/v1/dev/outbox", params={"to": PHONE}, headers=US)
                assert outbox.status_code == 200
                cart = await client.get("/api/v1/cart", headers=auth(tokens["access_token"]))
                assert cart.status_code == 200
                assert (await client.get("/health")).status_code == 200
            async with httpx.AsyncClient() as outgoing:  # another provider, over httpx
                looked_up = await outgoing.get(f"{partner_url}/lookup/%2B13125550163?email={EMAIL}")
                assert looked_up.status_code == 200
            provider.force_flush()
        finally:
            tracing.uninstall(app, provider)
            await app.state.databases.dispose()
    spans = memory.get_finished_spans()

    servers = {attr(s, "http.route"): s for s in spans if s.kind == SpanKind.SERVER}
    assert {
        "/api/v1/auth/send-verification",
        "/api/v1/auth/verify-code",
        "/api/v1/auth/register",
        "/api/v1/dev/outbox",
        "/api/v1/cart",
    } <= set(servers)
    assert "/health" not in servers  # probes are not traced
    sending = servers["/api/v1/auth/send-verification"]
    in_send = [s for s in spans if s.context.trace_id == sending.context.trace_id]
    statements = [attr(s, "db.statement", "db.query.text") for s in in_send]
    assert any(s and "phone_challenges" in s for s in statements), statements
    twilio_call = next(
        s for s in in_send if "Messages.json" in str(attr(s, "http.url", "url.full"))
    )
    assert twilio_call.kind == SpanKind.CLIENT
    assert twilio_call.parent is not None  # a child of the request that caused it
    lookup = next(s for s in spans if "/lookup/" in str(attr(s, "http.url", "url.full")))
    assert str(attr(lookup, "http.url", "url.full")).endswith("/lookup/+1312*****63")
    target = attr(servers["/api/v1/dev/outbox"], "http.target", "url.path")
    assert target == "/api/v1/dev/outbox"  # the query (`?to=<phone>`) is gone

    exported = "\n".join(s.to_json() for s in spans)
    for secret in (
        PHONE,
        PHONE[1:],
        "%2B13125550163",
        EMAIL,
        "ada.lovelace%40example.com",
        STRONG_PASSWORD,
        code,
        wrong,
        tokens["access_token"],
        tokens["refresh_token"],
        "203.0.113.7",  # the client's address
    ):
        assert secret not in exported, secret


async def test_an_otlp_endpoint_turns_tracing_on_and_spans_reach_the_collector(
    make_settings: Callable[..., Settings],
) -> None:
    received: list[ExportTraceServiceRequest] = []

    async def collect(request: web.Request) -> web.Response:
        batch = ExportTraceServiceRequest()
        batch.ParseFromString(await request.read())
        received.append(batch)
        return web.Response(status=200)

    collector = web.Application()
    collector.router.add_post("/v1/traces", collect)
    async with serve(collector) as url:
        app = create_app(make_settings(otel_exporter_otlp_endpoint=url))
        provider = app.state.tracer_provider
        assert provider is not None
        try:
            async with http_client(app) as client:
                assert (await client.get("/api/v1/products", headers=US)).status_code == 200
            # In a thread: the exporter posts to the collector, which answers on this loop.
            assert await asyncio.to_thread(provider.force_flush)
        finally:
            tracing.uninstall(app, provider)
            await app.state.databases.dispose()
    spans = [
        (span.name, resource.resource)
        for batch in received
        for resource in batch.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert any(name == "GET /api/v1/products" for name, _ in spans), [n for n, _ in spans]
    resource_attributes = {a.key: a.value.string_value for a in spans[0][1].attributes}
    assert resource_attributes["service.name"] == "keyturn"


def test_with_tracing_off_no_opentelemetry_sdk_or_instrumentation_is_loaded(tmp_path) -> None:
    script = """
import json, sys
from fastapi.testclient import TestClient
from keyturn.app import create_app
from keyturn.config import Settings
app = create_app(Settings(_env_file=None, data_dir=sys.argv[1], load_demo_catalog=False))
assert app.state.tracer_provider is None
with TestClient(app) as client:
    assert client.get("/health").status_code == 200
loaded = ("opentelemetry.sdk", "opentelemetry.instrumentation", "opentelemetry.exporter")
print(json.dumps(sorted(m for m in sys.modules if m.startswith((*loaded, "keyturn.tracing")))))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "KEYTURN_"))}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"KEYTURN_OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, "http://c:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "http://c:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/t"}, "http://c:4318/t"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"},
            None,
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, None),
    ],
)
def test_tracing_is_on_only_when_an_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name in list(os.environ):
        if name.startswith(("OTEL_", "KEYTURN_OTEL")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None).traces_endpoint() == expected  # type: ignore[call-arg]
