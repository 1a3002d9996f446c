"""One pure-ASGI middleware: request id, access log, metrics, security headers, the request
body cap, and the last-resort 500 (generic body with the request id; the traceback only in
the log)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyturn.errors import BodyTooLarge
from keyturn.logs import get_logger
from keyturn.metrics import LATENCY, REQUESTS
from keyturn.problems import app_error_response, problem

log = get_logger("keyturn.http")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Static pages may be cached; API answers may not (docs/errors-and-logging.md).
_CACHEABLE_PREFIXES = ("/app/static/",)
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_size: int,
        streamed_bodies: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.streamed_bodies = streamed_bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, content_length = _scan_headers(scope)
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
            if self._capped(scope, content_length):
                await self._call_capped(scope, receive, send_with_headers, content_length)
            else:
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

    def _capped(self, scope: Scope, content_length: bytes | None) -> bool:
        if content_length is None and scope["method"] in _BODYLESS:
            return False
        return (scope["method"], scope["path"]) not in self.streamed_bodies

    async def _call_capped(
        self, scope: Scope, receive: Receive, send: Send, content_length: bytes | None
    ) -> None:
        """A declared length past the cap is refused before a byte is read; the server holds
        a declared length to its word. A body of undeclared length (chunked) is counted."""
        limit = self.max_body_size
        if content_length is None:
            await self.app(scope, _counting(receive, limit), send)
        elif not content_length.isdigit() or int(content_length) > limit:
            await app_error_response(_body_too_large(limit))(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _body_too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"Request bodies may be at most {limit} bytes.", max_size=limit)


def _counting(receive: Receive, limit: int) -> Receive:
    """`receive` that stops at the first byte past `limit`."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _body_too_large(limit)
        return message

    return receive_capped


def _scan_headers(scope: Scope) -> tuple[str, bytes | None]:
    """The request id (the client's if it is safe, else a new one) and `Content-Length`."""
    request_id = content_length = None
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                request_id = candidate
        elif key == b"content-length":
            content_length = value
    return request_id or uuid.uuid4().hex, content_length


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so metrics do not explode on ids."""
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
