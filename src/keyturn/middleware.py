"""One pure-ASGI middleware: request id, access log, metrics, security headers, and the
last-resort 500 (generic body with the request id; the traceback only in the log)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyturn.logs import get_logger
from keyturn.problems import problem

log = get_logger("keyturn.http")

REQUESTS = Counter("keyturn_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("keyturn_http_request_seconds", "HTTP request latency", ["method", "route"])

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Static pages may be cached; API answers may not (DESIGN §5).
_CACHEABLE_PREFIXES = ("/app/static/",)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        path: str = scope["path"]
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                if b"x-content-type-options" not in present:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in present and not path.startswith(_CACHEABLE_PREFIXES):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled_error", method=scope["method"], path=path)
            if not response_started:
                response = problem(
                    500,
                    "internal",
                    "Internal server error",
                    "Something went wrong on our side; quote the request id if it persists.",
                    request_id=request_id,
                )
                await response(scope, receive, send_with_headers)
        finally:
            route = _route_template(scope)
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=path,
                status=status,
                ms=round(elapsed * 1000, 1),
            )


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so metrics do not explode on ids."""
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
