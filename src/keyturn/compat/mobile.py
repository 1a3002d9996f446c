"""The seed shop app (seeds 000-003) on /api/v1, when `KEYTURN_COMPAT` includes `mobile-v0`.

One pure-ASGI middleware, installed only then (no cost otherwise):
- every `user` object also carries the seed's `phone` and `name` (users.schemas);
- a phone sign-in (send-verification, verify-code) with neither `X-Market` nor a bearer token
  goes to the market that texts the number's country (+1 -> `us`, +996 -> `kg`), as the seed
  did, instead of the default market; a number of no market's country keeps the default
  (which refuses to text it, docs/sms-firewall.md);
- a JSON body sent as `application/x-www-form-urlencoded` (curl's `-d` without a content
  type, as in the seed's own test commands) is read as JSON. Bearer-token routes cannot be
  forged cross-site, and cookie refresh keeps its `Origin` check, so this opens no CSRF.
"""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyturn.config import API_PREFIX, Settings
from keyturn.users.schemas import SEED_USER_FIELDS

PHONE_SIGN_IN = {f"{API_PREFIX}/auth/send-verification", f"{API_PREFIX}/auth/verify-code"}
PEEK_LIMIT = 16 * 1024  # sign-in bodies are tiny; a larger one is left to the route
FORM = b"application/x-www-form-urlencoded"
_WITH_BODY = {"POST", "PUT", "PATCH"}


class MobileV0Middleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        # A market's own country first, then the others it texts (+1 Canada -> `us`).
        self.markets = {
            c: m.code for m in reversed(settings.markets) for c in m.sms_countries or []
        }
        self.markets |= {m.country: m.code for m in reversed(settings.markets)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in _WITH_BODY:  # reads (the hot path) only get the user fields
            scope, receive = await self._adapt(scope, receive)
        token = SEED_USER_FIELDS.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            SEED_USER_FIELDS.reset(token)

    async def _adapt(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if scope["path"].startswith(API_PREFIX) and content_type == FORM:
            scope = _with_header(scope, b"content-type", b"application/json")
        if (
            scope["path"] in PHONE_SIGN_IN
            and b"x-market" not in headers
            and b"authorization" not in headers
        ):
            scope, receive = await self._route_by_phone(scope, receive)
        return scope, receive

    async def _route_by_phone(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        body, messages = await _peek(receive)
        market = self.markets.get(_region(body) or "")
        if market is not None:
            scope = _with_header(scope, b"x-market", market.encode())

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return scope, replay


async def _peek(receive: Receive) -> tuple[bytes, list[Message]]:
    """Read the body's first messages (up to PEEK_LIMIT bytes), keeping them to replay."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body") or size > PEEK_LIMIT:
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return body, messages


def _region(body: bytes) -> str | None:
    """The country (ISO 3166 alpha-2) of the body's international `phone`, if any."""
    try:
        raw = json.loads(body).get("phone")
        return phonenumbers.region_code_for_number(phonenumbers.parse(str(raw), None))
    except (ValueError, AttributeError, phonenumbers.NumberParseException):
        return None


def _with_header(scope: Scope, name: bytes, value: bytes) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != name]
    return {**scope, "headers": [*headers, (name, value)]}


def document_user_fields(app: FastAPI) -> None:
    """Show `phone` and `name` on the user object in /docs (only installed when on)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # cached by FastAPI on app.openapi_schema
            for name in ("UserRead", "UserRead-Output"):
                user = schema.get("components", {}).get("schemas", {}).get(name)
                if user:
                    user["properties"]["phone"] = {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "description": "Seed app name of `phone_number` (mobile-v0)",
                    }
                    user["properties"]["name"] = {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "description": "Seed app name of `full_name` (mobile-v0)",
                    }
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
