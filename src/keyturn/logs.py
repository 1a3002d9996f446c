"""Structured JSON logging (structlog) and the masking every log line uses for personal data."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, TextIO, cast

import structlog

_SENSITIVE_KEYS = re.compile(
    r"(token|password|secret|authorization|cookie|hash|^code$|verification_code|otp)",
    re.IGNORECASE,
)


def mask_phone(phone: str | None) -> str:
    """`+13128059851` → `+1312*****51`: enough to tell numbers apart, not to dial one."""
    if not phone:
        return ""
    keep_head = min(5, max(1, len(phone) - 6))
    return phone[:keep_head] + "*" * max(0, len(phone) - keep_head - 2) + phone[-2:]


def mask_email(email: str | None) -> str:
    """`alice@example.com` → `a***@example.com`."""
    if not email:
        return ""
    local, _, domain = email.partition("@")
    if not domain:
        return local[:1] + "***"
    return f"{local[:1]}***@{domain}"


# The request being answered (set by keyturn.middleware): every log line written while it runs
# carries it. Each request runs in a task of its own, so nothing leaks into the next one.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def _add_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _drop_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: a field named like a secret never reaches the log."""
    for key in list(event):
        if key != "event" and _SENSITIVE_KEYS.search(key):
            event[key] = "[redacted]"
    return event


_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+|%2B)\d{7,15}", re.IGNORECASE)


def mask_personal(text: str) -> str:
    """Free text (a traceback, a URL, a span attribute) with every email and phone number in
    it masked, and without PostgreSQL's `DETAIL:` lines (they repeat the row: `Key (email)=`)."""
    if "DETAIL:" in text:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("DETAIL:"))
    text = _EMAIL.sub(lambda m: mask_email(m.group().replace("%40", "@")), text)
    return _PHONE.sub(lambda m: mask_phone(m.group().replace("%2B", "+").replace("%2b", "+")), text)


def _safe_traceback(exc_info: Any) -> str:
    """A traceback without the values a driver quotes."""
    return mask_personal("".join(traceback.format_exception(*exc_info)))


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (it is swapped by test capture and reloaders)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=True)
    # httpx logs every request URL at INFO (a query may hold a phone or an email).
    for noisy in ("uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            _add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.ExceptionRenderer(_safe_traceback),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
