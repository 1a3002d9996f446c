"""OpenTelemetry traces, on request (docs/tracing.md): incoming requests (FastAPI), database
calls (SQLAlchemy) and outgoing calls to providers (httpx, aiohttp — Twilio's client).

Imported by `create_app` only when an OTLP endpoint is configured: with tracing off, nothing of
the SDK or the instrumentations is loaded and no request pays for it.

No personal data leaves in a span: every span passes through `Scrubbed` on its way to the
exporter, which drops client addresses and query strings (`?to=<phone>`), masks any email or
phone number left in a name, attribute, event or status, and drops PostgreSQL's `DETAIL:` lines
from recorded exceptions. SQL statements carry placeholders only; bound parameters are never
recorded (and engines hide them from error messages).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from opentelemetry.util.types import AttributeValue

from keyturn import __version__
from keyturn.db import Databases
from keyturn.logs import mask_personal

# Who called: personal data under GDPR, and of no use to a trace.
_DROPPED = frozenset(
    {
        "client.address",
        "client.port",
        "net.peer.ip",
        "net.peer.port",
        "net.sock.peer.addr",
        "net.sock.peer.port",
        "http.client_ip",
        "url.query",
    }
)
# Attributes holding a URL or a request target: the query string goes.
_URLS = frozenset({"http.url", "http.target", "url.full", "http.request.url"})
# Probes and scrapes would drown the traces that matter.
_EXCLUDED_URLS = "/health$,/ready$,/metrics$"


def install(app: FastAPI, databases: Databases, exporter: SpanExporter) -> TracerProvider:
    """Trace `app`'s requests, `databases`' statements and outgoing HTTP calls into
    `exporter` (batched, in a background thread). Returns the provider (flush, shutdown)."""
    attributes = {"service.version": __version__}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "keyturn"
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(Scrubbed(exporter)))
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=_EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )
    SQLAlchemyInstrumentor().instrument(
        engines=[engine.sync_engine for engine in databases.engines.values()],
        skip_dep_check=True,  # declares "< 2.1"; works with 2.1 (tests/system/test_tracing.py)
        tracer_provider=provider,
    )
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    AioHttpClientInstrumentor().instrument(tracer_provider=provider, url_filter=_without_query)
    return provider


def uninstall(app: FastAPI, provider: TracerProvider) -> None:
    """Undo `install` (tests; the instrumentations of libraries are process-wide)."""
    FastAPIInstrumentor.uninstrument_app(app)
    SQLAlchemyInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    AioHttpClientInstrumentor().uninstrument()
    provider.shutdown()


def otlp_exporter(endpoint: str) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


def _without_query(url: Any) -> str:
    return str(url).split("?", 1)[0]


def _clean(key: str, value: AttributeValue) -> AttributeValue:
    if isinstance(value, str):
        if key in _URLS:
            value = _without_query(value)
        return mask_personal(value)
    if isinstance(value, Sequence) and value and isinstance(value[0], str):
        return [mask_personal(str(v)) for v in value]
    return value


def _attributes(attributes: Any) -> dict[str, AttributeValue]:
    return {k: _clean(k, v) for k, v in (attributes or {}).items() if k not in _DROPPED}


def scrub(span: ReadableSpan) -> ReadableSpan:
    """The span as it may leave the process: no client address, no query string, no email
    or phone number anywhere in it."""
    status = span.status
    if status.description:
        status = Status(status.status_code, mask_personal(status.description))
    return ReadableSpan(
        name=mask_personal(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_attributes(span.attributes),
        events=[Event(e.name, _attributes(e.attributes), e.timestamp) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class Scrubbed(SpanExporter):
    """Exports through `inner` what `scrub` leaves of each span (on the exporter's thread,
    not the request's)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrub(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
