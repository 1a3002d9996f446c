"""Errors the services raise. Each knows its HTTP status and a stable code.

The handler in `keyturn.problems` renders them as `application/problem+json` (RFC 9457).
Services never raise `HTTPException`; routers never build error bodies by hand.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base class: an error a client can act on."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        self.headers: dict[str, str] = {}
        super().__init__(self.detail)


class BadRequest(AppError):
    """The request is malformed in a way validation could not see."""

    status, code, title = 400, "bad_request", "Bad request"


class BodyTooLarge(AppError):
    """The request body is larger than the server accepts on this route."""

    status, code, title = 413, "request.too_large", "Request body too large"


class UnknownMarket(AppError):
    """`X-Market` names a market this deployment does not serve."""

    status, code, title = 400, "market.unknown", "Unknown market"


class Unauthorized(AppError):
    """No valid credentials: missing, expired, revoked or forged token, or wrong login."""

    status, code, title = 401, "auth.unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class Forbidden(AppError):
    """Authenticated, but not allowed (wrong role, wrong market, disabled account)."""

    status, code, title = 403, "auth.forbidden", "Forbidden"


class NotFound(AppError):
    """The resource does not exist, or belongs to someone else."""

    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    """The request conflicts with the current state (taken email, illegal transition)."""

    status, code, title = 409, "conflict", "Conflict"


class Invalid(AppError):
    """Well-formed input the rules refuse (weak password, empty cart, bad phone)."""

    status, code, title = 422, "invalid", "Unprocessable request"


class InvalidValue(Invalid):
    """The database refused a value validation let through (out of range, not storable)."""

    code = "request.invalid_value"


class TooManyRequests(AppError):
    """A rate limit or quota is exhausted; `retry_after` seconds until it may succeed."""

    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.headers["Retry-After"] = str(max(1, retry_after))


class Unavailable(AppError):
    """A dependency (database, Redis, SMS provider) cannot be reached; safe to retry."""

    status, code, title = 503, "unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 2, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.headers["Retry-After"] = str(max(1, retry_after))
