"""Renders every error as `application/problem+json` (RFC 9457) with a stable `code`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from keyturn.errors import AppError, InvalidValue, Unavailable
from keyturn.logs import get_logger
from keyturn.reader import UNREACHABLE_SQLSTATES

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
HTTP_CODES = {
    401: ("auth.unauthorized", "Not authenticated"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("request.too_large", "Request body too large"),
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    /,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The RFC 9457 body; extra fields can add to it but never replace the standard ones."""
    body = {
        **extra,
        "type": f"urn:keyturn:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def app_error_response(err: AppError) -> JSONResponse:
    return problem(err.status, err.code, err.title, err.detail, headers=err.headers, **err.extra)


async def _app_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, AppError)
    return app_error_response(err)


async def _validation_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
            "message": e["msg"],
            "type": e["type"],
        }
        for e in err.errors()
    ]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem(
        422, "request.invalid", "Invalid request", f"Invalid fields: {fields}", errors=errors
    )


async def _http_error(_: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, StarletteHTTPException)
    if isinstance(err.__cause__, AppError):  # raised while FastAPI read the body (a cap)
        return app_error_response(err.__cause__)
    code, title = HTTP_CODES.get(err.status_code, ("http_error", "HTTP error"))
    detail = err.detail if isinstance(err.detail, str) else title
    return problem(err.status_code, code, title, detail, headers=err.headers)


async def _database_down(_: Request, err: Exception) -> JSONResponse:
    log.warning("database_unavailable", error=type(err).__name__)
    return app_error_response(Unavailable("A database is unreachable; retry shortly."))


async def _database_error(request: Request, err: Exception) -> JSONResponse:
    """A driver error: unreachable → 503; a value it cannot store → 422; else a real bug.
    Engines hide SQL parameters, so nothing a client sent reaches the log from here."""
    assert isinstance(err, sa_exc.DBAPIError)
    sqlstate = str(getattr(err.orig, "sqlstate", None) or "")
    if (
        err.connection_invalidated
        or isinstance(err, sa_exc.OperationalError | sa_exc.InterfaceError)
        or sqlstate.startswith(UNREACHABLE_SQLSTATES)
    ):
        return await _database_down(request, err)
    if isinstance(err, sa_exc.DataError) or sqlstate.startswith("22"):
        log.warning("database_refused_value", error=type(err.orig).__name__, sqlstate=sqlstate)
        return app_error_response(InvalidValue("A value is out of range or cannot be stored."))
    raise err


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    for db_down in (sa_exc.TimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(db_down, _database_down)
