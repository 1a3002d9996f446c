"""Errors in the JobPsych API's own shape, `{success: false, message, error}`, next to
keyturn's stable `code` (and any extra fields). Validation failures are 400, as in the seed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from keyturn.errors import AppError, NotFound, TooManyRequests, Unauthorized

# The seed's own error codes where it had one; every other code is keyturn's, upper-cased.
SEED_CODES = {
    "request.invalid": "VALIDATION_ERROR",
    "auth.invalid_credentials": "INVALID_CREDENTIALS",
    "auth.unauthorized": "UNAUTHORIZED",
    "usage.quota_exceeded": "UPLOAD_LIMIT_REACHED",
    "jobpsych.upload_limit_reached": "UPLOAD_LIMIT_REACHED",
    "jobpsych.user_not_found": "USER_NOT_FOUND",
    "jobpsych.token_invalid": "TOKEN_VERIFICATION_FAILED",
}


class UserNotFound(NotFound):
    """No JobPsych user has this email (or the caller may not see theirs)."""

    code = "jobpsych.user_not_found"


class NotAService(Unauthorized):
    """An upload count by email was asked by neither its user nor a configured service."""

    code = "jobpsych.not_a_service"


class TokenInvalid(Unauthorized):
    """/verify-token: the token is forged, expired, or its session has ended."""

    code = "jobpsych.token_invalid"


class SecondFactorRequired(Unauthorized):
    """The password was right; the account has a second factor: finish at /auth/mfa/verify."""

    code = "jobpsych.second_factor_required"


class UploadLimitReached(TooManyRequests):
    """The user's `uploads` allowance is used up; the body carries the seed's counts."""

    code, title = "jobpsych.upload_limit_reached", "Upload limit reached"


def seed_error(
    status: int,
    code: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        **extra,
        "success": False,
        "message": detail,
        "error": SEED_CODES.get(code, code.upper().replace(".", "_")),
        "code": code,
        "detail": detail,
    }
    return JSONResponse(body, status_code=400 if status == 422 else status, headers=headers)


class JobPsychRoute(APIRoute):
    """A route whose errors, validation included, come back in the seed's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def seed_shaped(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as err:
                return seed_error(err.status, err.code, err.detail, err.headers, **err.extra)
            except RequestValidationError as err:
                fields = sorted(
                    {".".join(str(p) for p in e["loc"] if p != "body") for e in err.errors()}
                )
                return seed_error(
                    422, "request.invalid", f"Validation Error: {', '.join(fields)}", fields=fields
                )

        return seed_shaped
