"""One pure-ASGI middleware: request id, access log, metrics, security headers, CORS, the
request body cap, and the last-resort 500 (generic body with the request id; the traceback
only in the log).

It runs on every request, so it does the least it can: one pass over the request headers,
header values built once, the request counted in plain dicts (`metrics.RequestTally`), the
request id in a context variable of our own (`logs.REQUEST_ID`). Requests that carry an
`Origin` header go through Starlette's CORSMiddleware; the rest only get the `Vary: Origin` it
would have added.
"""

from __future__ import annotations

import os
import re
from time import perf_counter
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyturn.errors import BodyTooLarge
from keyturn.logs import REQUEST_ID, get_logger
from keyturn.metrics import REQUEST_TALLY
from keyturn.problems import app_error_response, problem

log = get_logger("keyturn.http")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Static pages may be cached; API answers may not (docs/errors-and-logging.md).
_CACHEABLE_PREFIXES = ("/app/static/",)
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_size: int,
        cors: dict[str, Any],
        access_log: bool,
        streamed_bodies: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **cors)
        self.access_log = access_log
        self.max_body_size = max_body_size
        self.streamed_bodies = streamed_bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, content_length, has_origin = _scan_headers(scope)
        request_id_set = REQUEST_ID.set(request_id)
        path: str = scope["path"]
        extra = (b"x-request-id", request_id.encode())
        # CORSMiddleware answers requests with an Origin; every other response gets the
        # `Vary: Origin` it would have added (but not our own 413s and 500s, as before).
        app, vary = (self.cors, False) if has_origin else (self.app, True)
        started = perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = _with_headers(message.get("headers", ()), extra, path, vary)
            await send(message)

        try:
            if self._capped(scope, content_length):
                limit = self.max_body_size
                if content_length is None:  # chunked: counted as it arrives
                    receive = _counting(receive, limit)
                elif not content_length.isdigit() or int(content_length) > limit:
                    vary = False
                    app = app_error_response(_body_too_large(limit))
            await app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled_error", method=scope["method"], path=path)
            if not response_started:
                vary = False
                response = problem(
                    500,
                    "internal",
                    "Internal server error",
                    "Something went wrong on our side; quote the request id if it persists.",
                    request_id=request_id,
                )
                await response(scope, receive, send_with_headers)
        finally:
            elapsed = perf_counter() - started
            route: Any = scope.get("route")
            REQUEST_TALLY.record(
                scope["method"], getattr(route, "path", None) or "unmatched", status, elapsed
            )
            if self.access_log:
                log.info(
                    "request",
                    method=scope["method"],
                    path=path,
                    status=status,
                    ms=round(elapsed * 1000, 1),
                )
            REQUEST_ID.reset(request_id_set)

    def _capped(self, scope: Scope, content_length: bytes | None) -> bool:
        if content_length is None and scope["method"] in _BODYLESS:
            return False
        return (scope["method"], scope["path"]) not in self.streamed_bodies


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


def _scan_headers(scope: Scope) -> tuple[str, bytes | None, bool]:
    """The request id (the client's if it is safe, else a new one), `Content-Length`, and
    whether an `Origin` is sent."""
    request_id = content_length = None
    has_origin = False
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                request_id = candidate
        elif key == b"content-length":
            content_length = value
        elif key == b"origin":
            has_origin = True
    return request_id or os.urandom(16).hex(), content_length, has_origin


def _with_headers(
    headers: Any, request_id: tuple[bytes, bytes], path: str, vary: bool
) -> list[tuple[bytes, bytes]]:
    headers = list(headers)
    nosniff = no_store = True
    varies = []
    for i, (key, _) in enumerate(headers):
        lowered = key.lower()
        if lowered == b"x-content-type-options":
            nosniff = False
        elif lowered == b"cache-control":
            no_store = False
        elif lowered == b"vary":
            varies.append(i)
    if vary:
        _vary_origin(headers, varies)
    headers.append(request_id)
    if nosniff:
        headers.append(_NOSNIFF)
    if no_store and not path.startswith(_CACHEABLE_PREFIXES):
        headers.append(_NO_STORE)
    return headers


def _vary_origin(headers: list[tuple[bytes, bytes]], varies: list[int]) -> None:
    """`Vary: Origin` merged into the response's own Vary, as CORSMiddleware writes it."""
    if not varies:
        headers.append((b"vary", b"Origin"))
        return
    merged = b", ".join(headers[i][1] for i in varies) + b", Origin"
    for i in reversed(varies[1:]):
        del headers[i]
    headers[varies[0]] = (b"vary", merged)
